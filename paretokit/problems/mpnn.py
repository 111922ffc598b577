"""The message-passing network of Gilmer et al. ("Neural Message Passing for Quantum Chemistry",
ICML 2017) as in PyTorch Geometric's ``examples/qm9_nn_conv.py``, the shared trunk of Nash-MTL's
QM9 model (Navon et al., ICML 2022, §6.2):

    h⁰ = ReLU(W₀ x)                                          (node embedding, width 64)
    m^t = ReLU(NNConv(h^{t-1}; A(e)))   with A(e) = MLP(e) ∈ R^{64×64}, mean over neighbours
    h^t = GRU(m^t, h^{t-1})                                  (t = 1, 2, 3: one shared conv/GRU)
    z = ReLU(W₁ Set2Set(h³))                                 (3 processing steps; width 64)

the edge network A: Linear(5, 128) → ReLU → Linear(128, 64·64). Each task's head is a linear
layer on z (Nash-MTL's ``head_i``). Needs PyTorch Geometric (the ``gnn`` extra); its compiled
add-ons are not needed.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

from paretokit.errors import ProblemError
from paretokit.problems.qm9_graphs import N_EDGE_FEATURES, N_NODE_FEATURES, GraphBatch

DIM = 64
EDGE_HIDDEN = 128
STEPS = 3
SET2SET_STEPS = 3


def require_torch_geometric() -> None:
    """A clear error when PyTorch Geometric is missing."""
    try:
        import torch_geometric  # noqa: F401
    except ImportError:
        raise ProblemError(
            "qm9 --model gnn needs PyTorch Geometric: pip install 'paretokit[gnn]'"
        ) from None


class MPNN(nn.Module):
    """Gilmer et al.'s MPNN trunk (module docstring): a :class:`GraphBatch` → (graphs, 64)."""

    def __init__(self, dim: int = DIM) -> None:
        super().__init__()
        require_torch_geometric()
        from torch_geometric.nn import NNConv, Set2Set

        self.lin0 = nn.Linear(N_NODE_FEATURES, dim)
        edge_net = nn.Sequential(
            nn.Linear(N_EDGE_FEATURES, EDGE_HIDDEN), nn.ReLU(), nn.Linear(EDGE_HIDDEN, dim * dim)
        )
        self.conv = NNConv(dim, dim, edge_net, aggr="mean")
        self.gru = nn.GRU(dim, dim)
        self.set2set = Set2Set(dim, processing_steps=SET2SET_STEPS)
        self.lin1 = nn.Linear(2 * dim, dim)

    def forward(self, graphs: GraphBatch) -> Tensor:
        out = F.relu(self.lin0(graphs.x))
        h = out.unsqueeze(0)
        for _ in range(STEPS):
            m = F.relu(self.conv(out, graphs.edge_index, graphs.edge_attr))
            out, h = self.gru(m.unsqueeze(0), h)
            out = out.squeeze(0)
        out = self.set2set(out, graphs.batch, dim_size=graphs.num_graphs)
        return F.relu(self.lin1(out))
