"""One way to check arguments, one message style.

Every public function and class of gnnrec checks its arguments through these
helpers, so every mistake reads the same::

    Recommender.recommend: k must be an integer >= 1, got 1.5

that is ``"<caller>: <argument> must be <constraint>, got <value>"``. A value
of the right kind that breaks a constraint, and a scalar of the wrong kind
(``k=1.5``, ``k="10"``), raise :class:`ValueError`; an object of the wrong
class where a container is expected (``fit(train=<scipy matrix>)``) raises
:class:`TypeError`. Each helper returns the value converted to its plain
Python type, so callers write ``k = check_int(k, "k", caller=..., minimum=1)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

T = TypeVar("T")

__all__ = [
    "argument_error",
    "check_bool",
    "check_choice",
    "check_device",
    "check_float",
    "check_instance",
    "check_int",
    "check_ks",
]


def _show(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def argument_error(caller: str, name: str, constraint: str, value: Any) -> ValueError:
    """The :class:`ValueError` for an argument that breaks its constraint.

    Parameters
    ----------
    caller : str
        The public function or method, e.g. ``"Recommender.fit"``.
    name : str
        The argument, e.g. ``"k"``.
    constraint : str
        What it must be, e.g. ``"an integer >= 1"``.
    value : object
        What it was.

    Examples
    --------
    >>> argument_error("recommend", "k", "an integer >= 1", 0)
    ValueError('recommend: k must be an integer >= 1, got 0')
    """
    return ValueError(f"{caller}: {name} must be {constraint}, got {_show(value)}")


def _bounds(minimum: float | None, maximum: float | None, strict: bool = False) -> str:
    low = ">" if strict else ">="
    if minimum is not None and maximum is not None:
        return f" in {'(' if strict else '['}{minimum}, {maximum}]"
    if minimum is not None:
        return f" {low} {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def check_int(
    value: Any,
    name: str,
    *,
    caller: str,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
) -> Any:
    """Check an integer argument (``bool`` is not an integer here) and return it as ``int``.

    Examples
    --------
    >>> check_int(3, "k", caller="f", minimum=1)
    3
    >>> check_int(1.5, "k", caller="f", minimum=1)
    Traceback (most recent call last):
    ValueError: f: k must be an integer >= 1, got 1.5
    """
    if value is None and allow_none:
        return None
    constraint = "an integer" + _bounds(minimum, maximum) + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise argument_error(caller, name, constraint, value)
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise argument_error(caller, name, constraint, value)
    return out


def check_float(
    value: Any,
    name: str,
    *,
    caller: str,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
    allow_none: bool = False,
) -> Any:
    """Check a finite real argument and return it as ``float``.

    With ``strict`` the lower bound is excluded (``> minimum``).

    Examples
    --------
    >>> check_float(0.0, "learning_rate", caller="f", minimum=0.0, strict=True)
    Traceback (most recent call last):
    ValueError: f: learning_rate must be a finite number > 0.0, got 0.0
    """
    if value is None and allow_none:
        return None
    constraint = "a finite number" + _bounds(minimum, maximum, strict)
    constraint += " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise argument_error(caller, name, constraint, value)
    try:
        out = float(value)
    except OverflowError:  # an integer beyond the float range
        raise argument_error(caller, name, constraint, value) from None
    too_low = minimum is not None and (out <= minimum if strict else out < minimum)
    too_high = maximum is not None and out > maximum
    if not math.isfinite(out) or too_low or too_high:
        raise argument_error(caller, name, constraint, value)
    return out


def check_choice(value: Any, name: str, choices: Iterable[T], *, caller: str) -> T:
    """Check that ``value`` is one of ``choices`` and return it.

    Examples
    --------
    >>> check_choice("nan", "unknown", ("raise", "ignore"), caller="predict")
    Traceback (most recent call last):
    ValueError: predict: unknown must be one of 'raise', 'ignore', got 'nan'
    """
    options = tuple(choices)
    if isinstance(value, str) and value in options:
        return cast(T, value)
    if not isinstance(value, str) and any(value is c for c in options):
        return cast(T, value)
    shown = ", ".join(repr(c) for c in options)
    raise argument_error(caller, name, f"one of {shown}", value)


def check_bool(value: Any, name: str, *, caller: str) -> bool:
    """Check a ``bool`` argument (numpy booleans included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise argument_error(caller, name, "True or False", value)
    return bool(value)


def check_instance(value: Any, name: str, types: type | tuple[type, ...], *, caller: str) -> Any:
    """Check the class of an object argument; raises :class:`TypeError`.

    Examples
    --------
    >>> check_instance([1], "train", dict, caller="fit")
    Traceback (most recent call last):
    TypeError: fit: train must be a dict, got list
    """
    if not isinstance(value, types):
        classes = types if isinstance(types, tuple) else (types,)
        names = " or ".join(_qualified(t) for t in classes)
        article = "an" if names[:1].lower() in "aeiou" else "a"
        raise TypeError(f"{caller}: {name} must be {article} {names}, got {type(value).__name__}")
    return value


def _qualified(cls: type) -> str:
    module = cls.__module__
    if module.startswith("gnnrec"):
        return f"gnnrec.{cls.__name__}" if cls.__name__ == "Interactions" else cls.__name__
    return cls.__name__ if module == "builtins" else f"{module.split('.')[0]}.{cls.__name__}"


def check_ks(k: Any, *, caller: str, name: str = "k") -> tuple[int, ...]:
    """Check one cutoff or a non-empty sequence of cutoffs; return them sorted and unique.

    Examples
    --------
    >>> check_ks([20, 10, 20], caller="evaluate")
    (10, 20)
    >>> check_ks(1.5, caller="evaluate")
    Traceback (most recent call last):
    ValueError: evaluate: k must be an integer >= 1 or a non-empty sequence of them, got 1.5
    """
    constraint = "an integer >= 1 or a non-empty sequence of them"
    values: Sequence[Any]
    if isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, bool):
        values = (k,)
    elif isinstance(k, (Sequence, np.ndarray)) and not isinstance(k, str) and len(k) > 0:
        values = list(k)
    else:
        raise argument_error(caller, name, constraint, k)
    out = set()
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise argument_error(caller, name, constraint, k)
        out.add(int(v))
    return tuple(sorted(out))


def check_device(value: Any, *, caller: str, name: str = "device") -> Any:
    """Resolve ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a :class:`torch.device`.

    ``"auto"`` is CUDA when available, else the CPU. Asking for CUDA on a
    machine without it is an error, not a silent fallback.
    """
    import torch

    if isinstance(value, torch.device):
        resolved = value
    elif value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(value)
        except (RuntimeError, TypeError):
            raise argument_error(caller, name, "'auto', 'cpu', 'cuda' or 'cuda:N'", value) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise argument_error(caller, name, "'cpu' or 'auto' on a machine without CUDA", value)
    return resolved
