"""Figures: every view renders for K = 2, 3, 4 with mixed metric directions, says what it
draws (SVG keeps its text), and refuses bad options with one clear message."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.errors import ParetokitError
from paretokit.plot import plot_frontier
from paretokit.results import ResultsMeta, RunRecord, TaskMeta, append_results, read_results

runner = CliRunner()


def make_file(path, k: int, stl: bool = True):
    """A results file with K tasks (odd tasks accuracy ↑, even tasks MAE ↓): 12 sweep
    points, methods 'alpha' and 'beta' with 3 seeds, and optionally STL runs."""
    names = [f"t{j}" for j in range(k)]
    tasks = tuple(
        TaskMeta(n, "accuracy" if j % 2 else "mae", bool(j % 2), "" if j % 2 else "eV")
        for j, n in enumerate(names)
    )
    meta = ResultsMeta("toy", tasks)
    rng = np.random.default_rng(k)

    def rec(run_id, kind, method, m, seed=0, trial=-1):
        return RunRecord(
            "s",
            "toy",
            run_id,
            kind,
            method,
            seed,
            names,
            1,
            8,
            0.1,
            "cpu",
            weights=[1 / k] * k,
            metrics={"val": m, "test": m},
            losses={"val": m, "test": m},
            train_seconds=1.0,
            step_ms=1.0,
            trial=trial,
        )

    rows = []
    for i, w in enumerate(rng.dirichlet(np.ones(k), size=12)):
        m = [float(0.5 + w[j]) if j % 2 else float(1.5 - w[j]) for j in range(k)]
        rows += rec(f"sw{i}", "sweep", "sweep", m, trial=i).rows()
    for label, shift in (("alpha", 0.05), ("beta", -0.1)):
        for seed in range(3):
            m = [0.8 + shift + 0.01 * seed if j % 2 else 1.1 - shift for j in range(k)]
            rows += rec(f"{label}{seed}", "method", label, m, seed=seed).rows()
    if stl:
        for j, n in enumerate(names):
            rows += rec(f"stl{j}", "stl", f"stl:{n}", [1.4 if j % 2 else 0.9] * k).rows()
    append_results(path, rows, meta)
    return read_results(path)


@pytest.mark.parametrize(
    "k, kwargs, expected",
    [
        (
            2,
            {},
            ["sweep frontier", "STL", "alpha (3 seeds): within noise", "t0 MAE [eV] (↓ better)"],
        ),
        (2, {"view": "parallel"}, ["worst", "best", "beta (3 seeds)"]),
        (3, {}, ["pairwise sweep frontier", "t1 ACCURACY (↑ better)"]),
        (3, {"three_d": True}, ["3-D view of the front"]),
        (4, {}, ["worst", "best", "t3 ACCURACY", "sweep front point"]),
        (4, {"view": "pairs", "title": "my title"}, ["my title", "pairwise sweep frontier"]),
    ],
)
def test_every_view_renders_and_labels(tmp_path, k, kwargs, expected):
    res = make_file(tmp_path / "r.parquet", k)
    out = plot_frontier(res, tmp_path / "f.svg", **kwargs)
    svg = out.read_text()
    for text in expected:
        assert text in svg, text
    assert "3-D view" not in svg or kwargs.get("three_d")


def test_png_dpi_and_pdf(tmp_path):
    res = make_file(tmp_path / "r.parquet", 2, stl=False)
    small = plot_frontier(res, tmp_path / "a.png", dpi=50).read_bytes()
    large = plot_frontier(res, tmp_path / "b.png", dpi=200).read_bytes()
    assert small[:8] == b"\x89PNG\r\n\x1a\n" and len(large) > 2 * len(small)
    # PNG header: width is bytes 16..20 — scales with the dpi
    width = lambda b: int.from_bytes(b[16:20], "big")  # noqa: E731
    assert width(large) == pytest.approx(4 * width(small), rel=0.05)
    assert plot_frontier(res, tmp_path / "c.pdf").read_bytes()[:4] == b"%PDF"


def test_png_is_a_palette_image_of_the_same_picture(tmp_path):
    """save_figure stores a PNG as a 256-colour palette image: matplotlib's own RGBA render,
    same size and dpi, each pixel within a few levels of it on average (median cut keeps the
    few colours of lines on white), and fewer bytes; nothing is left beside it."""
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    from paretokit.plot_file import save_figure

    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    for k in range(6):
        ax.plot(np.sin(np.linspace(0, 6, 200) + k), lw=1.5, alpha=0.6, label=f"line {k}")
    ax.legend()
    out = save_figure(fig, tmp_path / "f.png", dpi=100)
    reference = io.BytesIO()
    fig.savefig(reference, format="png", dpi=100)
    mine, theirs = Image.open(out), Image.open(reference)
    assert mine.mode == "P" and mine.size == theirs.size == (400, 300)
    assert mine.info["dpi"] == pytest.approx((100, 100), abs=0.01)
    diff = np.abs(
        np.asarray(mine.convert("RGB"), dtype=int) - np.asarray(theirs.convert("RGB"), dtype=int)
    )
    assert diff.mean() < 1.0 and np.percentile(diff, 99) < 32
    assert out.stat().st_size < 0.6 * len(reference.getvalue())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]  # no temporary file left


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"view": "cube"}, "view must be one of auto, pairs, parallel"),
        ({"three_d": True}, "the 3-D view needs exactly 3 tasks"),
        ({"dpi": 5}, "dpi must be between 20 and 1200"),
    ],
)
def test_bad_options(tmp_path, kwargs, fragment):
    res = make_file(tmp_path / "r.parquet", 2)
    with pytest.raises(ParetokitError, match=fragment):
        plot_frontier(res, tmp_path / "f.png", **kwargs)


def test_cli_plot_options(tmp_path):
    make_file(tmp_path / "r.parquet", 3)
    fig = tmp_path / "f.svg"
    args = ["plot", str(tmp_path / "r.parquet"), "--out", str(fig), "--3d", "--title", "T3"]
    result = runner.invoke(app, [*args, "--dpi", "80"])
    assert result.exit_code == 0, result.output
    assert "T3" in fig.read_text() and "3-D view of the front" in fig.read_text()
    bad = runner.invoke(app, ["plot", str(tmp_path / "r.parquet"), "--view", "cube"])
    assert bad.exit_code == 2 and "--view" in bad.stderr  # a usage error: not a choice


def test_one_training_setting_per_figure(tmp_path):
    res = make_file(tmp_path / "r.parquet", 2)
    frame = res.frame.copy()
    frame["lr"] = 0.5
    frame["run_id"] = frame["run_id"] + "-lr0.5"
    from paretokit.results import append_results

    append_results(tmp_path / "r.parquet", frame.to_dict("records"), res.meta)
    both = read_results(tmp_path / "r.parquet")
    with pytest.raises(ParetokitError, match="2 training settings"):
        plot_frontier(both, tmp_path / "f.svg")
    plot_frontier(both, tmp_path / "f.svg", setting={"lr": 0.5})
    assert "alpha (3 seeds)" in (tmp_path / "f.svg").read_text()  # not 6: one setting only
    with pytest.raises(ParetokitError, match="no runs with"):
        plot_frontier(both, tmp_path / "f.svg", setting={"lr": 0.7})
    result = runner.invoke(
        app, ["plot", str(tmp_path / "r.parquet"), "--out", str(tmp_path / "g.png")]
    )
    assert result.exit_code == 1 and "choose one by its epochs, batch size and lr" in result.stderr
    ok = ["plot", str(tmp_path / "r.parquet"), "--out", str(tmp_path / "g.png"), "--lr", "0.5"]
    assert runner.invoke(app, ok).exit_code == 0


def test_the_module_leaves_the_backend_alone():
    """Drawing never imports pyplot, so it cannot switch a notebook's backend."""
    import subprocess
    import sys

    code = (
        "import sys, paretokit.plot; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
