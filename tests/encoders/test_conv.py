"""gnnrec.encoders.conv: GCN, SAGE and GAT equal the PyTorch Geometric layers; argument checks."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv, SAGEConv

from gnnrec.encoders import GAT, GCN, SAGE, build_encoder
from gnnrec.graph import BipartiteGraph

D = 8


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


# --------------------------------------------------------------------------- layer loop
@pytest.mark.parametrize("name", ["gcn", "sage", "gat"])
def test_every_conv_encoder_keeps_shape_and_passes_gradients(
    graph: BipartiteGraph, x: Tensor, name: str
) -> None:
    enc = build_encoder(name, in_channels=D, num_layers=2)
    x = x.clone().requires_grad_()
    out = enc(x, graph)
    assert out.shape == (graph.num_nodes, D)
    out.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_dropout_only_in_training(graph: BipartiteGraph, x: Tensor) -> None:
    enc = build_encoder(GCN(dropout=0.5), in_channels=D, num_layers=2)
    enc.eval()
    torch.testing.assert_close(enc(x, graph), enc(x, graph))
    enc.train()
    assert not torch.equal(enc(x, graph), enc(x, graph))


def test_activation_is_resolved_by_name(graph: BipartiteGraph, x: Tensor) -> None:
    torch.manual_seed(0)
    gelu = GCN(D, 2, act="gelu", combine="last").eval()
    torch.manual_seed(0)
    relu = GCN(D, 2, act="relu", combine="last").eval()
    assert not torch.allclose(gelu(x, graph), relu(x, graph))
    assert GCN(act="GELU").act == "GELU"


def test_zero_layers_return_the_input(graph: BipartiteGraph, x: Tensor) -> None:
    for cls in (GCN, SAGE, GAT):
        enc = cls(D, 0)
        assert len(enc.convs) == 0
        torch.testing.assert_close(enc(x, graph), x)


# --------------------------------------------------------------------------- argument checks
def test_gat_needs_width_divisible_by_heads() -> None:
    with pytest.raises(ValueError, match=r"GAT needs in_channels \(10\) divisible by heads \(4\)"):
        GAT(10, 2, heads=4)
    assert len(GAT(12, 2, heads=4).convs) == 2


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        # regression: heads=0 raised ZeroDivisionError, heads=-2 a torch RuntimeError
        ({"heads": 0}, r"GAT: heads must be an integer >= 1, got 0"),
        ({"in_channels": 8, "heads": 0}, r"GAT: heads must be an integer >= 1, got 0"),
        ({"in_channels": 8, "num_layers": 1, "heads": -2},
         r"GAT: heads must be an integer >= 1, got -2"),
        ({"heads": 2.0}, r"GAT: heads must be an integer >= 1, got 2.0"),
        ({"attention_dropout": 1.0},
         r"GAT: attention_dropout must be a finite number in \[0, 1\), got 1.0"),
        ({"attention_dropout": -0.1}, r"GAT: attention_dropout must be"),
        ({"in_channels": "8"}, r"GAT: in_channels must be an integer >= 1 or None, got '8'"),
    ],
)
def test_gat_argument_checks(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        GAT(**kwargs)


@pytest.mark.parametrize("cls", [GCN, SAGE, GAT])
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"combine": "sum"}, r"combine must be one of 'last', 'mean', got 'sum'"),
        ({"dropout": 1.5}, r"dropout must be a finite number in \[0, 1\), got 1.5"),
        ({"dropout": 1.0}, r"dropout must be a finite number in \[0, 1\), got 1.0"),
        ({"dropout": float("nan")}, r"dropout must be"),
        ({"act": "nope"}, r"act must be an activation name such as 'relu', 'elu' or 'gelu', "
                          r"got 'nope'"),
        ({"act": None}, r"act must be an activation name"),
        ({"in_channels": 0}, r"in_channels must be an integer >= 1 or None, got 0"),
        ({"num_layers": -1}, r"num_layers must be an integer >= 0 or None, got -1"),
        ({"num_layers": 1.5}, r"num_layers must be an integer >= 0 or None, got 1.5"),
    ],
)
def test_conv_encoder_argument_checks(cls: type, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: {pattern}"):
        cls(**kwargs)
