"""gnnrec._validation: the argument checks and their one message format."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnnrec import DotHead, Interactions
from gnnrec._validation import (
    argument_error,
    check_bool,
    check_choice,
    check_device,
    check_float,
    check_instance,
    check_int,
    check_ks,
)
from gnnrec.heads import Head


def message(caller: str, name: str, constraint: str, shown: str) -> str:
    """The full-match pattern of ``"<caller>: <argument> must be <constraint>, got <value>"``."""
    return "^" + re.escape(f"{caller}: {name} must be {constraint}, got {shown}") + "$"


# --------------------------------------------------------------------------- argument_error
def test_argument_error_format() -> None:
    err = argument_error("Recommender.recommend", "k", "an integer >= 1", 1.5)
    assert type(err) is ValueError
    assert str(err) == "Recommender.recommend: k must be an integer >= 1, got 1.5"
    assert str(argument_error("f", "name", "a str", "x")) == "f: name must be a str, got 'x'"
    # numpy scalars are shown as Python values
    assert str(argument_error("f", "k", "c", np.int64(3))).endswith("got 3")
    assert str(argument_error("f", "k", "c", np.float32(0.5))).endswith("got 0.5")
    # long values are cut to 80 characters
    shown = str(argument_error("f", "k", "c", list(range(100)))).split("got ", 1)[1]
    assert len(shown) == 80 and shown.endswith("...") and shown.startswith("[0, 1, 2")


# --------------------------------------------------------------------------- check_int
def test_check_int_accepts_integers_and_returns_int() -> None:
    for value in (3, np.int64(3), np.uint8(3), np.int32(3)):
        out = check_int(value, "k", caller="f", minimum=1)
        assert out == 3 and type(out) is int
    assert check_int(None, "k", caller="f", allow_none=True) is None
    assert check_int(5, "k", caller="f", minimum=5, maximum=5) == 5
    assert check_int(-7, "k", caller="f") == -7


@pytest.mark.parametrize(
    ("value", "kwargs", "constraint"),
    [
        (True, {}, "an integer"),
        (False, {"minimum": 0}, "an integer >= 0"),
        (np.True_, {}, "an integer"),
        (1.5, {"minimum": 1}, "an integer >= 1"),
        (2.0, {"minimum": 1}, "an integer >= 1"),
        ("3", {}, "an integer"),
        (None, {}, "an integer"),
        (0, {"minimum": 1}, "an integer >= 1"),
        (6, {"maximum": 5}, "an integer <= 5"),
        (0, {"minimum": 1, "maximum": 5}, "an integer in [1, 5]"),
        (9, {"minimum": 1, "maximum": 5, "allow_none": True}, "an integer in [1, 5] or None"),
        (0, {"minimum": 1, "allow_none": True}, "an integer >= 1 or None"),
    ],
)
def test_check_int_rejects(value: Any, kwargs: dict[str, Any], constraint: str) -> None:
    shown = repr(value.item() if isinstance(value, np.generic) else value)
    with pytest.raises(ValueError, match=message("f", "k", constraint, shown)):
        check_int(value, "k", caller="f", **kwargs)


# --------------------------------------------------------------------------- check_float
def test_check_float_accepts_reals_and_returns_float() -> None:
    for value in (2, 2.0, np.float32(2.0), np.int64(2), np.float64(2.0)):
        out = check_float(value, "x", caller="f", minimum=0.0)
        assert out == 2.0 and type(out) is float
    assert check_float(None, "x", caller="f", allow_none=True) is None
    assert check_float(0.0, "x", caller="f", minimum=0.0) == 0.0  # not strict
    assert check_float(1.0, "x", caller="f", minimum=0.0, maximum=1.0, strict=True) == 1.0


@pytest.mark.parametrize(
    ("value", "kwargs", "constraint"),
    [
        (math.nan, {}, "a finite number"),
        (np.float32("nan"), {}, "a finite number"),
        (math.inf, {}, "a finite number"),
        (-math.inf, {"minimum": 0.0}, "a finite number >= 0.0"),
        (True, {}, "a finite number"),
        ("1.0", {}, "a finite number"),
        (None, {}, "a finite number"),
        (1 + 2j, {}, "a finite number"),
        (0.0, {"minimum": 0.0, "strict": True}, "a finite number > 0.0"),
        (-0.1, {"minimum": 0.0}, "a finite number >= 0.0"),
        (1.5, {"maximum": 1.0}, "a finite number <= 1.0"),
        (0.0, {"minimum": 0.0, "maximum": 1.0, "strict": True}, "a finite number in (0.0, 1.0]"),
        (2.0, {"minimum": 0.0, "maximum": 1.0}, "a finite number in [0.0, 1.0]"),
        (math.nan, {"allow_none": True}, "a finite number or None"),
    ],
)
def test_check_float_rejects(value: Any, kwargs: dict[str, Any], constraint: str) -> None:
    shown = repr(value.item() if isinstance(value, np.generic) else value)
    with pytest.raises(ValueError, match=message("g", "rate", constraint, shown)):
        check_float(value, "rate", caller="g", **kwargs)


def test_check_float_rejects_integers_too_large_for_a_float() -> None:
    with pytest.raises(ValueError, match=r"^f: x must be a finite number, got 1000"):
        check_float(10**400, "x", caller="f")


# --------------------------------------------------------------------------- check_choice
def test_check_choice() -> None:
    assert check_choice("min", "mode", ("min", "max"), caller="E") == "min"
    assert check_choice(np.str_("max"), "mode", ["min", "max"], caller="E") == "max"
    assert check_choice(None, "x", (None, "a"), caller="E") is None
    assert check_choice("a", "x", iter(["a", "b"]), caller="E") == "a"  # any iterable
    with pytest.raises(ValueError, match=message("predict", "unknown", "one of 'raise', 'ignore'",
                                                 "'nan'")):
        check_choice("nan", "unknown", ("raise", "ignore"), caller="predict")
    # non-strings must be one of the choices by identity: 1 is not True, [] is unhashable
    with pytest.raises(ValueError, match=message("E", "x", "one of True, False", "1")):
        check_choice(1, "x", (True, False), caller="E")
    with pytest.raises(ValueError, match=message("E", "x", "one of 'a'", "['a']")):
        check_choice(["a"], "x", ("a",), caller="E")


# --------------------------------------------------------------------------- check_bool
def test_check_bool() -> None:
    for value in (True, False, np.True_, np.bool_(False)):
        out = check_bool(value, "flag", caller="f")
        assert out is bool(value)
    for value, shown in ((1, "1"), (0, "0"), ("yes", "'yes'"), (None, "None"),
                         (np.array([True]), "array([ True])")):
        with pytest.raises(ValueError, match=message("f", "flag", "True or False", shown)):
            check_bool(value, "flag", caller="f")


# --------------------------------------------------------------------------- check_instance
def test_check_instance() -> None:
    data = Interactions.from_arrays([0], [0])
    assert check_instance(data, "train", Interactions, caller="fit") is data
    assert check_instance(3, "x", (str, int), caller="fit") == 3
    cases = [
        (sp.csr_matrix((1, 1)), Interactions, "fit: train must be a gnnrec.Interactions, got csr_matrix"),
        ([1], dict, "fit: train must be a dict, got list"),
        ("s", (dict, list), "fit: train must be a dict or list, got str"),
        ("s", int, "fit: train must be an int, got str"),
        ([1], np.ndarray, "fit: train must be a numpy.ndarray, got list"),
        ([1], torch.Tensor, "fit: train must be a torch.Tensor, got list"),
        (DotHead, Head, "fit: train must be a Head, got type"),
    ]
    for value, types, expected in cases:
        with pytest.raises(TypeError, match="^" + re.escape(expected) + "$"):
            check_instance(value, "train", types, caller="fit")


# --------------------------------------------------------------------------- check_ks
@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (10, (10,)),
        (np.int64(5), (5,)),
        ([20, 10, 20], (10, 20)),
        ((3, 1, 2), (1, 2, 3)),
        (np.array([5, 1, 5]), (1, 5)),
        (range(1, 4), (1, 2, 3)),
        ([np.int32(7)], (7,)),
    ],
)
def test_check_ks_sorts_and_deduplicates(k: Any, expected: tuple[int, ...]) -> None:
    out = check_ks(k, caller="evaluate")
    assert out == expected and all(type(v) is int for v in out)


@pytest.mark.parametrize(
    "k", [1.5, [], (), [0], 0, -3, True, False, [True], [1, 1.5], "10", ["10"], None,
          np.array([1.5]), np.array([], dtype=np.int64), {10}, (k for k in [10])],
)
def test_check_ks_rejects(k: Any) -> None:
    with pytest.raises(ValueError, match=r"^evaluate: k must be an integer >= 1 or a non-empty "
                                         r"sequence of them, got "):
        check_ks(k, caller="evaluate")


def test_check_ks_names_the_argument_and_shows_the_whole_value() -> None:
    with pytest.raises(ValueError, match=message(
            "c", "cutoffs", "an integer >= 1 or a non-empty sequence of them", "[5, 0]")):
        check_ks([5, 0], caller="c", name="cutoffs")


# --------------------------------------------------------------------------- check_device
def test_check_device_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert check_device("auto", caller="R") == torch.device("cpu")
    assert check_device("cpu", caller="R") == torch.device("cpu")
    cpu = torch.device("cpu")
    assert check_device(cpu, caller="R") is cpu
    for value in ("cuda", "cuda:1", torch.device("cuda")):
        shown = repr(value)
        with pytest.raises(ValueError, match=message(
                "R", "device", "'cpu' or 'auto' on a machine without CUDA", shown)):
            check_device(value, caller="R")
    for value in ("gpu", None, 2.5, "cuda:x"):
        with pytest.raises(ValueError, match=message(
                "R", "dev", "'auto', 'cpu', 'cuda' or 'cuda:N'", repr(value))):
            check_device(value, caller="R", name="dev")


def test_check_device_with_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert check_device("auto", caller="R") == torch.device("cuda")
    assert check_device("cuda:1", caller="R") == torch.device("cuda", 1)
    assert check_device(torch.device("cuda", 0), caller="R") == torch.device("cuda", 0)
    assert check_device("cpu", caller="R") == torch.device("cpu")
