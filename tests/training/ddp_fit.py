"""Run by tests/training/test_distributed.py under torchrun (and once without it).

    python ddp_fit.py OUT.npz [--crash-rank R] [--fanouts F]

Fits a small LightGCN on fixed random data; the main process writes the
trained embeddings to OUT.npz. With ``--crash-rank R`` rank R raises after
its first epoch.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch.distributed as dist

from gnnrec import Interactions, Recommender
from gnnrec.training import Callback
from gnnrec.training.distributed import is_main_process


class CrashOn(Callback):
    def __init__(self, rank: int) -> None:
        self.rank = rank

    def on_epoch_end(self, record: dict[str, float]) -> None:  # type: ignore[override]
        if int(os.environ.get("RANK", "0")) == self.rank:
            raise RuntimeError(f"rank {self.rank} failed on purpose")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--crash-rank", type=int, default=None)
    ap.add_argument("--fanouts", type=int, default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    data = Interactions.from_arrays(rng.integers(0, 60, 900), rng.integers(0, 40, 900),
                                    duplicates="last")
    model = Recommender(epochs=3, batch_size=128, embedding_dim=8, num_layers=2,
                        num_negatives=2, fanouts=args.fanouts, random_state=0)
    callbacks = [] if args.crash_rank is None else [CrashOn(args.crash_rank)]
    model.fit(data, callbacks=callbacks)
    if is_main_process():
        users, items = model.embeddings()
        world = dist.get_world_size() if dist.is_initialized() else 1
        np.savez(args.out, users=users, items=items, world=world,
                 loss=np.array([h["loss"] for h in model.history_]))


if __name__ == "__main__":
    main()
