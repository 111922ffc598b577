"""QM9 molecules as graphs for the message-passing network (``qm9 --model gnn``).

PyTorch Geometric's ``QM9`` dataset (used by Nash-MTL) reads the SDF files of MoleculeNet, with
bonds and atom features from RDKit. Here the molecules come from the qm9pack CSV files, which
hold elements and 3-D coordinates but no bonds (their SMILES cannot be matched to the atoms'
order without a chemistry toolkit), so bonds are read off the geometry:

* a bond joins atoms i, j when ``d_ij < r_i + r_j + 0.45 Å`` (covalent radii of Cordero et
  al., Dalton Trans. 2008; the tolerance of Open Babel's ``ConnectTheDots``);
* its type (single, double, triple, aromatic: PyG's four) is the one whose typical length for
  the element pair is nearest to ``d_ij`` (:data:`BOND_LENGTHS`, Å); bonds of a carbon with
  four neighbours are single, and bonds to H and F are single.

Node features follow PyG's QM9 (11 columns): one-hot H, C, N, O, F; atomic number; aromatic
(the atom has an aromatic bond); sp, sp2, sp3 (carbon, nitrogen, oxygen: sp with a triple bond
or two double bonds, sp2 with a double or aromatic bond, else sp3; H and F none); number of
bonded hydrogens. Edges: the complete graph of each molecule without self-loops (PyG example's
``Complete`` transform), edge features the bond type one-hot (zeros for atoms not bonded) and
the distance in Å (``T.Distance(norm=False)``): 5 columns. What differs from PyG: bonds, bond
types, aromaticity and hybridization come from these geometric rules, not from RDKit.

The per-atom and per-bond arrays are computed once (about 20 s) and cached
(:mod:`paretokit.problems._cache`); batches of complete graphs are built on the device from
them (:class:`MoleculeGraphs`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from paretokit.problems._cache import load_or_compute

GRAPH_VERSION = "v1"  # bump when the graphs change: old cache entries are then ignored
COVALENT_RADII = np.array([0.31, 0.76, 0.71, 0.66, 0.57])  # Å, H C N O F (Cordero 2008)
BOND_TOLERANCE = 0.45  # Å
N_NODE_FEATURES = 11
N_EDGE_FEATURES = 5
SINGLE, DOUBLE, TRIPLE, AROMATIC = range(4)
H, C, N, O, F = range(5)  # noqa: E741 (element symbols)
# typical lengths (Å) of single, double, triple and aromatic bonds per heavy-element pair
# (CRC Handbook / Allen et al. 1987 averages); NaN: that type does not occur
_NAN = float("nan")
BOND_LENGTHS: dict[tuple[int, int], tuple[float, float, float, float]] = {
    (C, C): (1.54, 1.34, 1.20, 1.40),
    (C, N): (1.47, 1.28, 1.16, 1.34),
    (C, O): (1.43, 1.21, 1.13, 1.36),
    (N, N): (1.45, 1.25, 1.10, 1.35),
    (N, O): (1.40, 1.21, _NAN, 1.30),
    (O, O): (1.48, _NAN, _NAN, _NAN),
}


def cache_name(directory: Path, data_files: tuple[str, ...]) -> str:
    sizes = ",".join(f"{f}:{(directory / f).stat().st_size}" for f in data_files)
    return f"qm9-graphs-{GRAPH_VERSION}-{hashlib.sha1(sizes.encode()).hexdigest()[:12]}"


def find_bonds(
    types: np.ndarray, positions: np.ndarray, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bonds of padded molecules (types (M, S) element index or −1, positions (M, S, 3) Å):
    ``(molecule, i, j, distance)`` for each bonded pair i < j, by molecule then i then j."""
    slots = types.shape[1]
    iu, ju = np.triu_indices(slots, k=1)
    found = []
    for start in range(0, len(types), chunk):
        t, p = types[start : start + chunk], positions[start : start + chunk]
        ti, tj = t[:, iu], t[:, ju]
        mol, pair = np.nonzero((ti >= 0) & (tj >= 0))
        d = np.linalg.norm(p[mol, iu[pair]] - p[mol, ju[pair]], axis=-1)
        limit = COVALENT_RADII[ti[mol, pair]] + COVALENT_RADII[tj[mol, pair]] + BOND_TOLERANCE
        keep = d < limit
        found.append((mol[keep] + start, iu[pair[keep]], ju[pair[keep]], d[keep]))
    mol, i, j, d = (np.concatenate(parts) for parts in zip(*found))
    return mol, i, j, d


def bond_types(a: np.ndarray, b: np.ndarray, d: np.ndarray, saturated: np.ndarray) -> np.ndarray:
    """The type of each bond between elements ``a`` and ``b`` at distance ``d``: the nearest
    typical length of :data:`BOND_LENGTHS`; single for H, F and ``saturated`` bonds."""
    table = np.full((5, 5, 4), np.nan)
    for (x, y), lengths in BOND_LENGTHS.items():
        table[x, y] = table[y, x] = lengths
    gaps = np.abs(table[a, b] - d[:, None])
    gaps[:, SINGLE] = np.where(np.isnan(gaps[:, SINGLE]), 0.0, gaps[:, SINGLE])
    kind = np.argmin(np.where(np.isnan(gaps), np.inf, gaps), axis=1)
    return np.where(saturated, SINGLE, kind).astype(np.int8)


def compute_graphs(mol: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-atom and per-bond arrays of the molecules read by ``qm9.read_molecules``:
    ``n_atoms`` (M,), ``atom_type``, ``aromatic``, ``hybrid`` (0 none, 1 sp, 2 sp2, 3 sp3),
    ``n_h`` (A,) and ``pos`` (A, 3) float32 for the A atoms in molecule order, and per bond
    (molecule order) ``n_bonds`` (M,), ``bond`` (B, 2) atom slots within its molecule and
    ``bond_type`` (B,)."""
    n_atoms, types, positions = mol["n_atoms"], mol["types"], mol["positions"]
    m, i, j, d = find_bonds(types, positions)
    a, b = types[m, i], types[m, j]
    slots = types.shape[1]
    degree = np.zeros((len(types), slots), dtype=np.int64)
    np.add.at(degree, (m, i), 1)
    np.add.at(degree, (m, j), 1)
    four_carbon = (types == C) & (degree == 4)
    saturated = four_carbon[m, i] | four_carbon[m, j]
    kind = bond_types(a, b, d, saturated)
    # per atom: aromatic, the highest bond order, double-bond count, bonded hydrogens
    aromatic = np.zeros_like(degree)
    triple = np.zeros_like(degree)
    doubles = np.zeros_like(degree)
    n_h = np.zeros_like(degree)
    for side, other in ((i, b), (j, a)):
        np.add.at(aromatic, (m, side), kind == AROMATIC)
        np.add.at(triple, (m, side), kind == TRIPLE)
        np.add.at(doubles, (m, side), kind == DOUBLE)
        np.add.at(n_h, (m, side), other == H)
    heavy = (types == C) | (types == N) | (types == O)
    sp = (triple > 0) | (doubles >= 2)
    sp2 = ~sp & ((doubles > 0) | (aromatic > 0))
    hybrid = np.where(heavy, np.where(sp, 1, np.where(sp2, 2, 3)), 0)
    present = types >= 0
    return {
        "n_atoms": n_atoms,
        "atom_type": types[present].astype(np.int8),
        "aromatic": (aromatic[present] > 0).astype(np.int8),
        "hybrid": hybrid[present].astype(np.int8),
        "n_h": n_h[present].astype(np.int8),
        "pos": positions[present].astype(np.float32),
        "n_bonds": np.bincount(m, minlength=len(types)),
        "bond": np.stack([i, j], axis=1).astype(np.int8),
        "bond_type": kind,
        "y": mol["targets"],
    }


GRAPH_KEYS = ("n_atoms", "atom_type", "aromatic", "hybrid", "n_h", "pos", "n_bonds", "bond",
              "bond_type", "y")  # fmt: skip


def load_graphs(directory: Path, data_files: tuple[str, ...], cache: Path | None = None):
    """The cached graph arrays of :func:`compute_graphs`, computed on first use."""
    from paretokit.problems.qm9 import read_molecules

    return load_or_compute(
        cache_name(directory, data_files),
        lambda: compute_graphs(read_molecules(directory)),
        GRAPH_KEYS,
        cache,
    )


def node_features(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """PyG QM9's 11 node features (module docstring) from the cached atom arrays, float32."""
    t = arrays["atom_type"].astype(np.int64)
    onehot = np.eye(5, dtype=np.float32)[t]
    atomic_number = np.array([1, 6, 7, 8, 9], dtype=np.float32)[t][:, None]
    hybrid = np.eye(4, dtype=np.float32)[arrays["hybrid"].astype(np.int64)][:, 1:]
    return np.concatenate(
        [onehot, atomic_number, arrays["aromatic"][:, None].astype(np.float32), hybrid,
         arrays["n_h"][:, None].astype(np.float32)],
        axis=1,
    )  # fmt: skip


@dataclass(frozen=True)
class GraphBatch:
    """A batch of molecules as one disconnected graph, in PyG's layout: node features ``x``
    (V, 11), ``edge_index`` (2, E) (source, target), ``edge_attr`` (E, 5), ``batch`` (V,) the
    molecule of each node, and ``num_graphs``."""

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor
    batch: Tensor
    num_graphs: int

    @property
    def device(self) -> torch.device:
        return self.x.device

    def __len__(self) -> int:
        return self.num_graphs


@dataclass(frozen=True)
class MoleculeGraphs:
    """A split's molecules, indexable like a tensor's first dimension: ``graphs[idx]`` (a
    tensor of molecule indices or a slice) is the :class:`GraphBatch` of their complete
    graphs. Atoms and bonds are stored flat, molecule after molecule (``atom_ptr``,
    ``bond_ptr``: offsets, length M + 1); bonds by atom slot within their molecule."""

    atom_ptr: Tensor
    node_x: Tensor
    pos: Tensor
    bond_ptr: Tensor
    bond: Tensor
    bond_type: Tensor

    @property
    def device(self) -> torch.device:
        return self.node_x.device

    @property
    def shape(self) -> torch.Size:
        return torch.Size([len(self)])

    def __len__(self) -> int:
        return int(self.atom_ptr.shape[0]) - 1

    def to(self, device: torch.device | str) -> MoleculeGraphs:
        return MoleculeGraphs(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))

    def subset(self, molecules: np.ndarray) -> MoleculeGraphs:
        """The molecules at positions ``molecules``, repacked (for building the splits)."""
        idx = torch.as_tensor(molecules, dtype=torch.int64, device=self.device)
        atoms = _ranges(self.atom_ptr, idx)
        bonds = _ranges(self.bond_ptr, idx)
        return MoleculeGraphs(
            _ptr(self.atom_ptr, idx), self.node_x[atoms], self.pos[atoms],
            _ptr(self.bond_ptr, idx), self.bond[bonds], self.bond_type[bonds],
        )  # fmt: skip

    def __getitem__(self, index: Tensor | slice) -> GraphBatch:
        if isinstance(index, slice):
            index = torch.arange(len(self), device=self.device)[index]
        idx = index.to(self.device, torch.int64)
        n = self.atom_ptr[idx + 1] - self.atom_ptr[idx]
        atoms = _ranges(self.atom_ptr, idx)
        graphs = torch.arange(len(idx), device=self.device)
        node_start = torch.cumsum(n, 0) - n
        # every ordered pair (a, b) of each molecule: pair p of molecule g is (p // n, p % n)
        pairs = n * n
        pair_start = torch.cumsum(pairs, 0) - pairs
        pair_mol = torch.repeat_interleave(graphs, pairs)
        local = torch.arange(int(pairs.sum()), device=self.device) - pair_start[pair_mol]
        a, b = local // n[pair_mol], local % n[pair_mol]
        # bond types of the bonded pairs, both directions
        bonds = _ranges(self.bond_ptr, idx)
        bond_mol = torch.repeat_interleave(graphs, self.bond_ptr[idx + 1] - self.bond_ptr[idx])
        onehot = torch.zeros(len(local), 4, device=self.device)
        bi, bj = self.bond[bonds, 0].long(), self.bond[bonds, 1].long()
        kind = self.bond_type[bonds].long()
        nb = n[bond_mol]
        onehot[pair_start[bond_mol] + bi * nb + bj, kind] = 1.0
        onehot[pair_start[bond_mol] + bj * nb + bi, kind] = 1.0
        keep = a != b
        a, b, pair_mol, onehot = a[keep], b[keep], pair_mol[keep], onehot[keep]
        src, dst = node_start[pair_mol] + a, node_start[pair_mol] + b
        pos = self.pos[atoms]
        dist = (pos[src] - pos[dst]).norm(dim=1, keepdim=True)
        return GraphBatch(
            x=self.node_x[atoms],
            edge_index=torch.stack([src, dst]),
            edge_attr=torch.cat([onehot, dist], dim=1),
            batch=torch.repeat_interleave(graphs, n),
            num_graphs=len(idx),
        )


def _ranges(ptr: Tensor, idx: Tensor) -> Tensor:
    """The concatenated ranges ``ptr[g] … ptr[g + 1] − 1`` of the molecules ``idx``."""
    counts = ptr[idx + 1] - ptr[idx]
    starts = torch.cumsum(counts, 0) - counts
    offsets = torch.repeat_interleave(ptr[idx] - starts, counts)
    return torch.arange(int(counts.sum()), device=ptr.device) + offsets


def _ptr(ptr: Tensor, idx: Tensor) -> Tensor:
    counts = ptr[idx + 1] - ptr[idx]
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


def molecule_graphs(arrays: dict[str, np.ndarray]) -> MoleculeGraphs:
    """All molecules of the cached arrays as one :class:`MoleculeGraphs` (CPU tensors)."""

    def ptr(counts: np.ndarray) -> Tensor:
        return torch.from_numpy(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))

    return MoleculeGraphs(
        atom_ptr=ptr(arrays["n_atoms"]),
        node_x=torch.from_numpy(node_features(arrays)),
        pos=torch.from_numpy(arrays["pos"].astype(np.float32)),
        bond_ptr=ptr(arrays["n_bonds"]),
        bond=torch.from_numpy(arrays["bond"].astype(np.int64)),
        bond_type=torch.from_numpy(arrays["bond_type"].astype(np.int64)),
    )
