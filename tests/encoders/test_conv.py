"""gnnrec.encoders: equivalence with the PyTorch Geometric layers, registry, custom encoders."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, LGConv, SAGEConv

from gnnrec.encoders import (
    GAT,
    GCN,
    SAGE,
    Encoder,
    LightGCN,
    build_encoder,
    list_encoders,
    register_encoder,
    resolve_encoder,
)
from gnnrec.encoders.base import ENCODERS
from gnnrec.graph import BipartiteGraph

D = 8


@pytest.fixture(scope="module")
def graph() -> BipartiteGraph:
    rng = np.random.default_rng(0)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(0, 11, 40), rng.integers(0, 13, 40), strict=False)}
    users, items = np.array(sorted(pairs)).T
    return BipartiteGraph(users, items, num_users=12, num_items=14)  # one isolated of each


@pytest.fixture(scope="module")
def x(graph: BipartiteGraph) -> Tensor:
    return torch.randn(graph.num_nodes, D, generator=torch.Generator().manual_seed(0))


def combine(outs: list[Tensor], how: str) -> Tensor:
    return outs[-1] if how == "last" else torch.stack(outs).mean(0)


# --------------------------------------------------------------------------- PyG equivalence
@pytest.mark.parametrize("how", ["last", "mean"])
def test_gcn_equals_pyg_gcnconv(graph: BipartiteGraph, x: Tensor, how: str) -> None:
    torch.manual_seed(0)
    enc = GCN(D, 2, combine=how).eval()  # type: ignore[arg-type]
    refs = [GCNConv(D, D, normalize=True) for _ in range(2)]
    for ref, conv in zip(refs, enc.convs, strict=False):
        ref.load_state_dict(conv.state_dict())
    outs, h = [x], x
    for i, ref in enumerate(refs):
        h = ref(h, graph.edge_index)
        if i < len(refs) - 1:
            h = F.relu(h)
        outs.append(h)
    torch.testing.assert_close(enc(x, graph), combine(outs, how), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("how", ["last", "mean"])
def test_sage_equals_pyg_sageconv_mean(graph: BipartiteGraph, x: Tensor, how: str) -> None:
    torch.manual_seed(0)
    enc = SAGE(D, 2, combine=how).eval()  # type: ignore[arg-type]
    refs = [SAGEConv(D, D, aggr="mean") for _ in range(2)]
    for ref, conv in zip(refs, enc.convs, strict=False):
        ref.load_state_dict(conv.state_dict())
    outs, h = [x], x
    for i, ref in enumerate(refs):
        h = ref(h, graph.edge_index)
        if i < len(refs) - 1:
            h = F.relu(h)
        outs.append(h)
    torch.testing.assert_close(enc(x, graph), combine(outs, how), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("num_layers", [0, 1, 3])
def test_lightgcn_equals_pyg_lgconv_layer_mean(
    graph: BipartiteGraph, x: Tensor, num_layers: int
) -> None:
    conv = LGConv(normalize=True)
    outs, h = [x], x
    for _ in range(num_layers):
        h = conv(h, graph.edge_index)
        outs.append(h)
    torch.testing.assert_close(
        LightGCN(D, num_layers)(x, graph), torch.stack(outs).mean(0), rtol=1e-5, atol=1e-6
    )


def test_gat_equals_pyg_gatconv(graph: BipartiteGraph, x: Tensor) -> None:
    torch.manual_seed(0)
    enc = GAT(D, 1, heads=2).eval()
    ref = GATConv(D, D // 2, heads=2)
    ref.load_state_dict(enc.convs[0].state_dict())
    torch.testing.assert_close(enc(x, graph), (x + ref(x, graph.edge_index)) / 2)


def test_gat_gradients_equal_pyg_gatconv(graph: BipartiteGraph, x: Tensor) -> None:
    """The sparse-product GAT layer backpropagates exactly like PyG's message passing."""
    torch.manual_seed(0)
    enc = GAT(D, 2, heads=2, combine="last").eval()
    refs = [GATConv(D, D // 2, heads=2) for _ in range(2)]
    for ref, conv in zip(refs, enc.convs, strict=True):
        ref.load_state_dict(conv.state_dict())
    upstream = torch.randn(graph.num_nodes, D, generator=torch.Generator().manual_seed(3))

    x_mine = x.clone().requires_grad_()
    (enc(x_mine, graph) * upstream).sum().backward()
    x_ref = x.clone().requires_grad_()
    h = F.elu(refs[0](x_ref, graph.edge_index))
    (refs[1](h, graph.edge_index) * upstream).sum().backward()

    assert x_mine.grad is not None and x_ref.grad is not None
    torch.testing.assert_close(x_mine.grad, x_ref.grad, rtol=1e-4, atol=1e-5)
    for ref, conv in zip(refs, enc.convs, strict=True):
        for (name, p_ref), p_mine in zip(ref.named_parameters(), conv.parameters(), strict=True):
            assert p_ref.grad is not None and p_mine.grad is not None, name
            torch.testing.assert_close(p_mine.grad, p_ref.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_gat_needs_width_divisible_by_heads() -> None:
    with pytest.raises(ValueError, match=r"in_channels \(10\) divisible by heads \(4\)"):
        GAT(10, 2, heads=4)
    assert len(GAT(12, 2, heads=4).convs) == 2


@pytest.mark.parametrize("cls", [GCN, SAGE, GAT])
def test_conv_encoder_parameter_checks(cls: type) -> None:
    with pytest.raises(ValueError, match=r"combine"):
        cls(combine="sum")
    with pytest.raises(ValueError, match=r"dropout"):
        cls(dropout=1.5)


@pytest.mark.parametrize("name", ["lightgcn", "gcn", "sage", "gat"])
def test_every_encoder_keeps_shape_and_passes_gradients(
    graph: BipartiteGraph, x: Tensor, name: str
) -> None:
    enc = build_encoder(name, D, 2)
    x = x.clone().requires_grad_()
    out = enc(x, graph)
    assert out.shape == (graph.num_nodes, D)
    out.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_dropout_only_in_training(graph: BipartiteGraph, x: Tensor) -> None:
    enc = build_encoder(GCN(dropout=0.5), D, 2)
    enc.eval()
    torch.testing.assert_close(enc(x, graph), enc(x, graph))
    enc.train()
    assert not torch.equal(enc(x, graph), enc(x, graph))


# --------------------------------------------------------------------------- registry
def test_registry_lists_and_resolves() -> None:
    assert {"lightgcn", "gcn", "sage", "gat"} <= set(list_encoders())
    assert list_encoders("*gcn") == ["gcn", "lightgcn"]
    assert isinstance(resolve_encoder("LightGCN"), LightGCN)
    assert isinstance(resolve_encoder(GAT), GAT)
    inst = SAGE(dropout=0.1)
    assert resolve_encoder(inst) is inst
    with pytest.raises(ValueError, match=r"unknown encoder 'gin'; valid names: gat, gcn"):
        resolve_encoder("gin")
    with pytest.raises(TypeError, match=r"encoder must be"):
        resolve_encoder(3)  # type: ignore[arg-type]


def test_build_encoder_sizes_and_keeps_own_num_layers() -> None:
    enc = build_encoder(GCN(num_layers=1, dropout=0.2), 16, 3)
    assert isinstance(enc, GCN) and len(enc.convs) == 1 and enc.in_channels == 16
    assert enc.dropout == 0.2
    assert len(build_encoder("gcn", 16, 3).convs) == 3
    assert build_encoder(LightGCN, 16, 4).num_layers == 4


def test_get_set_params() -> None:
    enc = GAT(heads=2)
    assert enc.get_params() == {
        "num_layers": None, "heads": 2, "attention_dropout": 0.0, "dropout": 0.0,
        "act": "elu", "combine": "mean",
    }
    enc.set_params(heads=8)
    assert enc.heads == 8
    with pytest.raises(ValueError, match=r"invalid parameter 'width' for GAT"):
        enc.set_params(width=3)


# --------------------------------------------------------------------------- custom encoders
class TwoLayerMLPOnGraph(nn.Module):
    """A plain PyG-style module: ``forward(x, edge_index)``."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.conv = GCNConv(d, d)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return x + self.conv(x, edge_index)


def test_plain_module_is_wrapped_and_called_with_edge_index(
    graph: BipartiteGraph, x: Tensor
) -> None:
    module = TwoLayerMLPOnGraph(D)
    enc = build_encoder(module, D, 2)
    assert enc.module is not module  # a fresh copy per fit
    torch.testing.assert_close(enc(x, graph), enc.module(x, graph.edge_index))


@pytest.fixture
def registered_scaled() -> Iterator[type[Encoder]]:
    @register_encoder("test_scaled")
    class Scaled(Encoder):
        """Multiplies the mean-aggregated embeddings by a learned scalar."""

        def __init__(self, in_channels: int | None = None, num_layers: int | None = None,
                     *, init: float = 1.0) -> None:
            super().__init__(in_channels, num_layers)
            self.init = init
            self.scale = nn.Parameter(torch.tensor(init))

        def reset_parameters(self) -> None:
            with torch.no_grad():
                self.scale.fill_(self.init)

        def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
            return [x, self.scale * torch.sparse.mm(graph.adjacency("mean"), x)]

    yield Scaled
    ENCODERS._classes.pop("test_scaled", None)


def test_custom_registered_encoder(registered_scaled: type[Encoder], graph: BipartiteGraph,
                                   x: Tensor) -> None:
    assert "test_scaled" in list_encoders()
    enc = build_encoder("test_scaled", D, 2)
    assert isinstance(enc, registered_scaled)
    assert enc(x, graph).shape == x.shape
    enc2 = build_encoder(registered_scaled(init=2.0), D, 2)
    assert float(enc2.scale.detach()) == 2.0
    with pytest.raises(ValueError, match=r"already registered"):
        register_encoder("test_scaled")(type("Other", (Encoder,), {}))
