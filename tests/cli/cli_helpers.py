"""Helpers of the command-line tests: small rating tables written as CSV files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from gnnrec import Interactions

#: Settings that make a fit take a fraction of a second.
FAST = ["--epochs", "3", "--embedding-dim", "8", "--seed", "0", "--quiet"]


def write_table(path: Path, data: Interactions, *, sep: str = ",",
                header: Sequence[str] = ("user", "item", "rating", "timestamp")) -> Path:
    """``data`` as a text table with a header row (the columns it has)."""
    columns = data.to_arrays()
    roles = [r for r in ("user", "item", "rating", "timestamp") if r in columns]
    lines = [sep.join(header[: len(roles)])]
    for row in zip(*(columns[r].tolist() for r in roles), strict=True):
        lines.append(sep.join(f"{v:g}" if isinstance(v, float) else str(v) for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Files:
    """A train/test split of a small rating data set, as CSV files, and a model fitted on train."""

    train: Interactions
    test: Interactions
    train_csv: Path
    test_csv: Path
    model: Path


def one_error_line(err: str, command: str) -> str:
    """The message of the one error line a command printed on stderr."""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    prefix = f"gnnrec {command}: error: "
    assert err.startswith(prefix), err
    return err[len(prefix):].rstrip("\n")


def ml100k() -> Path:
    """The MovieLens folder of GNNREC_DATA_DIR; skips the test without ml-100k."""
    root = os.environ.get("GNNREC_DATA_DIR")
    if not root or not (Path(root) / "ml-100k" / "u.data").is_file():
        pytest.skip("GNNREC_DATA_DIR is unset or has no ml-100k/u.data")
    return Path(root)
