"""What the commands share: the user-error type, id parsing, options, output."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

#: The exceptions the library raises for bad input: argument checks, unknown
#: ids, missing or unreadable files. Inside :func:`user_errors` they become a
#: :class:`CLIError`; anywhere else they are bugs and keep their traceback.
USER_ERRORS = (ValueError, KeyError, TypeError, OSError)


class CLIError(Exception):
    """A mistake of the user's, reported as one line ``gnnrec <command>: error: ...``.

    ``status`` is the exit status: 2 for bad input (the default), 1 for a run
    that failed on valid input (a diverged fit).
    """

    def __init__(self, message: str, *, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def describe(err: BaseException) -> str:
    """One line for an exception: a KeyError without quotes, an OSError with its path."""
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        text = err.args[0]
    elif isinstance(err, OSError) and err.filename is not None and err.strerror:
        text = f"{err.strerror}: {err.filename}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


@contextmanager
def user_errors(prefix: str = "") -> Iterator[None]:
    """Turn the library's input errors (:data:`USER_ERRORS`) into a :class:`CLIError`."""
    try:
        yield
    except CLIError:
        raise
    except USER_ERRORS as err:
        text = describe(err)
        raise CLIError(f"{prefix}: {text}" if prefix else text) from err


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help with the description and example epilogs as written (line breaks kept)."""


def int_at_least(minimum: int) -> Any:
    """An argparse type: an integer ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--debug``, also accepted after the command (``gnnrec fit --debug ...``)."""
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help="where to run: auto (CUDA when available), cpu, cuda, cuda:N "
                             "(default: auto)")


def show_progress(args: argparse.Namespace) -> bool:
    """Whether to draw a progress bar: ``--progress/--no-progress``, else on a terminal."""
    if getattr(args, "progress", None) is not None:
        return bool(args.progress)
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def add_progress_options(parser: Any) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="draw a progress bar on stderr (needs tqdm: pip install "
                             "'gnnrec[progress]'; default: only when stderr is a terminal)")


def parse_ids(tokens: Sequence[str], model_ids: np.ndarray, what: str, source: str) -> np.ndarray:
    """Ids given on the command line, in the type of the model's ids.

    ``what`` is ``"user"`` or ``"item"``; ``source`` names the option or file
    for the error message.
    """
    if not tokens:
        raise CLIError(f"{source} holds no {what} ids")
    if model_ids.dtype.kind in "iu":
        out = []
        for token in tokens:
            try:
                out.append(int(token))
            except ValueError:
                raise CLIError(f"{source}: {what} id {token!r} is not an integer, and this "
                               f"model's {what} ids are integers") from None
        return np.asarray(out, dtype=np.int64)
    return np.asarray(list(tokens), dtype=str)


def read_id_file(path: str, what: str) -> list[str]:
    """One id per line (blank lines skipped); ``-`` is standard input."""
    with user_errors():
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8-sig") as f:
                lines = f.read().splitlines()
    tokens = [line.strip() for line in lines if line.strip()]
    if not tokens:
        raise CLIError(f"{path} holds no {what} ids (one id per line)")
    return tokens


def plain(value: Any) -> Any:
    """A numpy scalar as a Python one; non-finite floats as ``None`` (valid JSON)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def movielens_hint(err: BaseException, offline: bool) -> str:
    """One paragraph for MovieLens data that are neither here nor downloadable."""
    found = describe(err).replace("; or pass download=True to fetch it", "").rstrip(".")
    download = ", or drop --offline to download it" if offline else ""
    return (f"{found}. Set GNNREC_DATA_DIR to the folder that holds it (or pass --root "
            f"FOLDER){download}; or run 'gnnrec demo --dataset synthetic', which needs no data "
            "and no network.")
