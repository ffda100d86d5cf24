"""gnnrec.cli._common: error messages, id parsing and small helpers."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from gnnrec.cli._common import CLIError, describe, int_at_least, parse_ids, plain, user_errors


def test_describe_gives_one_line() -> None:
    assert describe(KeyError("unknown user id(s): 7")) == "unknown user id(s): 7"
    assert describe(KeyError(1, 2)) == "(1, 2)"
    assert describe(FileNotFoundError(2, "No such file or directory", "x.csv")) == (
        "No such file or directory: x.csv")
    assert describe(ValueError("two\nlines")) == "two lines"
    assert describe(ValueError()) == "ValueError"


def test_user_errors_converts_only_input_errors() -> None:
    for err in (ValueError("v"), KeyError("k"), TypeError("t"), OSError("o")):
        with pytest.raises(CLIError, match=r"^at: ") as info, user_errors("at"):
            raise err
        assert info.value.status == 2 and info.value.__cause__ is err
    with pytest.raises(RuntimeError), user_errors():
        raise RuntimeError("a bug keeps its traceback")
    with pytest.raises(CLIError, match=r"^mine$"), user_errors("at"):
        raise CLIError("mine")


def test_int_at_least() -> None:
    assert int_at_least(1)("3") == 3
    for text in ("0", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"must be an integer >= 1, got"):
            int_at_least(1)(text)


def test_parse_ids_follows_the_model() -> None:
    assert parse_ids(["1", "22"], np.array([1, 2]), "user", "--users").tolist() == [1, 22]
    assert parse_ids(["1", "a"], np.array(["a"]), "user", "--users").tolist() == ["1", "a"]
    with pytest.raises(CLIError, match="--users: user id 'a' is not an integer"):
        parse_ids(["a"], np.array([1]), "user", "--users")
    with pytest.raises(CLIError, match="f holds no item ids"):
        parse_ids([], np.array([1]), "item", "f")


def test_plain() -> None:
    assert plain(np.float32(0.5)) == 0.5 and type(plain(np.int64(3))) is int
    assert plain(math.nan) is None and plain(-math.inf) is None and plain("a") == "a"
