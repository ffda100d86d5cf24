"""The encoder interface, its registry and resolver."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from gnnrec._components import Configurable, Registry, reset_children, resolve
from gnnrec.graph import BipartiteGraph

__all__ = [
    "Encoder",
    "build_encoder",
    "list_encoders",
    "register_encoder",
    "resolve_encoder",
]

class Encoder(Configurable):
    r"""Base class of graph encoders.

    An encoder maps the input node features :math:`X \in \mathbb{R}^{N \times d}`
    (users first, then items) and the interaction graph to node embeddings of
    the same width :math:`d`. Subclasses implement :meth:`layer_outputs`;
    :meth:`forward` combines them.

    Parameters
    ----------
    in_channels : int, optional
        Width of the input and output embeddings. Filled in by
        :class:`~gnnrec.Recommender` from its ``embedding_dim``.
    num_layers : int, optional
        Number of propagation layers; ``None`` takes the recommender's
        ``num_layers``.
    """

    _data_params = ("in_channels",)

    def __init__(self, in_channels: int | None = None, num_layers: int | None = None) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_layers = num_layers

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        """Embeddings after each layer, ``[X^{(0)}, X^{(1)}, ..., X^{(L)}]``."""
        raise NotImplementedError

    def forward(self, x: Tensor, graph: BipartiteGraph) -> Tensor:
        """Final node embeddings, shape ``(num_nodes, in_channels)``."""
        return self.layer_outputs(x, graph)[-1]

    def reset_parameters(self) -> None:
        """Re-initialise all learnable parameters."""
        reset_children(self)


def layer_mean(outs: list[Tensor]) -> Tensor:
    r"""The mean :math:`\frac{1}{L+1}\sum_{l=0}^{L} X^{(l)}` of the layer outputs."""
    total = outs[0]
    for out in outs[1:]:
        total = total + out
    return total / len(outs)


class _ModuleEncoder(Encoder):
    """Adapter for a plain ``nn.Module`` called as ``module(x, edge_index)`` (PyG style)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        out: Tensor = self.module(x, graph.edge_index)
        return [x, out]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"module": self.module}

    def rebuild(self, **data_params: Any) -> _ModuleEncoder:
        clone = copy.deepcopy(self.module)
        reset_children(clone)
        reset = getattr(clone, "reset_parameters", None)
        if callable(reset):
            reset()
        return _ModuleEncoder(clone)


ENCODERS: Registry[Encoder] = Registry("encoder", Encoder)


def register_encoder(name: str | None = None) -> Any:
    """Class decorator adding an :class:`Encoder` subclass to the registry.

    Parameters
    ----------
    name : str, optional
        Registry name; defaults to the lower-case class name.

    Examples
    --------
    >>> from gnnrec.encoders import Encoder, register_encoder
    >>> @register_encoder("identity")
    ... class Identity(Encoder):
    ...     def layer_outputs(self, x, graph):
    ...         return [x]
    >>> "identity" in list_encoders()
    True
    >>> _ = ENCODERS._classes.pop("identity")
    """
    return ENCODERS.register(name)


def list_encoders(pattern: str = "*") -> list[str]:
    """Names of the registered encoders matching a wildcard pattern.

    Examples
    --------
    >>> list_encoders("*gcn")
    ['gcn', 'lightgcn']
    """
    return ENCODERS.names(pattern)


def resolve_encoder(encoder: str | type | nn.Module) -> Encoder:
    """Turn a name, a class or an instance into an (unsized) :class:`Encoder`.

    A plain :class:`torch.nn.Module` (not an :class:`Encoder`) is wrapped and
    called as ``module(x, edge_index)``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For anything else.
    """
    return resolve(encoder, ENCODERS, caller="resolve_encoder", adapter=_ModuleEncoder)


def build_encoder(encoder: str | type | nn.Module, in_channels: int, num_layers: int) -> Encoder:
    """A freshly initialised encoder of width ``in_channels`` (used by ``fit``).

    The encoder's own ``num_layers`` wins over the ``num_layers`` given here.
    """
    spec = resolve_encoder(encoder)
    sizes: dict[str, Any] = {"in_channels": in_channels}
    if "num_layers" in spec.get_params() and spec.get_params()["num_layers"] is None:
        sizes["num_layers"] = num_layers
    params = {**spec.get_params(), **sizes}
    if isinstance(spec, _ModuleEncoder):
        return spec.rebuild()
    built = type(spec)(**params)
    with torch.no_grad():
        built.reset_parameters()
    return built
