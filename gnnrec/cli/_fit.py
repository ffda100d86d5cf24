"""``gnnrec fit``: fit a Recommender on a table or on MovieLens and save it."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnnrec.cli._common import (
    CLIError,
    Formatter,
    add_common_options,
    add_progress_options,
    describe,
    movielens_hint,
    show_progress,
    user_errors,
)
from gnnrec.cli._io import add_table_options, read_interactions
from gnnrec.data import Interactions
from gnnrec.datasets import list_movielens, load_movielens
from gnnrec.encoders import list_encoders
from gnnrec.heads import list_heads
from gnnrec.losses import list_losses
from gnnrec.recommender import Recommender
from gnnrec.training.distributed import is_main_process

HELP = "fit a model on a CSV/TSV/Parquet file or on MovieLens and save it"
EPILOG = """\
DATA is a CSV, TSV or Parquet file with a header row, or a MovieLens name
(ml-100k, ml-1m, ...: read from $GNNREC_DATA_DIR or --root, else downloaded).

example:
  gnnrec fit ratings.csv --out model.gnnrec --encoder lightgcn --epochs 50 --seed 0
  gnnrec fit ml-100k --out ml100k.gnnrec --task ranking --validation-fraction 0.1
  gnnrec fit events.tsv --user-col uid --item-col sku --config cfg.json --out m.gnnrec
"""


@dataclass(frozen=True)
class Param:
    """A setting of ``fit``: its option, its config key and its check."""

    name: str  # the Recommender parameter
    kind: str  # "int", "float", "str", "fanouts" ("auto", an int or a list of ints)
    help: str
    minimum: float | None = None
    strict: bool = False  # minimum excluded
    maximum: float | None = None  # excluded
    nullable: bool = False
    option: str = ""
    choices: tuple[str, ...] = ()
    metavar: str = ""

    @property
    def flag(self) -> str:
        return self.option or "--" + self.name.replace("_", "-")

    def constraint(self) -> str:
        text = {"int": "an integer", "float": "a number", "str": "a string",
                "fanouts": "auto, an integer >= 1 or comma-separated integers >= 1"}[self.kind]
        if self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        if self.minimum is not None and self.maximum is not None:
            text += f" in {'(' if self.strict else '['}{self.minimum}, {self.maximum})"
        elif self.minimum is not None:
            text += f" {'>' if self.strict else '>='} {self.minimum}"
        return text + (" or none" if self.nullable else "")

    def check(self, value: Any) -> Any:
        """``value`` if it is valid, else a ValueError saying what it must be."""
        if value is None and self.nullable:
            return None
        if self.kind == "fanouts":
            values = value if isinstance(value, list) else [value]
            ok = value == "auto" or (bool(values) and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values))
            if not ok:
                raise ValueError(f"must be {self.constraint()}, got {value!r}")
            return value
        ok = {"int": isinstance(value, int), "str": isinstance(value, str),
              "float": isinstance(value, (int, float))}[self.kind]
        ok = ok and not isinstance(value, bool)
        if ok and self.choices:
            ok = value in self.choices
        if ok and self.minimum is not None:
            ok = value > self.minimum if self.strict else value >= self.minimum
        if ok and self.maximum is not None:
            ok = value < self.maximum
        if ok and self.kind == "float":
            try:
                ok = math.isfinite(value)
            except OverflowError:  # an integer beyond the float range
                ok = False
        if not ok:
            shown = repr(value)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise ValueError(f"must be {self.constraint()}, got {shown}")
        return float(value) if self.kind == "float" else value

    def parse(self, text: str) -> Any:
        """The argparse type of the option."""
        value: Any = text
        if self.nullable and text.lower() == "none":
            value = None
        elif self.kind == "fanouts" and text != "auto":
            try:
                parts = [int(t) for t in text.split(",")]
                value = parts[0] if len(parts) == 1 else parts
            except ValueError:
                pass
        elif self.kind in ("int", "float"):
            try:
                value = int(text) if self.kind == "int" else float(text)
            except ValueError:
                pass
        try:
            return self.check(value)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None


PARAMS = [
    Param("encoder", "str", "graph encoder: " + ", ".join(list_encoders())),
    Param("head", "str", "output head: " + ", ".join(list_heads())
          + " (default: bounded_sigmoid for ratings, dot for ranking)", nullable=True),
    Param("task", "str", "rating fits the ratings, ranking implicit feedback; auto is rating "
          "when DATA has ratings", choices=("auto", "rating", "ranking")),
    Param("embedding_dim", "int", "width of the embeddings and encoder layers", 1),
    Param("num_layers", "int", "encoder depth (default: 3)", 0, nullable=True),
    Param("epochs", "int", "maximum number of epochs", 1),
    Param("batch_size", "int", "interactions per step", 1),
    Param("fanouts", "fanouts", "neighbours sampled per node and layer, e.g. 10 or 15,10,5 "
          "(none: propagate the whole graph every step; auto: by the graph's size)",
          nullable=True, metavar="F"),
    Param("learning_rate", "float", "Adam's learning rate", 0.0, strict=True),
    Param("weight_decay", "float", "L2 penalty", 0.0),
    Param("loss", "str", "ranking loss: " + ", ".join(list_losses()) + " (default: bpr)",
          nullable=True),
    Param("num_negatives", "int", "sampled negatives per positive (ranking; default: the "
          "loss's own, 1 for bpr)", 1, nullable=True),
    Param("early_stopping", "int", "stop after this many epochs of the validation set "
          "without improvement (none: never)", 1, nullable=True),
    Param("validation_metric", "str", "metric of the validation set: rmse or mae for ratings, "
          "a ranking metric such as ndcg@20 for ranking (default: rmse / ndcg@20)",
          nullable=True),
    Param("max_grad_norm", "float", "clip the gradient norm of each step", 0.0, strict=True,
          nullable=True),
    Param("device", "str", "auto (CUDA when available), cpu, cuda or cuda:N", metavar="DEVICE"),
    Param("random_state", "int", "random seed: the same seed gives the same model on a CPU "
          "(default: a fresh seed each run)", 0, nullable=True, option="--seed"),
    Param("validation_fraction", "float", "when no validation set is given, hold out this "
          "fraction of each user's rows for early stopping and best-epoch selection "
          "(none or 0: train on every row for --epochs epochs)", 0.0, maximum=1.0,
          nullable=True),
]
_BY_NAME = {p.name: p for p in PARAMS}
#: Config keys, also as written on the command line (``seed``, ``embedding-dim``).
_KEYS = {**{p.name: p.name for p in PARAMS}, **{p.flag[2:].replace("-", "_"): p.name for p in PARAMS}}
_VALID_KEYS = ", ".join(sorted(_KEYS))


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("fit", help=HELP, description=HELP[0].upper() + HELP[1:] + ".",
                            epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("data", metavar="DATA", help="CSV/TSV/Parquet file or MovieLens name")
    parser.add_argument("--out", required=True, metavar="MODEL",
                        help="model file to write (replaced atomically if it exists)")
    parser.add_argument("--config", metavar="JSON",
                        help="JSON object of the model settings below (keys as the options: "
                             "epochs, learning_rate, seed, ...); options given here win")
    group = parser.add_argument_group("model settings")
    defaults = inspect.signature(Recommender).parameters
    for p in PARAMS:
        default = defaults[p.name].default if p.name in defaults else None
        shown = "" if "(default:" in p.help else f" (default: {_show(default)})"
        metavar = p.metavar or ("{" + ",".join(p.choices) + "}" if p.choices
                                else {"int": "N", "float": "X"}.get(p.kind, "NAME"))
        group.add_argument(p.flag, dest=p.name, type=p.parse, default=argparse.SUPPRESS,
                           metavar=metavar, help=p.help + shown)
    data = parser.add_argument_group("MovieLens")
    data.add_argument("--root", metavar="FOLDER",
                      help="MovieLens data folder (default: $GNNREC_DATA_DIR, else the cache)")
    data.add_argument("--offline", action="store_true", help="never download MovieLens")
    add_table_options(parser)
    out = parser.add_argument_group("output")
    add_progress_options(out)
    out.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_common_options(parser)
    parser.set_defaults(run=run)


def _show(default: Any) -> str:
    return "none" if default is None else str(default)


def load_config(path: str) -> dict[str, Any]:
    """The settings of a ``--config`` file, checked: unknown keys and bad values are errors."""
    with user_errors():
        text = Path(path).read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise CLIError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise CLIError(f"{path} must hold a JSON object, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _KEYS.get(str(key).replace("-", "_"))
        if name is None:
            raise CLIError(f"{path}: unknown key {key!r}; valid keys are {_VALID_KEYS}")
        if name in out:
            raise CLIError(f"{path}: {key!r} repeats a setting given by another key")
        try:
            out[name] = _BY_NAME[name].check(value)
        except ValueError as err:
            raise CLIError(f"{path}: {key} {err}") from None
    return out


def _load_data(args: argparse.Namespace) -> Interactions:
    if not Path(args.data).exists() and args.data.lower().removeprefix("ml-") in list_movielens():
        try:
            return load_movielens(args.data, root=args.root, download=not args.offline).interactions
        except FileNotFoundError as err:
            raise CLIError(movielens_hint(err, args.offline)) from err
        except (ValueError, TypeError, OSError) as err:
            raise CLIError(describe(err)) from err
    if not Path(args.data).exists():
        names = ", ".join("ml-" + n for n in list_movielens())
        raise CLIError(f"no such file: {args.data} (DATA is a CSV/TSV/Parquet file or a "
                       f"MovieLens name: {names})")
    return read_interactions(args.data, args)


def _check_out(path: str) -> None:
    """Fail before training when the model could not be written."""
    out = Path(path)
    if out.is_dir():
        raise CLIError(f"--out {path} is a folder; give a file name, e.g. {out / 'model.gnnrec'}")
    if not out.parent.is_dir():
        raise CLIError(f"--out {path}: the folder {out.parent} does not exist")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else {}
    given = {p.name: getattr(args, p.name) for p in PARAMS if hasattr(args, p.name)}
    settings = {**config, **given}
    _check_out(args.out)
    train = _load_data(args)
    model = Recommender(**settings, verbose=show_progress(args))
    start = time.perf_counter()
    try:
        model.fit(train)
    except FloatingPointError as err:
        raise CLIError(describe(err), status=1) from err
    except (ValueError, TypeError, KeyError) as err:
        raise CLIError(_settings_terms(describe(err), given, args.config)) from err
    seconds = time.perf_counter() - start
    if not is_main_process():  # under torchrun, rank 0 saves and reports
        return 0
    with user_errors(f"--out {args.out}"):
        model.save(args.out)
    if not args.quiet:
        print(f"fitted {model.encoder} for {model.task_} on {len(train)} interactions "
              f"({model.n_users_} users, {model.n_items_} items): {len(model.history_)} epochs "
              f"in {seconds:.1f} s, best epoch {model.best_epoch_}")
        print(f"saved {args.out}")
    return 0


def _settings_terms(message: str, given: dict[str, Any], config: str | None) -> str:
    """``Recommender: epochs must ...`` in the user's terms: the option or the config key."""
    match = re.match(r"Recommender(?:\.fit)?: (\w+) (must .*)", message)
    if match is None or match.group(1) not in _BY_NAME:
        return message
    name, rest = match.groups()
    if name in given or config is None:
        return f"{_BY_NAME[name].flag} {rest}"
    return f"{config}: {name} {rest}"
