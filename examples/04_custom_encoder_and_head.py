"""
Custom encoders and heads
=========================

Three ways to plug your own modules into :class:`~gnnrec.Recommender`:

1. a plain PyTorch Geometric style ``nn.Module`` called as
   ``module(x, edge_index)``;
2. an :class:`~gnnrec.encoders.Encoder` subclass, registered by name with
   :func:`~gnnrec.encoders.register_encoder` (so it can be saved and loaded);
3. a :class:`~gnnrec.heads.Head` subclass registered with
   :func:`~gnnrec.heads.register_head`.
"""

# %%
# Setup
# -----
import os
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GraphConv

from gnnrec import Recommender
from gnnrec.data import binarize, user_ratio_split
from gnnrec.datasets import load_movielens, make_ratings
from gnnrec.encoders import Encoder, list_encoders, register_encoder
from gnnrec.graph import spmm
from gnnrec.heads import Head, list_heads, register_head

QUICK = os.environ.get("GNNREC_EXAMPLES_QUICK") == "1"


def load_data():
    """MovieLens-100K ratings and movie titles (or synthetic data in quick mode)."""
    if not QUICK or os.environ.get("GNNREC_DATA_DIR"):
        try:
            ml = load_movielens("100k", download=not QUICK)
        except FileNotFoundError as err:
            if not QUICK:
                raise
            print(f"MovieLens-100K not found ({err})")
        else:
            data = ml.interactions
            if QUICK:  # a fraction of the users, for speed
                data = data.subset(data.users < 150)
            return data, dict(zip(ml.items.item_id.tolist(), ml.items.title.tolist(), strict=True))
    print("quick mode without MovieLens data: using a small synthetic data set instead")
    return make_ratings(), {}


data, titles = load_data()
split = user_ratio_split(binarize(data, threshold=4), test_size=0.2, random_state=0)
EPOCHS = 2 if QUICK else 30
DIM = 64

# %%
# 1. A plain module
# -----------------
# Any module whose ``forward(x, edge_index)`` maps node embeddings of width
# ``embedding_dim`` to the same width works. ``edge_index`` holds both
# directions of every user–item edge (PyG format). The module is copied and
# re-initialised (``reset_parameters``) at every ``fit``.


class TwoGraphConvs(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = GraphConv(channels, channels, aggr="mean")
        self.conv2 = GraphConv(channels, channels, aggr="mean")

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv1(x, edge_index))
        return x + self.conv2(h, edge_index)  # keep the ego embedding (residual)


plain = Recommender(encoder=TwoGraphConvs(DIM), embedding_dim=DIM, epochs=EPOCHS, random_state=0)
plain.fit(split.train)
print("plain module:", round(plain.evaluate(split.test, k=20)["ndcg@20"], 4))

# %%
# 2. A registered ``Encoder`` subclass
# ------------------------------------
# Implement ``layer_outputs(x, graph)``, returning the embeddings after each
# layer, and store every constructor argument as an attribute of the same
# name (that gives ``get_params``/``set_params`` and lets ``fit`` build a
# sized copy). ``graph`` is a :class:`~gnnrec.graph.BipartiteGraph`: its
# normalised adjacencies are built once per fit, and :func:`~gnnrec.graph.spmm`
# multiplies by them with a fast backward pass. The base class's ``forward``
# returns the last layer; here we return the mean of all layers instead.


@register_encoder("lazy_mean")
class LazyMean(Encoder):
    r"""Lazy random walk: $X^{(l+1)} = \alpha X^{(l)} + (1-\alpha) D^{-1} A X^{(l)}$."""

    def __init__(self, in_channels=None, num_layers=None, *, alpha: float = 0.5) -> None:
        super().__init__(in_channels, num_layers)
        self.alpha = alpha

    def layer_outputs(self, x, graph):
        adj = graph.adjacency("mean")
        outs = [x]
        for _ in range(self.num_layers or 0):
            outs.append(self.alpha * outs[-1] + (1 - self.alpha) * spmm(adj, outs[-1]))
        return outs

    def forward(self, x, graph):
        return torch.stack(self.layer_outputs(x, graph)).mean(0)


print("encoders:", list_encoders())

# %%
# 3. A registered ``Head`` subclass
# ---------------------------------
# A head scores (user, item) pairs from their final embeddings. The first four
# constructor arguments are sizes that ``fit`` fills in; hyper-parameters
# come after them, keyword-only. ``users`` is ``None`` for folded-in users
# (no per-user parameters). ``score_all`` is optional but makes
# ``recommend`` and evaluation fast (one matrix product).


@register_head("scaled_cosine")
class ScaledCosineHead(Head):
    r"""$s(u, i) = \gamma \cos(e_u, e_i)$."""

    def __init__(
        self,
        in_channels=None,
        num_users=None,
        num_items=None,
        target_mean=None,
        *,
        scale: float = 10.0,
    ) -> None:
        super().__init__(in_channels, num_users, num_items, target_mean)
        self.scale = scale

    def forward(self, user_emb, item_emb, users, items):
        return self.scale * F.cosine_similarity(user_emb, item_emb, dim=-1)

    def score_all(self, user_emb, item_emb, users, items):
        return self.scale * F.normalize(user_emb, dim=-1) @ F.normalize(item_emb, dim=-1).T


print("heads:", list_heads())

# %%
# Use them by name or by instance
# -------------------------------
custom = Recommender(
    encoder=LazyMean(alpha=0.3),
    head="scaled_cosine",
    embedding_dim=DIM,
    num_layers=3,
    epochs=EPOCHS,
    random_state=0,
)
custom.fit(split.train)
print(custom)
print("custom encoder + head:", round(custom.evaluate(split.test, k=20)["ndcg@20"], 4))

# Nested parameters of instances work as in scikit-learn (a head given by
# name has none until it is an instance); they take effect at the next fit.
custom.set_params(encoder__alpha=0.5, head=ScaledCosineHead(scale=5.0))
custom.set_params(head__scale=8.0)
print({k: v for k, v in custom.get_params().items() if "__" in k})

# %%
# Save and load
# -------------
# Registered classes are saved by name and parameters (no pickle). A plain
# module cannot be described by name, so ``save`` refuses it; wrap it in a
# registered ``Encoder`` subclass to save it.
custom.fit(split.train)
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "custom.gnnrec")
    custom.save(path)
    loaded = Recommender.load(path, device="cpu")
    user = loaded.user_ids_[0]
    assert np.array_equal(loaded.recommend(user, k=5)[0], custom.recommend(user, k=5)[0])
    print("reloaded:", loaded)

    try:
        plain.save(path)
    except ValueError as err:
        print("plain module:", err)
