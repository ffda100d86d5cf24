"""The encoder interface, its registry and resolver."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from gnnrec._components import Configurable, Registry, reset_children, resolve
from gnnrec._validation import check_int
from gnnrec.graph import BipartiteGraph

__all__ = [
    "DEFAULT_NUM_LAYERS",
    "Encoder",
    "build_encoder",
    "list_encoders",
    "register_encoder",
    "resolve_encoder",
]

#: Depth of an encoder when neither it nor the recommender sets ``num_layers``.
DEFAULT_NUM_LAYERS = 3


class Encoder(Configurable):
    r"""Base class of graph encoders.

    An encoder maps the input node features :math:`X^{(0)} \in \mathbb{R}^{N \times d}`
    (users first, then items) and the interaction graph to node embeddings of
    the same width :math:`d`. Subclasses implement :meth:`layer_outputs`,
    :math:`[X^{(0)}, X^{(1)}, \dots, X^{(L)}]`; :meth:`forward` returns the last
    one unless a subclass combines them. A subclass with learnable parameters
    calls :meth:`reset_parameters` at the end of its ``__init__``.

    Parameters
    ----------
    in_channels : int, optional
        Width :math:`d` of the input and output embeddings. Filled in by
        :func:`build_encoder` (the recommender's ``embedding_dim``).
    num_layers : int, optional
        Number of propagation layers :math:`L \geq 0`. ``None`` leaves the
        depth to :func:`build_encoder`: the recommender's ``num_layers``, else
        :data:`DEFAULT_NUM_LAYERS`. Setting it here *and* a different
        ``num_layers`` on the recommender is an error.

    Raises
    ------
    ValueError
        If ``in_channels`` is not an integer >= 1 or ``num_layers`` not an
        integer >= 0 (``None`` allowed for both).
    """

    _data_params: tuple[str, ...] = ("in_channels",)
    #: Whether the encoder reads the edges' ratings (``fit`` refuses data without them).
    requires_ratings = False

    def __init__(self, in_channels: int | None = None, num_layers: int | None = None) -> None:
        super().__init__()
        caller = type(self).__name__
        self.in_channels = check_int(in_channels, "in_channels", caller=caller, minimum=1,
                                     allow_none=True)
        self.num_layers = check_int(num_layers, "num_layers", caller=caller, minimum=0,
                                    allow_none=True)

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        r"""Embeddings after each layer, :math:`[X^{(0)}, X^{(1)}, \dots, X^{(L)}]`.

        Parameters
        ----------
        x : torch.Tensor
            Layer-0 embeddings, shape ``(num_nodes, in_channels)``.
        graph : BipartiteGraph
            The interaction graph.
        """
        raise NotImplementedError

    def forward(self, x: Tensor, graph: BipartiteGraph) -> Tensor:
        """Final node embeddings, shape ``(num_nodes, in_channels)``."""
        return self.layer_outputs(x, graph)[-1]

    def reset_parameters(self) -> None:
        """Re-initialise all learnable parameters."""
        reset_children(self)

    def resolve_num_layers(self, num_layers: int | None) -> int:
        """The depth to build: the one source of truth for ``num_layers``.

        Parameters
        ----------
        num_layers : int or None
            The recommender's ``num_layers``; ``None`` when it sets none.

        Returns
        -------
        int
            This encoder's own ``num_layers`` if set, else ``num_layers``, else
            :data:`DEFAULT_NUM_LAYERS`.

        Raises
        ------
        ValueError
            If both are set and differ.

        Examples
        --------
        >>> from gnnrec.encoders import GAT
        >>> GAT().resolve_num_layers(None), GAT().resolve_num_layers(2)
        (3, 2)
        >>> GAT(num_layers=3).resolve_num_layers(2)
        Traceback (most recent call last):
        ValueError: Recommender num_layers=2 but the encoder GAT(num_layers=3) sets its own; set one of them
        """
        caller = type(self).__name__
        own = check_int(getattr(self, "num_layers", None), "num_layers", caller=caller,
                        minimum=0, allow_none=True)
        if own is None:
            return DEFAULT_NUM_LAYERS if num_layers is None else num_layers
        if num_layers is not None and num_layers != own:
            raise ValueError(
                f"Recommender num_layers={num_layers} but the encoder "
                f"{caller}(num_layers={own}) sets its own; set one of them"
            )
        return int(own)

    def rebuild(self, **data_params: Any) -> Encoder:
        """A freshly initialised copy of width ``in_channels`` and the resolved depth.

        Parameters
        ----------
        in_channels : int
            The width.
        num_layers : int or None
            The recommender's ``num_layers`` (see :meth:`resolve_num_layers`);
            ignored by an encoder whose constructor has no ``num_layers``.
        rating_levels : tuple of float or None
            The distinct training ratings; passed on only to an encoder that
            declares it a data parameter (:class:`~gnnrec.encoders.RatingGCN`).
        """
        num_layers = data_params.pop("num_layers", None)
        levels = data_params.pop("rating_levels", None)
        if "rating_levels" in self._data_params:
            data_params["rating_levels"] = levels
        params = self._constructor_params(**data_params)
        if "num_layers" in params:
            params["num_layers"] = self.resolve_num_layers(num_layers)
        return type(self)(**params)


def layer_mean(outs: list[Tensor]) -> Tensor:
    r"""The mean :math:`\frac{1}{L+1}\sum_{l=0}^{L} X^{(l)}` of the layer outputs."""
    total = outs[0]
    for out in outs[1:]:
        total = total + out
    return total / len(outs)


def stacked_layer_outputs(
    convs: nn.ModuleList, x: Tensor, graph_input: Any, act: nn.Module, dropout: float,
    training: bool,
) -> list[Tensor]:
    r"""The outputs of a stack of layers, :math:`X^{(l+1)} = \mathrm{dropout}(\sigma(\mathrm{conv}_l(X^{(l)})))`.

    No activation or dropout after the last layer. The one layer loop of
    :class:`~gnnrec.encoders.ConvEncoder` and :class:`~gnnrec.encoders.RatingGCN`.
    """
    outs = [x]
    for i, conv in enumerate(convs):
        x = conv(x, graph_input)
        if i < len(convs) - 1:
            x = act(x)
            x = F.dropout(x, p=dropout, training=training)
        outs.append(x)
    return outs


class _ModuleEncoder(Encoder):
    """Adapter for a plain ``nn.Module`` called as ``module(x, edge_index)`` (PyG style).

    The module decides its own depth: :func:`build_encoder`'s ``num_layers``
    does not apply to it. Each :meth:`rebuild` deep-copies the module and
    re-initialises the copy (``reset_parameters`` of it and of every
    sub-module that has one).
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def layer_outputs(self, x: Tensor, graph: BipartiteGraph) -> list[Tensor]:
        out: Tensor = self.module(x, graph.edge_index)
        return [x, out]

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
    """Names of the registered encoders matching a shell-style wildcard.

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


def build_encoder(
    encoder: str | type | nn.Module,
    *,
    in_channels: int,
    num_layers: int | None,
    rating_levels: Sequence[float] | None = None,
) -> Encoder:
    """A freshly initialised encoder of width ``in_channels`` (what ``fit`` trains).

    Parameters
    ----------
    encoder : str, Encoder class, Encoder or nn.Module
        As accepted by :func:`resolve_encoder`. An instance is not modified.
    in_channels : int
        Width of the embeddings (the recommender's ``embedding_dim``).
    num_layers : int or None
        The recommender's ``num_layers``. ``None`` means the encoder's own
        ``num_layers``, else :data:`DEFAULT_NUM_LAYERS`; an encoder that sets
        its own ``num_layers`` may only be given ``None`` or the same value.
        A plain ``nn.Module`` ignores it (it has its own depth).
    rating_levels : sequence of float, optional
        The distinct training ratings, ascending, for an encoder whose
        weights depend on them (:class:`~gnnrec.encoders.RatingGCN`); the
        others ignore it.

    Raises
    ------
    ValueError
        For invalid sizes, or an encoder whose own ``num_layers`` differs from
        ``num_layers``.

    Examples
    --------
    >>> from gnnrec.encoders import GCN
    >>> len(build_encoder("gcn", in_channels=8, num_layers=None).convs)
    3
    >>> len(build_encoder(GCN(num_layers=1), in_channels=8, num_layers=None).convs)
    1
    """
    in_channels = check_int(in_channels, "in_channels", caller="build_encoder", minimum=1)
    num_layers = check_int(num_layers, "num_layers", caller="build_encoder", minimum=0,
                           allow_none=True)
    levels = None if rating_levels is None else tuple(float(r) for r in rating_levels)
    return resolve_encoder(encoder).rebuild(in_channels=in_channels, num_layers=num_layers,
                                            rating_levels=levels)

