"""The ``toy`` problem (CAGrad / Nash-MTL Fig. 1): losses and gradients at known points, the
exact Pareto front, seeds as starting points, options in the problem's name."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from paretokit.analysis import toy
from paretokit.errors import ParetokitError, ProblemError
from paretokit.methods import get_method
from paretokit.problems import get_problem
from paretokit.problems.toy import Toy, toy_loss, value_and_gradient
from paretokit.train import RunConfig, train_run
from paretokit.validation import problem_spec


def reference_losses(x: torch.Tensor, scale: float) -> torch.Tensor:
    """The formulas of analysis/toy.py's docstring as plain torch operations (autograd gives
    their gradient, with torch's conventions at the kinks)."""
    x1, x2 = x[..., 0], x[..., 1]
    l1 = (0.5 * (-x1 - 7) - torch.tanh(-x2)).abs().clamp(min=toy.LOWER).log() + 6
    l2 = (0.5 * (-x1 + 3) + torch.tanh(-x2) + 2).abs().clamp(min=toy.LOWER).log() + 6
    up, down = torch.tanh(x2 * 0.5).clamp(min=0), torch.tanh(-x2 * 0.5).clamp(min=0)
    q1 = ((-x1 + 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    q2 = ((-x1 - 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    return torch.stack([(up * l1 + down * q1) * scale, up * l2 + down * q2], dim=-1)


def test_values_at_hand_computed_points() -> None:
    # on the x₁ axis both blends vanish
    assert np.allclose(toy.losses(np.array([[0.0, 0.0], [5.0, 0.0]])), 0.0, atol=0)
    # far below the axis tanh(-x2/2) = 1 to double precision: the quadratics alone
    f = toy.losses(np.array([7.0, -80.0]), scale=1.0)
    assert f == pytest.approx([(0.1 * 72**2) / 10 - 20, (14**2 + 0.1 * 72**2) / 10 - 20], abs=1e-12)
    # far above it tanh(x2/2) = tanh(x2) = 1: the log terms alone, f1 scaled
    f = toy.losses(np.array([1.0, 80.0]), scale=0.1)
    assert f == pytest.approx(
        [0.1 * (math.log(abs(-4 + 1)) + 6), math.log(abs(1 - 1 + 2)) + 6], abs=1e-12
    )
    # at the first start: by hand with math
    x1, x2 = -8.5, 7.5
    t = math.tanh(x2 / 2)
    l1 = math.log(abs(0.5 * (-x1 - 7) - math.tanh(-x2))) + 6
    l2 = math.log(abs(0.5 * (-x1 + 3) + math.tanh(-x2) + 2)) + 6
    assert toy.losses(np.array([x1, x2])) == pytest.approx([0.1 * t * l1, t * l2], rel=1e-14)


def test_numpy_torch_and_python_agree_on_random_points() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-10, 10, (500, 2)), np.array(toy.STARTS)])
    for scale in (0.1, 1.0, 3.0):
        ref = reference_losses(torch.from_numpy(x), scale).numpy()
        assert np.allclose(toy.losses(x, scale), ref, rtol=1e-12, atol=1e-12)
        for k in (0, 1):
            ours = toy_loss(torch.from_numpy(x), k, scale).numpy()
            assert np.allclose(ours, ref[:, k], rtol=1e-12, atol=1e-12)


def test_gradients_match_autograd_and_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-10, 10, (300, 2)), np.array(toy.STARTS)])
    xt = torch.from_numpy(x).requires_grad_(True)
    for k in (0, 1):
        ref = torch.autograd.grad(reference_losses(xt, 0.1)[:, k].sum(), xt)[0].numpy()
        ours = np.array([value_and_gradient(a, b, k, 0.1)[1:] for a, b in x])
        assert np.allclose(ours, ref, rtol=1e-10, atol=1e-12), k
        # central differences of the NumPy losses away from the kinks (x2 = 0, |arg| = LOWER)
        h = 1e-6
        smooth = np.abs(x[:, 1]) > 1e-3
        for j in (0, 1):
            e = np.zeros(2)
            e[j] = h
            fd = (toy.losses(x + e)[:, k] - toy.losses(x - e)[:, k]) / (2 * h)
            assert np.allclose(ours[smooth, j], fd[smooth], rtol=1e-5, atol=1e-6), (k, j)


def test_gradient_at_origin_leaves_the_axis() -> None:
    """At x = (0, 0) (the second start) torch's clamp passes the blends' slopes ±1/2: both
    losses then fall as x₂ decreases (∂f/∂x₂ = (ℓ − q)/2 > 0), so a run leaves the axis."""
    for k, scale in ((0, 0.1), (1, 1.0)):
        value, g1, g2 = value_and_gradient(0.0, 0.0, k, scale)
        log_term, quad = math.log(3.5) + 6, (49 + 6.4) / 10 - 20
        assert value == 0.0 and g1 == 0.0
        assert g2 == pytest.approx(scale * 0.5 * (log_term - quad), rel=1e-14)


def test_problem_specs_seeds_and_model() -> None:
    problem = get_problem("toy")
    assert problem.name == "toy" and problem.task_names == ["f1", "f2"]
    assert problem.defaults.epochs * len(problem.splits()["train"]) == 35_000
    assert problem.defaults.batch_size == 1 and problem.defaults.lr == 1e-3
    for seed, start in enumerate(toy.STARTS):
        model = problem.build_model_for_seed(seed)
        assert model.trunk.x.tolist() == list(start)
        out = model(problem.splits()["val"].x)
        f = problem.losses(out, problem.splits()["val"].y)
        assert f.detach().numpy() == pytest.approx(toy.losses(np.array(start)), rel=1e-6)
    for bad in (5, 7):
        with pytest.raises(ProblemError, match="seed .* has no starting point"):
            problem.build_model_for_seed(bad)
    with pytest.raises(ProblemError, match="seed 5"):
        problem.check_seeds(range(6))


def test_scale_option_travels_in_the_name() -> None:
    assert problem_spec("toy(scale=1)") == ("toy", {"scale": 1})
    assert problem_spec("toy") == ("toy", {})
    p = get_problem("toy(scale=1)")
    assert p.name == "toy(scale=1.0)" and toy.scale_of(p.name) == 1.0
    assert get_problem(p.name).scale == 1.0  # the stored name builds the same problem
    assert toy.scale_of("toy") == 0.1 and toy.scale_of("qm9") is None
    with pytest.raises(ProblemError, match="takes the options scale"):
        get_problem("toy(scal=1)")
    for bad in ("toy(scale=0)", "toy(scale=-1)", "toy(scale=nan)"):
        with pytest.raises(ParetokitError, match="scale must be"):
            get_problem(bad)
    with pytest.raises(ParetokitError, match="key=value"):
        problem_spec("toy(scale)")
    assert isinstance(get_problem("toy(scale=0.5)"), Toy)


# --- the exact front ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dense_sample() -> np.ndarray:
    """Random points over the whole plane region of interest, and many near the Pareto set."""
    rng = np.random.default_rng(2)
    wide = rng.uniform(-12, 12, (400_000, 2))
    near = np.column_stack([rng.uniform(-8, 8, 400_000), rng.uniform(-9, -7.8, 400_000)])
    return np.concatenate([wide, near, toy.pareto_set(rng.uniform(0, 1, 20_000))])


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_every_front_point_is_non_dominated(scale: float, dense_sample: np.ndarray) -> None:
    """No sampled point dominates a front point. The front runs with f1 rising and f2
    falling, so among the front points a sample f could dominate (those with p1 ≥ f1) the
    first one has the largest f2: f dominates some front point exactly when it dominates
    that one."""
    p = toy.front(scale, 2001).points
    assert np.all(np.diff(p[:, 0]) > 0) and np.all(np.diff(p[:, 1]) < 0)
    f = toy.losses(dense_sample, scale)
    # better by more than tol (far above the front's precision) in one loss, no worse in the
    # other: no slack on the "no worse" side, where the front is flat near its ends (f1 varies
    # by 1e-10 where f2 varies by 1e-5)
    tol = 1e-9
    first = np.searchsorted(p[:, 0], f[:, 0])
    inside = first < len(p)
    q = p[first[inside]]
    better = (f[inside, 1] <= q[:, 1]) & (
        (f[inside, 0] < q[:, 0] - tol) | (f[inside, 1] < q[:, 1] - tol)
    )
    assert not better.any(), f[inside][better][:3]


def test_front_endpoints_are_the_single_task_optima(dense_sample: np.ndarray) -> None:
    front = toy.front(1.0)
    f = toy.losses(dense_sample, 1.0)
    assert front.x[0] == pytest.approx([7.0, -8.43446], abs=1e-5)
    assert front.x[-1] == pytest.approx([-7.0, -8.43446], abs=1e-5)
    assert front.points[0, 0] <= f[:, 0].min() + 1e-12  # f1's minimum over the whole sample
    assert front.points[-1, 1] <= f[:, 1].min() + 1e-12
    assert front.points[0] == pytest.approx(front.points[-1][::-1], abs=1e-12)  # symmetry
    assert front.points[0] == pytest.approx([-19.98942514, -0.39793950], abs=1e-8)
    # the middle point: x₂*(½) is the reference's −8.3552
    mid = toy.pareto_set(np.array([0.5]))[0]
    assert mid == pytest.approx([0.0, -8.3552], abs=1e-4)


def test_front_is_stationary_and_convex() -> None:
    lam = np.linspace(0, 1, 201)
    x = toy.pareto_set(lam)
    # φ'(x₂*) = 0 to rounding: the weighted sum is stationary in x₂
    a = 19.6 * lam * (1 - lam) - 20
    assert np.abs(toy._phi_slope(x[:, 1], a)).max() < 1e-12
    # λ∇F₁ + (1 − λ)∇F₂ = 0 (Pareto stationarity), with the hand-derived gradients
    for (x1, x2), w in zip(x, lam):
        g = [np.array(value_and_gradient(x1, x2, k, 1.0)[1:]) for k in (0, 1)]
        assert np.abs(w * g[0] + (1 - w) * g[1]).max() < 1e-9
    # convex: the slopes of the front's chords rise monotonically from f1's end to f2's
    p = toy.front(0.1, 2001).points
    assert np.all(np.diff(p[:, 0]) > 0) and np.all(np.diff(p[:, 1]) < 0)
    slopes = np.diff(p[:, 1]) / np.diff(p[:, 0])
    assert np.all(np.diff(slopes) > 0)


def test_front_refuses_bad_arguments() -> None:
    with pytest.raises(ParetokitError, match="scale"):
        toy.front(0.0)
    with pytest.raises(ParetokitError, match="at least 2"):
        toy.front(0.1, 1)


# --- training ------------------------------------------------------------------------------


def test_ls_run_from_the_origin_moves_toward_the_front() -> None:
    problem = get_problem("toy")
    cfg = RunConfig(epochs=2, batch_size=1, lr=1e-3, seed=1, device=torch.device("cpu"))
    result = train_run(problem, get_method("ls", 2), cfg)
    start = toy.losses(np.array(toy.STARTS[1]))
    end = np.array(result.metrics["val"])
    assert result.steps == 2000
    assert result.metrics["val"] == result.metrics["test"]  # val and test: the end point
    assert np.all(end < start - 1.0 * np.array([0.1, 1.0]))  # both losses fell by a lot


# --- trajectories ----------------------------------------------------------------------------


def test_run_records_its_path_exactly_paired() -> None:
    """At most trajectory_points + 1 points; point i is (x_t, f(x_t)): the recorded losses
    are the toy's losses at the recorded positions; the path starts at the seed's start and
    ends at the end point that val/test report."""
    problem = get_problem("toy")
    cfg = RunConfig(epochs=1, batch_size=1, lr=1e-3, seed=3, device=torch.device("cpu"))
    result = train_run(problem, get_method("mgda", 2), cfg)
    path = result.trajectory
    assert path is not None and len(path["step"]) <= problem.trajectory_points + 1
    assert path["step"][0] == 0 and path["step"][-1] == result.steps == 1000
    assert np.all(np.diff(path["step"]) > 0)
    assert path["x"][0] == list(toy.STARTS[3])
    x, f = np.array(path["x"]), np.array(path["loss"])
    assert np.allclose(f, toy.losses(x), rtol=1e-5, atol=1e-6)  # float32 training
    assert path["loss"][-1] == pytest.approx(result.metrics["val"], rel=1e-6)
    assert np.linalg.norm(x[-1] - x[0]) > 0.5  # it moved (~1e-3 per Adam step)


def test_population_paths_match_sequential_runs() -> None:
    """An LS sweep population's members record the paths their sequential runs record."""
    from paretokit.methods._fixed import FixedWeights
    from paretokit.train import train_population

    problem = get_problem("toy")
    cfg = RunConfig(epochs=1, batch_size=2, lr=1e-3, seed=0, device=torch.device("cpu"))
    weights = [[0.2, 0.8], [0.9, 0.1]]
    seeds = [0, 4]
    members = train_population(problem, weights, cfg, seeds=seeds)
    for w, s, member in zip(weights, seeds, members):
        alone = train_run(
            problem, FixedWeights(2, weights=w), RunConfig(**{**cfg.__dict__, "seed": s})
        )
        assert member.trajectory["step"] == alone.trajectory["step"]
        assert np.allclose(member.trajectory["x"], alone.trajectory["x"], rtol=1e-5, atol=1e-5)
        assert np.allclose(
            member.trajectory["loss"], alone.trajectory["loss"], rtol=1e-5, atol=1e-5
        )


def test_problems_without_paths_record_none() -> None:
    problem = get_problem("synthetic", 2)
    problem_small = type(problem)(tasks=2, n_samples=200)
    cfg = RunConfig(epochs=1, batch_size=64, lr=1e-3, seed=0, device=torch.device("cpu"))
    assert train_run(problem_small, get_method("ls", 2), cfg).trajectory is None


def test_the_toy_runs_its_five_starts_unless_told_otherwise(tmp_path) -> None:
    """Seeds None means the problem's default: all five starts for the toy (sweep, compare,
    study file, dry run), paretokit's 3 elsewhere; an explicit count is honoured and checked."""
    from typer.testing import CliRunner

    from paretokit.cli import app
    from paretokit.compare import CompareConfig, plan_compare
    from paretokit.study import SweepConfig
    from paretokit.study.loop import _plan
    from paretokit.studyfile import load_study
    from paretokit.validation import seed_count

    assert get_problem("toy").defaults.seeds == 5 and get_problem("multidigits").defaults.seeds == 3
    runs = plan_compare(CompareConfig(["ls"], problem="toy", device="cpu")).runs
    assert sorted({r.seed for r in runs}) == [0, 1, 2, 3, 4] and len(runs) == 3 * 5
    two = plan_compare(CompareConfig(["ls"], problem="toy", seeds=2, device="cpu")).runs
    assert sorted({r.seed for r in two}) == [0, 1]
    with pytest.raises(ProblemError, match="seed 5"):
        plan_compare(CompareConfig(["ls"], problem="toy", seeds=6, device="cpu"))
    sweep = dict(trials=1, out=tmp_path / "r.parquet", device="cpu", storage="sqlite://")
    assert _plan(SweepConfig(problem="toy", **sweep)).config.seeds == 5
    assert _plan(SweepConfig(problem="multidigits", **sweep)).config.seeds == 3
    with pytest.raises(ParetokitError, match="--seeds must be at least 1"):
        _plan(SweepConfig(problem="toy", seeds=0, **sweep))
    with pytest.raises(ParetokitError, match="number of seeds"):
        seed_count(get_problem("toy").defaults, 0)
    study = tmp_path / "t.toml"
    study.write_text(
        'problem = "toy"\n[train]\nepochs = 1\n[sweep]\ntrials = 2\n[methods]\nls = {}\n'
    )
    assert load_study(study).seeds == 5
    dry = CliRunner().invoke(app, ["study", str(study), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 trials × 5 seeds = 10 runs" in dry.stdout and "ls: 5 runs to train" in dry.stdout
    assert "stl: 10 runs to train" in dry.stdout
