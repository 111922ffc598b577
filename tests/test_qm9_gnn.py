"""``qm9 --model gnn``: the molecular graphs read off the geometry (bonds, bond types, PyG's
node and edge features), batches of complete graphs, and Gilmer et al.'s MPNN trunk training
on a few molecules on the CPU (forward, backward, the loss going down, a method's per-task
gradients through it).

The graphs are built from the first 220 molecules of qm9pack's first CSV file (in a temporary
folder), so no test computes the cache of all 130,831 molecules.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from paretokit.errors import ProblemError
from paretokit.methods import get_method
from paretokit.problems import Split, get_problem, qm9, qm9_graphs
from paretokit.problems.qm9_graphs import AROMATIC, DOUBLE, SINGLE, TRIPLE
from paretokit.train import RunConfig, train_run

pytest.importorskip("torch_geometric")  # the `gnn` extra, in the `test` extra too


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """Graph arrays of QM9 molecules 1–220 (methane … benzene, index 214)."""
    directory = tmp_path_factory.mktemp("qm9pack_small")
    for name, rows in zip(qm9.DATA_FILES, (220, 1, 1)):
        pd.read_csv(qm9.data_dir() / name, nrows=rows).to_csv(directory / name, index=False)
    molecules = qm9.read_molecules(directory)
    keep = molecules["index"] <= 220
    arrays = qm9_graphs.compute_graphs({k: v[keep] for k, v in molecules.items()})
    arrays["index"] = molecules["index"][keep]
    return arrays


def molecule(arrays: dict[str, np.ndarray], qm9_index: int) -> dict[str, np.ndarray]:
    """One molecule's atoms (type, features) and bonds (slot pairs, type)."""
    g = int(np.flatnonzero(arrays["index"] == qm9_index)[0])
    a0, b0 = arrays["n_atoms"][:g].sum(), arrays["n_bonds"][:g].sum()
    atoms = slice(a0, a0 + arrays["n_atoms"][g])
    bonds = slice(b0, b0 + arrays["n_bonds"][g])
    return {
        "type": arrays["atom_type"][atoms],
        "x": qm9_graphs.node_features(arrays)[atoms],
        "bond": arrays["bond"][bonds],
        "bond_type": arrays["bond_type"][bonds],
    }


def heavy_bonds(m: dict[str, np.ndarray]) -> list[int]:
    heavy = (m["type"][m["bond"][:, 0]] > 0) & (m["type"][m["bond"][:, 1]] > 0)
    return sorted(m["bond_type"][heavy].tolist())


def test_bonds_and_types_of_known_molecules(small) -> None:
    methane, water = molecule(small, 1), molecule(small, 3)
    assert len(methane["bond"]) == 4 and (methane["bond_type"] == SINGLE).all()
    assert len(water["bond"]) == 2  # O–H twice, no H–H bond
    assert heavy_bonds(molecule(small, 4)) == [TRIPLE]  # acetylene C#C
    assert heavy_bonds(molecule(small, 5)) == [TRIPLE]  # hydrogen cyanide C#N
    assert heavy_bonds(molecule(small, 6)) == [DOUBLE]  # formaldehyde C=O
    assert heavy_bonds(molecule(small, 7)) == [SINGLE]  # ethane C–C
    assert heavy_bonds(molecule(small, 214)) == [AROMATIC] * 6  # benzene
    # every molecule's bonds connect it: at least n_atoms − 1 bonds
    assert (small["n_bonds"] >= small["n_atoms"] - 1).all()


def test_node_features_follow_pyg_qm9(small) -> None:
    # columns: one-hot H C N O F, atomic number, aromatic, sp, sp2, sp3, bonded hydrogens
    carbon_of = {1: [0, 1, 0, 0, 0, 6, 0, 0, 0, 1, 4], 4: [0, 1, 0, 0, 0, 6, 0, 1, 0, 0, 1],
                 6: [0, 1, 0, 0, 0, 6, 0, 0, 1, 0, 2], 214: [0, 1, 0, 0, 0, 6, 1, 0, 1, 0, 1]}  # fmt: skip
    for index, expected in carbon_of.items():
        m = molecule(small, index)
        np.testing.assert_array_equal(m["x"][m["type"] == 1][0], expected)
    hydrogen = molecule(small, 1)["x"][molecule(small, 1)["type"] == 0][0]
    np.testing.assert_array_equal(hydrogen, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])


def test_bond_types_by_nearest_length_and_saturation() -> None:
    c = np.full(5, qm9_graphs.C)
    d = np.array([1.20, 1.33, 1.39, 1.53, 1.39])
    saturated = np.array([False, False, False, False, True])
    assert qm9_graphs.bond_types(c, c, d, saturated).tolist() == [
        TRIPLE, DOUBLE, AROMATIC, SINGLE, SINGLE,
    ]  # fmt: skip
    h = np.full(2, qm9_graphs.H)
    assert qm9_graphs.bond_types(h, c[:2], np.array([1.09, 1.2]), np.zeros(2, bool)).tolist() == [
        SINGLE, SINGLE,
    ]  # fmt: skip


def test_batches_are_complete_graphs_with_distances(small) -> None:
    graphs = qm9_graphs.molecule_graphs(small)
    assert len(graphs) == len(small["n_atoms"])
    idx = torch.tensor([5, 0, 213, 6])
    batch = graphs[idx]
    n = torch.as_tensor(small["n_atoms"])[idx]
    assert batch.num_graphs == 4 and batch.x.shape == (int(n.sum()), 11)
    assert batch.edge_index.shape == (2, int((n * (n - 1)).sum()))
    assert batch.edge_attr.shape == (batch.edge_index.shape[1], 5)
    src, dst = batch.edge_index
    assert (src != dst).all() and (batch.batch[src] == batch.batch[dst]).all()
    assert torch.equal(torch.bincount(batch.batch), n)
    # distances from the positions; bond one-hots symmetric, one per bonded pair and direction
    pos = graphs.pos[qm9_graphs._ranges(graphs.atom_ptr, idx)]
    torch.testing.assert_close(batch.edge_attr[:, 4], (pos[src] - pos[dst]).norm(dim=1))
    assert int(batch.edge_attr[:, :4].sum()) == 2 * int(
        torch.as_tensor(small["n_bonds"])[idx].sum()
    )
    # slices and index tensors give the same batch; subsets repack the molecules
    sliced, listed = graphs[2:5], graphs[torch.arange(2, 5)]
    assert all(torch.equal(getattr(sliced, f), getattr(listed, f))
               for f in ("x", "edge_index", "edge_attr", "batch"))  # fmt: skip
    sub = graphs.subset(np.array([213, 6]))
    assert torch.equal(sub[torch.arange(2)].edge_attr, graphs[torch.tensor([213, 6])].edge_attr)


def test_mpnn_embeds_each_molecule_on_its_own(small) -> None:
    problem = get_problem("qm9", 3, model="gnn")
    torch.manual_seed(0)
    model = problem.build_model().eval()
    graphs = qm9_graphs.molecule_graphs(small)
    with torch.no_grad():
        together = model.representation(graphs[torch.tensor([3, 213, 50])])
        alone = model.representation(graphs[torch.tensor([213])])
    assert together.shape == (3, 64)
    torch.testing.assert_close(together[1:2], alone, rtol=1e-5, atol=1e-6)


def small_problem(small):
    """qm9 --model gnn on the 40 smallest molecules (QM9 indices 1–41: up to 12 atoms, so that
    a step takes milliseconds): 24 train, 8 val, 8 test."""
    problem = get_problem("qm9", 3, model="gnn")
    graphs = qm9_graphs.molecule_graphs(small)
    y = torch.from_numpy(small["y"][:, :3].astype(np.float32))
    y = (y - y[:24].mean(0)) / y[:24].std(0)
    parts = {"train": np.arange(24), "val": np.arange(24, 32), "test": np.arange(32, 40)}
    return problem, {k: Split(graphs.subset(v), y[v]) for k, v in parts.items()}  # type: ignore[arg-type]


def test_gnn_trains_on_a_few_molecules(small) -> None:
    problem, splits = small_problem(small)
    torch.manual_seed(0)
    model = problem.build_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = splits["train"]
    batch = torch.arange(12)
    losses = []
    for _ in range(30):
        loss = problem.losses(model(train.x[batch]), train.y[batch]).sum()
        opt.zero_grad()
        loss.backward()
        assert all(p.grad is not None for p in model.trunk.parameters())
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.mark.parametrize("method", ["ls", "mgda"])
def test_gnn_through_the_engine(small, method: str) -> None:
    problem, splits = small_problem(small)
    config = RunConfig(epochs=1, batch_size=8, lr=1e-3, seed=0, device=torch.device("cpu"))
    result = train_run(problem, get_method(method, 3), config, splits=splits)
    again = train_run(problem, get_method(method, 3), config, splits=splits)
    assert result.steps == 3 and all(np.isfinite(result.metrics["test"]))
    assert result.metrics == again.metrics


def test_gnn_defaults_and_setting() -> None:
    problem = get_problem("qm9", model="gnn")
    assert problem.model == "gnn" and problem.defaults == qm9.GNN_DEFAULTS
    assert problem.eval_batch_size == qm9.GNN_EVAL_BATCH
    assert get_problem("qm9").defaults == qm9.QM9.defaults and get_problem("qm9").model == "mlp"


def test_missing_torch_geometric_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch_geometric", None)  # import now raises ImportError
    with pytest.raises(ProblemError, match=r"paretokit\[gnn\]"):
        get_problem("qm9", model="gnn")


def test_graph_cache_name_changes_with_the_data(tmp_path: Path) -> None:
    for name in qm9.DATA_FILES:
        (tmp_path / name).write_text("x")
    first = qm9_graphs.cache_name(tmp_path, qm9.DATA_FILES)
    (tmp_path / qm9.DATA_FILES[0]).write_text("xy")
    assert qm9_graphs.cache_name(tmp_path, qm9.DATA_FILES) != first
    assert first.startswith(f"qm9-graphs-{qm9_graphs.GRAPH_VERSION}-")
