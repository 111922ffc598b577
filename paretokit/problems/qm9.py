"""QM9: eleven quantum-chemical properties of 130,831 small organic molecules.

Data: QM9 (Ramakrishnan, Dral, Rupp & von Lilienfeld, "Quantum chemistry structures and
properties of 134 kilo molecules", Scientific Data 1, 140022, 2014; figshare
doi:10.6084/m9.figshare.c.978904): the 130,831 molecules left after the authors' 3,054
uncharacterized ones are removed, read from the CSV files that the ``qm9pack`` package installs.
``qm9pack`` is never imported (that breaks on recent setuptools); only its data files are read.

Tasks: the 11 targets of Nash-MTL (Navon et al., ICML 2022, §6.2 — PyTorch Geometric's ``QM9``
targets 0–10), in that order, energies converted from hartree to eV with PyTorch Geometric's
factor. The paper trains a graph network on a 110k/10k/10k split; here a fixed, seeded split of
the same sizes is used and the default model is an MLP on per-molecule descriptors of the 3-D
geometry, computed once and cached on disk, so that a weight sweep fits on a CPU. ``model="gnn"``
trains the paper's model instead: the message-passing network of Gilmer et al. 2017 on the
molecular graphs (:mod:`paretokit.problems.mpnn`, :mod:`paretokit.problems.qm9_graphs`), with
Nash-MTL's batch size and learning rate; it is meant for a GPU.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from paretokit.errors import ProblemError
from paretokit.problems._base import Problem, Split, TaskSpec, TrainDefaults
from paretokit.problems._cache import load_or_compute

Progress = Callable[[str, float], None]  # progress(stage, fraction done in [0, 1])

HARTREE_TO_EV = 27.211386246  # PyTorch Geometric's HAR2EV, as used for Nash-MTL's QM9
BOHR_PER_ANGSTROM = 1.0 / 0.52917721092
N_TEST, N_VAL = 10_000, 10_000
SPLIT_SEED = 20140805  # fixed: the split never depends on a run's seed
HIDDEN = 256
DATA_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
# --model gnn: Nash-MTL's QM9 training (300 epochs, batch 120, Adam lr 1e-3; their
# ReduceLROnPlateau schedule is not reproduced), evaluated 256 molecules at a time (the
# edge network makes a 64×64 matrix per edge of the complete graphs)
GNN_DEFAULTS = TrainDefaults(epochs=300, batch_size=120, lr=1e-3)
GNN_EVAL_BATCH = 256

# --- descriptors ------------------------------------------------------------------------------
FEATURE_VERSION = "v1"  # bump when the descriptors change: old cache entries are then ignored
ELEMENTS = "HCNOF"
CHARGES = np.array([1.0, 6.0, 7.0, 8.0, 9.0])
MASSES = np.array([1.008, 12.011, 14.007, 15.999, 18.998])
MAX_ATOMS = 29
PAIRS = [(a, b) for a in range(5) for b in range(a, 5)]  # 15 unordered element pairs
PAIR_INDEX = np.array([[PAIRS.index((min(a, b), max(a, b))) for b in range(5)] for a in range(5)])
N_BINS = 16
LOG_D_MIN, LOG_D_MAX = np.log(0.9), np.log(8.0)  # Å; bin centres evenly spaced in log distance
N_FEATURES = 5 + 1 + MAX_ATOMS + len(PAIRS) * (N_BINS + 1) + 5 + 1 + 3  # 299

# (name, unit, factor from the CSV's unit, description, CSV column), in Nash-MTL's order
_TARGETS: tuple[tuple[str, str, float, str, str], ...] = (
    ("mu", "D", 1.0, "dipole moment", "Dipole_debye"),
    ("alpha", "a₀³", 1.0, "isotropic polarizability", "Polarizability_bohr3"),
    ("homo", "eV", HARTREE_TO_EV, "HOMO energy", "HOMO_au"),
    ("lumo", "eV", HARTREE_TO_EV, "LUMO energy", "LUMO_au"),
    ("r2", "a₀²", 1.0, "electronic spatial extent <R²>", "R2_bohr2"),
    ("zpve", "eV", HARTREE_TO_EV, "zero-point vibrational energy", "ZPVE_au"),
    ("u0", "eV", HARTREE_TO_EV, "internal energy at 0 K", "InternalEnergy_0K_au"),
    ("u", "eV", HARTREE_TO_EV, "internal energy at 298.15 K", "InternalEnergy_298K_au"),
    ("h", "eV", HARTREE_TO_EV, "enthalpy at 298.15 K", "Enthalphy_298K_au"),
    ("g", "eV", HARTREE_TO_EV, "free energy at 298.15 K", "GibbsFreeEnergy_298K_au"),
    ("cv", "cal/mol·K", 1.0, "heat capacity at 298.15 K", "Heatcapacity_Cv_cal_mol_K"),
)

# Train-split standard deviation of each target in its unit for the split above: the metric
# scales before the data is loaded; loading replaces them with the values it computes (a test
# checks that the two agree).
_REFERENCE_STD: tuple[float, ...] = (
    1.50546447, 8.18345106, 0.597354604, 1.27482273, 280.485554, 0.901870457,
    1083.18002, 1083.17412, 1083.17412, 1083.19363, 4.06924913,
)  # fmt: skip


def data_dir() -> Path:
    """The directory holding qm9pack's CSV files, found without importing qm9pack."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise ProblemError(
            "the qm9 problem reads the data of the qm9pack package: pip install qm9pack"
        )
    for location in spec.submodule_search_locations:
        directory = Path(location) / "data"
        if all((directory / f).is_file() for f in DATA_FILES):
            return directory
    raise ProblemError(
        "qm9pack is installed but its data files are missing; reinstall it: "
        "pip install --force-reinstall qm9pack"
    )


def cache_name(directory: Path) -> str:
    """Cache entry name: the descriptor version and a fingerprint of the data files' sizes."""
    sizes = ",".join(f"{f}:{(directory / f).stat().st_size}" for f in DATA_FILES)
    return f"qm9-{FEATURE_VERSION}-{hashlib.sha1(sizes.encode()).hexdigest()[:12]}"


def read_molecules(directory: Path) -> dict[str, np.ndarray]:
    """Padded geometries from the CSVs, sorted by QM9 index.

    Returns ``index`` (M,) QM9 indices, ``n_atoms`` (M,), ``types`` (M, 29) element index
    (into ``ELEMENTS``) or -1, ``positions`` (M, 29, 3) in Å and ``targets`` (M, 11) in the
    CSV's units.
    """
    columns = ["Index", "N_atoms", "Elements", "XYZ_Ang"] + [t[4] for t in _TARGETS]
    try:
        frame = pd.concat(
            [pd.read_csv(directory / f, usecols=columns) for f in DATA_FILES], ignore_index=True
        )
    except (OSError, ValueError) as exc:
        raise ProblemError(f"cannot read the QM9 CSV files in {directory}: {exc}") from exc
    frame = frame.sort_values("Index", kind="stable")
    damaged = ProblemError(f"the QM9 CSV files in {directory} look damaged; reinstall qm9pack")
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[[ord(c) for c in ELEMENTS]] = np.arange(5)
    try:
        n_atoms = frame["N_atoms"].to_numpy(np.int64)
        letters = "".join(frame["Elements"].tolist()).translate(str.maketrans("", "", "[]', "))
        atom_types = lookup[np.frombuffer(letters.encode("ascii"), dtype=np.uint8)]
        text = ",".join(frame["XYZ_Ang"].tolist()).replace("[", "").replace("]", "")
        coords = np.array(text.split(","), dtype=np.float64).reshape(-1, 3)
    except (TypeError, ValueError) as exc:  # missing values, non-numbers, stray characters
        raise damaged from exc
    total = int(n_atoms.sum())
    if len(atom_types) != total or len(coords) != total or (atom_types < 0).any():
        raise damaged
    if len(n_atoms) == 0 or n_atoms.min() < 1 or n_atoms.max() > MAX_ATOMS:
        raise damaged
    molecule = np.repeat(np.arange(len(n_atoms)), n_atoms)
    slot = np.arange(total) - np.repeat(np.cumsum(n_atoms) - n_atoms, n_atoms)
    types = np.full((len(n_atoms), MAX_ATOMS), -1, dtype=np.int64)
    positions = np.zeros((len(n_atoms), MAX_ATOMS, 3))
    types[molecule, slot] = atom_types
    positions[molecule, slot] = coords
    return {
        "index": frame["Index"].to_numpy(np.int64),
        "n_atoms": n_atoms,
        "types": types,
        "positions": positions,
        "targets": frame[[t[4] for t in _TARGETS]].to_numpy(np.float64),
    }


def coulomb_eigenvalues(
    n_atoms: np.ndarray, types: np.ndarray, positions: np.ndarray, chunk: int = 4096
) -> np.ndarray:
    """Coulomb-matrix eigenvalues (Rupp et al., PRL 108, 058301, 2012), by |λ| descending, 0-padded.

    C_ii = 0.5 Z_i^2.4, C_ij = Z_i Z_j / |R_i − R_j| (bohr). Molecules are grouped by size so
    each batch of ``eigvalsh`` works on exact n×n matrices.
    """
    out = np.zeros((len(n_atoms), MAX_ATOMS))
    batches = [
        rows[i : i + chunk]
        for n in np.unique(n_atoms)
        for rows in [np.flatnonzero(n_atoms == n)]
        for i in range(0, len(rows), chunk)
    ]
    for rows in batches:
        n = int(n_atoms[rows[0]])
        z = CHARGES[types[rows, :n]]
        r = positions[rows, :n] * BOHR_PER_ANGSTROM
        dist = np.linalg.norm(r[:, :, None] - r[:, None, :], axis=-1)
        dist[:, np.arange(n), np.arange(n)] = 1.0
        cm = z[:, :, None] * z[:, None, :] / dist
        cm[:, np.arange(n), np.arange(n)] = 0.5 * z**2.4
        eig = np.linalg.eigvalsh(cm)
        order = np.argsort(-np.abs(eig), axis=1)
        out[rows, :n] = np.take_along_axis(eig, order, axis=1)
    return out


def pair_histograms(types: np.ndarray, positions: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Per element pair: a soft histogram of interatomic distances and the sum of 1/d (Å⁻¹).

    Each atom pair adds weight to the two bins around its distance (linear interpolation in
    log-distance between ``N_BINS`` centres from 0.9 to 8 Å), a "bag of bonds"-like descriptor
    (Hansen et al., J. Phys. Chem. Lett. 6, 2326, 2015) of fixed size: (M, 15·(N_BINS + 1)).
    """
    n_mol = len(types)
    iu, ju = np.triu_indices(MAX_ATOMS, k=1)
    width = len(PAIRS) * N_BINS
    hist = np.zeros((n_mol, width))
    inv = np.zeros((n_mol, len(PAIRS)))
    for start in range(0, n_mol, chunk):
        t = types[start : start + chunk]
        p = positions[start : start + chunk]
        ti, tj = t[:, iu], t[:, ju]
        mol, pair = np.nonzero((ti >= 0) & (tj >= 0))
        d = np.linalg.norm(p[mol, iu[pair]] - p[mol, ju[pair]], axis=-1)
        kind = PAIR_INDEX[ti[mol, pair], tj[mol, pair]]
        u = np.clip((np.log(d) - LOG_D_MIN) / (LOG_D_MAX - LOG_D_MIN) * (N_BINS - 1), 0, N_BINS - 1)
        lo = np.minimum(u.astype(np.int64), N_BINS - 2)
        frac = u - lo
        cell = mol * width + kind * N_BINS + lo
        size = len(t) * width
        hist[start : start + len(t)] = (
            np.bincount(cell, 1.0 - frac, size) + np.bincount(cell + 1, frac, size)
        ).reshape(len(t), width)
        inv[start : start + len(t)] = np.bincount(
            mol * len(PAIRS) + kind, 1.0 / d, len(t) * len(PAIRS)
        ).reshape(len(t), len(PAIRS))
    return np.concatenate([hist, inv], axis=1)


def extent_features(types: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Spatial extent about the centre of mass: Σ|r|² per element, Σ Z|r|², and the sorted
    eigenvalues of the mass-weighted gyration tensor (Å²), shape (M, 9)."""
    present = types >= 0
    mass = np.where(present, MASSES[np.maximum(types, 0)], 0.0)
    charge = np.where(present, CHARGES[np.maximum(types, 0)], 0.0)
    centre = (mass[..., None] * positions).sum(1) / mass.sum(1, keepdims=True)
    rel = np.where(present[..., None], positions - centre[:, None], 0.0)
    sq = (rel**2).sum(-1)
    per_element = np.stack([(sq * (types == e)).sum(1) for e in range(5)], axis=1)
    gyration = np.einsum("ma,mai,maj->mij", mass, rel, rel) / mass.sum(1)[:, None, None]
    return np.concatenate(
        [per_element, (charge * sq).sum(1, keepdims=True), np.linalg.eigvalsh(gyration)], axis=1
    )


def compute_arrays(directory: Path, progress: Progress | None = None) -> dict[str, np.ndarray]:
    """For all molecules, by QM9 index: descriptors ``x`` (M, N_FEATURES) float32, raw targets
    ``y`` (M, 11) in the CSV's units and the QM9 ``index`` (M,)."""
    report = progress or (lambda stage, fraction: None)
    report("reading the QM9 CSV files", 0.0)
    mol = read_molecules(directory)
    n_atoms, types, positions = mol["n_atoms"], mol["types"], mol["positions"]
    report("Coulomb-matrix eigenvalues", 0.35)
    counts = np.stack([(types == e).sum(1) for e in range(5)], axis=1)
    eigen = coulomb_eigenvalues(n_atoms, types, positions)
    report("interatomic-distance histograms", 0.6)
    pairs = pair_histograms(types, positions)
    report("spatial extent", 0.9)
    extent = extent_features(types, positions)
    x = np.concatenate([counts, n_atoms[:, None], eigen, pairs, extent], axis=1)
    assert x.shape[1] == N_FEATURES, x.shape
    report("done", 1.0)
    return {"x": x.astype(np.float32), "y": mol["targets"], "index": mol["index"]}


def load_arrays(
    progress: Progress | None = None, directory: Path | None = None
) -> dict[str, np.ndarray]:
    """The cached descriptors and targets, computed on first use (see :func:`compute_arrays`)."""
    source = data_dir()
    return load_or_compute(
        cache_name(source), lambda: compute_arrays(source, progress), ("x", "y", "index"), directory
    )


def split_indices(n_molecules: int) -> dict[str, np.ndarray]:
    """Fixed, seeded split of molecule positions: 10,000 test, 10,000 val, the rest train."""
    if n_molecules <= N_TEST + N_VAL:
        raise ProblemError(f"QM9 has {n_molecules} molecules, need more than {N_TEST + N_VAL}")
    perm = np.random.default_rng(SPLIT_SEED).permutation(n_molecules)
    return {
        "train": np.sort(perm[N_TEST + N_VAL :]),
        "val": np.sort(perm[N_TEST : N_TEST + N_VAL]),
        "test": np.sort(perm[:N_TEST]),
    }


def _standardize(*arrays: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Standardize columns with the first array's mean and std (std 1 for constant columns)."""
    mean, std = arrays[0].mean(axis=0), arrays[0].std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return [(a - mean) / std for a in arrays], std


class QM9(Problem):
    """QM9 property regression on 2–11 of Nash-MTL's targets (default: mu, alpha, homo).

    Inputs: standardized descriptors (atom counts, sorted Coulomb-matrix eigenvalues,
    element-pair distance histograms, spatial extent). Targets: standardized with train
    statistics, trained with MSE; metric: MAE in the target's unit. The first load computes the
    descriptors and caches them (``$PARETOKIT_CACHE`` or ``~/.cache/paretokit``);
    ``progress(stage, fraction)`` is called while that runs.
    """

    name = "qm9"
    summary = (
        "QM9 molecules: Nash-MTL's 11 quantum-chemistry regression targets, MLP on 3-D descriptors"
    )
    source = (
        "QM9 (Ramakrishnan et al. 2014, Scientific Data 1:140022; figshare "
        "doi:10.6084/m9.figshare.c.978904): 130,831 molecules from the data files installed "
        "by the qm9pack package (MIT licence per its package metadata)"
    )
    defaults = TrainDefaults(epochs=6, batch_size=256, lr=1e-3)
    default_n_tasks = 3
    models = ("mlp", "gnn")

    def __init__(
        self,
        tasks: int | str | Sequence[str] | None = None,
        *,
        model: str | None = None,
        progress: Progress | None = None,
        cache_directory: Path | None = None,
    ) -> None:
        self._progress = progress
        self._cache_directory = cache_directory
        self._scales: tuple[float, ...] = _REFERENCE_STD
        super().__init__(tasks, model)
        if self.model == "gnn":
            from paretokit.problems.mpnn import require_torch_geometric

            require_torch_geometric()
            self.defaults = GNN_DEFAULTS
            self.eval_batch_size = GNN_EVAL_BATCH

    def available_tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(name, "mse", "mae", False, unit, description, float(scale))
            for (name, unit, _, description, _), scale in zip(_TARGETS, self._scales)
        ]

    def _load_splits(self) -> dict[str, Split]:
        if self.model == "gnn":
            return self._load_graph_splits()
        arrays = load_arrays(self._progress, self._cache_directory)
        y = arrays["y"] * np.array([t[2] for t in _TARGETS])
        idx = split_indices(len(y))
        names = ("train", "val", "test")
        xs, _ = _standardize(*(arrays["x"][idx[k]].astype(np.float64) for k in names))
        ys, y_std = _standardize(*(y[idx[k]] for k in names))
        self._scales = tuple(float(s) for s in y_std)
        self._all = tuple(self.available_tasks())
        return {
            k: Split(
                torch.from_numpy(xs[i].astype(np.float32)),
                torch.from_numpy(ys[i].astype(np.float32)),
            )
            for i, k in enumerate(names)
        }

    def _load_graph_splits(self) -> dict[str, Split]:
        """The molecules as graphs (:mod:`~paretokit.problems.qm9_graphs`), same split and
        target standardization as the descriptors'."""
        from paretokit.problems import qm9_graphs

        report = self._progress or (lambda stage, fraction: None)
        report("molecular graphs", 0.0)
        arrays = qm9_graphs.load_graphs(data_dir(), DATA_FILES, self._cache_directory)
        report("done", 1.0)
        y = arrays["y"] * np.array([t[2] for t in _TARGETS])
        idx = split_indices(len(y))
        names = ("train", "val", "test")
        ys, y_std = _standardize(*(y[idx[k]] for k in names))
        self._scales = tuple(float(s) for s in y_std)
        self._all = tuple(self.available_tasks())
        graphs = qm9_graphs.molecule_graphs(arrays)
        return {
            k: Split(graphs.subset(idx[k]), torch.from_numpy(ys[i].astype(np.float32)))  # type: ignore[arg-type]
            for i, k in enumerate(names)
        }

    def build_trunk(self) -> tuple[nn.Module, int]:
        if self.model == "gnn":
            from paretokit.problems.mpnn import DIM, MPNN

            return MPNN(), DIM
        trunk = nn.Sequential(
            nn.Linear(N_FEATURES, HIDDEN), nn.SiLU(), nn.Linear(HIDDEN, HIDDEN), nn.SiLU()
        )
        return trunk, HIDDEN
