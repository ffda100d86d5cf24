"""Diagnostics of a trained model: layer outputs, over-smoothing, prediction range.

The study behind gnnrec measured over-smoothing (node embeddings growing
alike with depth) as the mean pairwise cosine distance of node embeddings
after each layer, and the instability of unbounded rating heads as the
range of their predictions. These functions compute both for any model::

    from gnnrec.diagnostics import layer_distances
    layer_distances(model.model_, model.graph_, nodes=range(2000))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gnnrec._validation import check_float
from gnnrec.graph import BipartiteGraph
from gnnrec.metrics import out_of_range_rate
from gnnrec.model import GraphRecModel

__all__ = ["layer_distances", "layer_outputs", "pairwise_cosine_distance", "prediction_range"]


@torch.no_grad()
def layer_outputs(model: GraphRecModel, graph: BipartiteGraph) -> list[Tensor]:
    r"""Node embeddings after each encoder layer, :math:`[X^{(0)}, \dots, X^{(L)}]`.

    Computed in evaluation mode (no dropout) without gradients; users first,
    then items, each of shape ``(num_users + num_items, d)``.
    """
    model.eval()
    # a snapshot of layer 0, not the live (trainable) embedding parameter
    return list(model.encoder.layer_outputs(model.input_embeddings().detach().clone(), graph))


def pairwise_cosine_distance(x: Tensor) -> float:
    r"""Mean cosine distance :math:`1 - \cos(x_i, x_j)` over all distinct pairs of rows.

    Computed in :math:`O(nd)` from the sum of the normalised rows:
    :math:`\sum_{i \ne j} \cos(x_i, x_j) = \lVert \sum_i \hat x_i \rVert^2 - \sum_i \lVert \hat x_i \rVert^2`.

    Parameters
    ----------
    x : torch.Tensor, shape (n, d)

    Returns
    -------
    float
        NaN for fewer than two rows.

    Examples
    --------
    >>> pairwise_cosine_distance(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    1.0
    """
    n = x.shape[0]
    if n < 2:
        return math.nan
    z = torch.nn.functional.normalize(x.double(), dim=1)
    total = z.sum(dim=0)
    sum_cos = float(total @ total) - float((z * z).sum())
    return 1.0 - sum_cos / (n * (n - 1))


def layer_distances(model: GraphRecModel, graph: BipartiteGraph, nodes: Any) -> list[float]:
    """:func:`pairwise_cosine_distance` of the ``nodes`` rows after each layer (index 0: input).

    Parameters
    ----------
    model : GraphRecModel
    graph : BipartiteGraph
    nodes : array-like of int
        Node indices (users ``0..U-1``, then items) to compare, e.g. a sample.
    """
    idx = torch.as_tensor(np.asarray(nodes, dtype=np.int64))
    return [
        pairwise_cosine_distance(out[idx.to(out.device)].cpu())
        for out in layer_outputs(model, graph)
    ]


def prediction_range(
    y_pred: Any, *, min_rating: float | None = None, max_rating: float | None = None
) -> dict[str, float]:
    """Smallest, largest and mean prediction, and the share outside the rating range.

    Parameters
    ----------
    y_pred : array-like
    min_rating, max_rating : float, optional
        The rating scale; with either, ``"out_of_range_rate"`` is included.

    Returns
    -------
    dict of str to float
        ``"min"``, ``"max"``, ``"mean"`` (and ``"out_of_range_rate"``).

    Examples
    --------
    >>> prediction_range([0.5, 3.0, 5.5], min_rating=1, max_rating=5)
    {'min': 0.5, 'max': 5.5, 'mean': 3.0, 'out_of_range_rate': 0.6666666666666666}
    """
    pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if len(pred) == 0:
        raise ValueError("prediction_range: y_pred must be non-empty, got 0 values")
    check_float(min_rating, "min_rating", caller="prediction_range", allow_none=True)
    check_float(max_rating, "max_rating", caller="prediction_range", allow_none=True)
    out = {"min": float(pred.min()), "max": float(pred.max()), "mean": float(pred.mean())}
    if min_rating is not None or max_rating is not None:
        out["out_of_range_rate"] = out_of_range_rate(pred, min_rating, max_rating)
    return out
