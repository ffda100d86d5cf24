"""The ``gnnrec`` command line: fit, evaluate, recommend, demo.

Fit a model on an interactions table, evaluate it on a held-out table, and
recommend from it::

    gnnrec fit train.csv --out model.gnnrec --epochs 50 --seed 0
    gnnrec evaluate model.gnnrec test.csv --k 10 20
    gnnrec recommend model.gnnrec --users 1 2 3 --k 10

``gnnrec COMMAND --help`` lists a command's options, with examples. A
mistake in the input (a missing file, an unknown column or id, a bad option)
prints one line, ``gnnrec COMMAND: error: ...``, and exits with status 2;
``--debug`` shows the traceback instead. Built on :mod:`argparse`, so the
command line needs nothing beyond gnnrec's own dependencies.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

from gnnrec._version import __version__
from gnnrec.cli import _demo, _evaluate, _fit, _recommend
from gnnrec.cli._common import CLIError, Formatter

__all__ = ["build_parser", "main"]

_COMMANDS = (_fit, _evaluate, _recommend, _demo)
_EPILOG = """\
Run 'gnnrec COMMAND --help' for the options of a command and more examples.

example:
  gnnrec fit train.csv --out model.gnnrec --seed 0
  gnnrec evaluate model.gnnrec test.csv --k 10 20
  gnnrec recommend model.gnnrec --users 1 2 3 --k 10
  gnnrec demo --dataset synthetic
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``gnnrec`` parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="gnnrec", formatter_class=Formatter,
        description="Graph neural networks for recommendation, from the command line.",
        epilog=_EPILOG)
    parser.add_argument("--version", action="version", version=f"gnnrec {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gnnrec`` console script; returns the exit status.

    A bad option exits through :mod:`argparse` (:class:`SystemExit` with
    status 2); a mistake in the input returns 2 after one line on stderr.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    prog = f"gnnrec {args.command}"
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(prog)
        try:
            return int(args.run(args))
        except CLIError as err:
            if args.debug:
                raise
            print(f"{prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
            return err.status
        except KeyboardInterrupt:
            if args.debug:
                raise
            print(f"{prog}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # e.g. `gnnrec recommend ... | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
            return 0


def _warning_printer(prog: str) -> Callable[..., None]:
    """``showwarning`` that prints ``gnnrec COMMAND: warning: ...`` (one line)."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        text = " ".join(str(message).split())
        print(f"{prog}: warning: {text}", file=sys.stderr if file is None else file)

    return show
