"""gnnrec.encoders.base: the Encoder interface, build_encoder's contract, custom encoders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

from gnnrec.encoders import (
    GAT,
    GCN,
    SAGE,
    Encoder,
    LightGCN,
    build_encoder,
    list_encoders,
    register_encoder,
)
from gnnrec.encoders.base import DEFAULT_NUM_LAYERS, ENCODERS, layer_mean
from gnnrec.graph import BipartiteGraph

D = 8


# --------------------------------------------------------------------------- Encoder
def test_layer_mean() -> None:
    outs = [torch.full((2, 3), float(v)) for v in (1, 2, 6)]
    torch.testing.assert_close(layer_mean(outs), torch.full((2, 3), 3.0))


def test_default_forward_is_the_last_layer(graph: BipartiteGraph, x: Tensor) -> None:
    class Twice(Encoder):
        def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
            return [x, 2 * x]

    torch.testing.assert_close(Twice(D)(x, graph), 2 * x)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"in_channels": 0}, r"Encoder: in_channels must be an integer >= 1 or None, got 0"),
        ({"in_channels": 8.0}, r"Encoder: in_channels must be an integer >= 1 or None, got 8.0"),
        # regression: num_layers=-1 trained with 0 layers, 1.5 raised a TypeError deep in torch
        ({"num_layers": -1}, r"Encoder: num_layers must be an integer >= 0 or None, got -1"),
        ({"num_layers": 1.5}, r"Encoder: num_layers must be an integer >= 0 or None, got 1.5"),
        ({"num_layers": True}, r"Encoder: num_layers must be an integer >= 0 or None, got True"),
    ],
)
def test_encoder_checks_its_sizes(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^{pattern}$"):
        Encoder(**kwargs)


def test_numpy_sizes_are_plain_ints() -> None:
    enc = GCN(np.int64(8), np.int64(2))
    assert type(enc.in_channels) is int and type(enc.num_layers) is int


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


# --------------------------------------------------------------------------- build_encoder
@pytest.mark.parametrize("name", ["lightgcn", "gcn", "sage", "gat"])
def test_build_encoder_sizes_every_encoder(graph: BipartiteGraph, x: Tensor, name: str) -> None:
    enc = build_encoder(name, in_channels=D, num_layers=2)
    assert enc.in_channels == D and enc.num_layers == 2
    assert enc(x, graph).shape == (graph.num_nodes, D)


def test_build_encoder_is_fresh_and_leaves_the_instance_alone() -> None:
    spec = GCN(dropout=0.2)
    enc = build_encoder(spec, in_channels=16, num_layers=3)
    assert isinstance(enc, GCN) and enc is not spec
    assert (enc.in_channels, enc.num_layers, enc.dropout, len(enc.convs)) == (16, 3, 0.2, 3)
    assert (spec.in_channels, spec.num_layers, len(spec.convs)) == (None, None, 0)


def test_build_encoder_takes_a_set_params_change() -> None:
    spec = GAT(heads=2).set_params(heads=4)
    assert build_encoder(spec, in_channels=8, num_layers=1).convs[0].heads == 4


def test_build_encoder_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        build_encoder("gcn", 16, 3)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"in_channels": 0, "num_layers": 2}, r"build_encoder: in_channels must be an integer >= 1"),
        ({"in_channels": 8, "num_layers": -1},
         r"build_encoder: num_layers must be an integer >= 0 or None, got -1"),
    ],
)
def test_build_encoder_checks_sizes(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        build_encoder("gcn", **kwargs)


# --------------------------------------------------------------------------- num_layers rule
@pytest.mark.parametrize(
    ("own", "given", "depth"),
    [(None, None, DEFAULT_NUM_LAYERS), (None, 2, 2), (1, None, 1), (1, 1, 1), (None, 0, 0),
     (0, None, 0)],
)
def test_one_source_of_truth_for_depth(own: int | None, given: int | None, depth: int) -> None:
    for cls in (GCN, SAGE, GAT, LightGCN):
        enc = build_encoder(cls(num_layers=own), in_channels=8, num_layers=given)
        assert enc.num_layers == depth
        assert len(getattr(enc, "convs", range(depth))) == depth


def test_own_num_layers_conflicting_with_the_recommenders_is_an_error() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Recommender num_layers=2 but the encoder GAT\(num_layers=3\) sets its own; "
              r"set one of them$",
    ):
        build_encoder(GAT(num_layers=3), in_channels=8, num_layers=2)


def test_an_invalid_num_layers_set_later_is_caught_at_build() -> None:
    spec = GCN().set_params(num_layers=-1)
    with pytest.raises(ValueError, match=r"GCN: num_layers must be an integer >= 0 or None, got -1"):
        build_encoder(spec, in_channels=8, num_layers=None)


def test_an_encoder_without_num_layers_ignores_it(graph: BipartiteGraph, x: Tensor) -> None:
    class OneHop(Encoder):
        def __init__(self, in_channels: int | None = None) -> None:
            super().__init__(in_channels)

        def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
            return [x, torch.sparse.mm(graph.adjacency("mean"), x)]

    enc = build_encoder(OneHop(), in_channels=D, num_layers=5)
    assert isinstance(enc, OneHop) and enc.in_channels == D and enc.num_layers is None


# --------------------------------------------------------------------------- plain modules
class PlainGCN(nn.Module):
    """A plain PyG-style module: ``forward(x, edge_index)``."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.conv = GCNConv(d, d)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return x + self.conv(x, edge_index)


def test_plain_module_is_wrapped_and_called_with_edge_index(
    graph: BipartiteGraph, x: Tensor
) -> None:
    module = PlainGCN(D)
    enc = build_encoder(module, in_channels=D, num_layers=2)
    assert enc.module is not module  # a fresh copy per fit
    torch.testing.assert_close(enc(x, graph), enc.module(x, graph.edge_index))


def test_plain_module_is_reinitialised_and_ignores_num_layers() -> None:
    module = PlainGCN(D)
    with torch.no_grad():
        module.conv.lin.weight.fill_(7.0)
    torch.manual_seed(0)
    enc = build_encoder(module, in_channels=D, num_layers=None)
    again = build_encoder(module, in_channels=D, num_layers=5)  # the module has its own depth
    assert not torch.equal(enc.module.conv.lin.weight, module.conv.lin.weight)
    assert torch.equal(module.conv.lin.weight, torch.full_like(module.conv.lin.weight, 7.0))
    assert again.module.conv.lin.weight.shape == (D, D)


# --------------------------------------------------------------------------- custom encoders
@pytest.fixture
def registered_scaled() -> Iterator[type[Encoder]]:
    @register_encoder("test_scaled")
    class Scaled(Encoder):
        """Multiplies the mean-aggregated embeddings by a learned scalar."""

        def __init__(self, in_channels: int | None = None, num_layers: int | None = None,
                     *, init: float = 1.0) -> None:
            super().__init__(in_channels, num_layers)
            self.init = init
            self.scale = nn.Parameter(torch.empty(()))
            self.reset_parameters()

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
    enc = build_encoder("test_scaled", in_channels=D, num_layers=2)
    assert isinstance(enc, registered_scaled) and enc.num_layers == 2
    assert enc(x, graph).shape == x.shape
    enc2 = build_encoder(registered_scaled(init=2.0), in_channels=D, num_layers=None)
    assert float(enc2.scale.detach()) == 2.0 and enc2.num_layers == DEFAULT_NUM_LAYERS
    with pytest.raises(ValueError, match=r"already registered"):
        register_encoder("test_scaled")(type("Other", (Encoder,), {}))


def test_register_encoder_refuses_a_non_encoder() -> None:
    with pytest.raises(TypeError, match=r"only Encoder subclasses can be registered"):
        register_encoder("test_linear")(nn.Linear)
    assert "test_linear" not in list_encoders()
