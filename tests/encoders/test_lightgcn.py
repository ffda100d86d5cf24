"""gnnrec.encoders.lightgcn: LightGCN equals PyTorch Geometric's LGConv, layer-averaged."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor
from torch_geometric.nn import LGConv

from gnnrec.encoders import LightGCN, build_encoder
from gnnrec.graph import BipartiteGraph

D = 8


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


def test_lightgcn_has_no_parameters_and_passes_gradients(graph: BipartiteGraph, x: Tensor) -> None:
    enc = build_encoder("lightgcn", in_channels=D, num_layers=2)
    assert isinstance(enc, LightGCN) and enc.num_layers == 2
    assert list(enc.parameters()) == []
    x = x.clone().requires_grad_()
    out = enc(x, graph)
    assert out.shape == (graph.num_nodes, D)
    out.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_lightgcn_depth_comes_from_build_encoder() -> None:
    assert build_encoder(LightGCN, in_channels=D, num_layers=4).num_layers == 4
    assert build_encoder(LightGCN(num_layers=1), in_channels=D, num_layers=None).num_layers == 1
    assert build_encoder("lightgcn", in_channels=D, num_layers=None).num_layers == 3
    assert build_encoder("lightgcn", in_channels=D, num_layers=0).num_layers == 0


@pytest.mark.parametrize("num_layers", [-1, 1.5, "2"])
def test_lightgcn_rejects_a_bad_depth(num_layers: object) -> None:
    # regression: num_layers=-1 trained silently with 0 layers
    with pytest.raises(ValueError, match=r"^LightGCN: num_layers must be an integer >= 0 or None"):
        LightGCN(num_layers=num_layers)  # type: ignore[arg-type]
