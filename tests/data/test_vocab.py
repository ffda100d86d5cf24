"""gnnrec.data.vocab: IdMap (external ids ↔ indices) and the unknown-id policy."""

from __future__ import annotations

import numpy as np
import pytest

from gnnrec.data.vocab import IdMap, check_unknown

INT64_MAX = np.iinfo(np.int64).max


@pytest.fixture
def ints() -> IdMap:
    return IdMap(np.array([3, 10, 42, 2**62 + 1], dtype=np.int64))


@pytest.fixture
def strs() -> IdMap:
    return IdMap(np.array(["ann", "bob", "cy"]))


# --------------------------------------------------------------------------- index
def test_index_of_known_ids(ints: IdMap, strs: IdMap) -> None:
    got = ints.index([42, 3, 10, 3, 2**62 + 1])
    assert got.dtype == np.int64 and got.tolist() == [2, 0, 1, 0, 3]
    assert ints.index(10).tolist() == [1]  # a scalar gives one index
    assert ints.index(np.int32(42)).tolist() == [2]
    assert ints.index(np.array([10], dtype=np.uint16)).tolist() == [1]
    assert ints.index([]).shape == (0,)
    assert strs.index(["cy", "ann"]).tolist() == [2, 0]
    assert strs.index("bob").tolist() == [1]
    # index j is the j-th id
    assert all(ints.index(ints.ids[j]).tolist() == [j] for j in range(len(ints)))


def test_unknown_ids_raise_or_are_ignored(ints: IdMap) -> None:
    with pytest.raises(KeyError, match=r"unknown user id\(s\): 4, 99'$"):
        ints.index([3, 4, 99], kind="user")
    assert ints.index([3, 4, 99, 42], unknown="ignore").tolist() == [0, -1, -1, 2]
    assert ints.index([-1], unknown="ignore").tolist() == [-1]
    with pytest.raises(KeyError, match=r"unknown item id\(s\): 100, 101, .*, 109 \(and 2 more\)"):
        ints.index(np.arange(100, 112), kind="item")


def test_string_ids_in_an_object_array_are_found(strs: IdMap) -> None:
    query = np.array(["cy", "ann", "zed"], dtype=object)
    assert strs.index(query, unknown="ignore").tolist() == [2, 0, -1]


def test_integer_ids_in_an_object_array_are_found(ints: IdMap) -> None:
    assert ints.index(np.array([42, 3], dtype=object)).tolist() == [2, 0]


def test_default_kind_message_reads_unknown_ids(ints: IdMap) -> None:
    with pytest.raises(KeyError, match=r"^'unknown id\(s\): 5'$"):
        ints.index(5)


def test_integer_and_string_spaces_never_match(ints: IdMap, strs: IdMap) -> None:
    assert ints.index(["3", "10"], unknown="ignore").tolist() == [-1, -1]
    assert strs.index([0, 1], unknown="ignore").tolist() == [-1, -1]
    with pytest.raises(KeyError, match=r"unknown item id\(s\): '3'"):
        ints.index("3", kind="item")
    with pytest.raises(KeyError, match=r"unknown user id\(s\): 0"):
        strs.index(0, kind="user")
    assert not ints.contains(["42"]).any() and not strs.contains([1]).any()


def test_uint64_ids_above_int64_are_unknown_not_wrapped() -> None:
    wrapped = np.array([2**63 + 5], dtype=np.uint64).astype(np.int64)[0]  # what a cast gives
    m = IdMap(np.array([int(wrapped), 7, 2**62 + 1], dtype=np.int64))
    query = np.array([2**63 + 5, 7, 2**64 - 1, 2**62 + 1], dtype=np.uint64)
    assert m.index(query, unknown="ignore").tolist() == [-1, 1, -1, 2]
    assert m.contains(query).tolist() == [False, True, False, True]
    with pytest.raises(KeyError, match=str(2**63 + 5)):
        m.index(query[:1])
    big = IdMap(np.array([INT64_MAX], dtype=np.int64))
    assert big.index(np.array([INT64_MAX, INT64_MAX + 1], dtype=np.uint64),
                     unknown="ignore").tolist() == [0, -1]


def test_index_argument_errors(ints: IdMap) -> None:
    with pytest.raises(ValueError, match=r"^user lookup: ids must be a scalar or one-dimensional, got shape \(2, 2\)$"):
        ints.index(np.zeros((2, 2), np.int64), kind="user")
    with pytest.raises(ValueError, match=r"^user lookup: unknown must be one of 'raise', 'ignore', got 'nan'$"):
        ints.index([3], unknown="nan", kind="user")  # type: ignore[arg-type]


def test_empty_vocabulary() -> None:
    empty = IdMap(np.array([], dtype=np.int64))
    assert len(empty) == 0 and empty.is_integer
    assert empty.index([1, 2], unknown="ignore").tolist() == [-1, -1]
    assert empty.contains([1]).tolist() == [False]
    assert empty.ids_of(np.array([-1, -1])).tolist() == [-1, -1]
    with pytest.raises(KeyError):
        empty.index(1)


# --------------------------------------------------------------------------- ids_of / contains
def test_ids_of_pads_with_the_missing_id(ints: IdMap, strs: IdMap) -> None:
    assert ints.missing_id == -1 and strs.missing_id == ""
    out = ints.ids_of(np.array([2, -1, 0]))
    assert out.dtype == np.int64 and out.tolist() == [42, -1, 3]
    assert strs.ids_of(np.array([[1, -1], [-1, 2]])).tolist() == [["bob", ""], ["", "cy"]]
    out[0] = 0  # a writable copy, not the vocabulary
    assert ints.ids.tolist()[2] == 42
    assert strs.ids_of([0, 1]).tolist() == ["ann", "bob"]  # any array-like
    round_trip = strs.ids_of(strs.index(["cy", "zed", "ann"], unknown="ignore"))
    assert round_trip.tolist() == ["cy", "", "ann"]


def test_contains(ints: IdMap, strs: IdMap) -> None:
    assert ints.contains([3, 4, 42]).tolist() == [True, False, True]
    assert ints.contains(10).tolist() == [True]
    assert strs.contains(np.array(["bob", "bo", "bobby"])).tolist() == [True, False, False]


# --------------------------------------------------------------------------- identity
def test_ids_are_read_only_and_typed(ints: IdMap, strs: IdMap) -> None:
    assert not ints.ids.flags.writeable
    with pytest.raises(ValueError):
        ints.ids[0] = 5
    assert ints.is_integer and not strs.is_integer
    assert IdMap(np.array([1], dtype=np.uint32)).is_integer
    assert len(ints) == 4 and len(strs) == 3
    assert repr(ints) == "IdMap(n=4, int ids)" and repr(strs) == "IdMap(n=3, str ids)"


def test_idmap_leaves_the_callers_array_writable() -> None:
    ids = np.array([1, 2, 3])
    IdMap(ids)
    ids[0] = 0  # the caller's array is still theirs


def test_equality(ints: IdMap) -> None:
    same = IdMap(ints.ids.copy())
    assert ints == same and ints == ints
    assert ints != IdMap(np.array([3, 10, 42], dtype=np.int64))
    assert IdMap(np.array(["1"])) != IdMap(np.array([1]))
    assert (ints == "x") is False and ints != [3, 10, 42, 2**62 + 1]  # not an IdMap
    with pytest.raises(TypeError):
        hash(ints)


# --------------------------------------------------------------------------- check_unknown
def test_check_unknown() -> None:
    assert check_unknown("raise", caller="f") == "raise"
    assert check_unknown("ignore", caller="f") == "ignore"
    assert check_unknown("miss", caller="f", allow_miss=True) == "miss"
    with pytest.raises(ValueError, match=r"^predict: unknown must be one of 'raise', 'ignore', got 'miss'$"):
        check_unknown("miss", caller="predict")
    with pytest.raises(ValueError, match=r"one of 'raise', 'ignore', 'miss', got None"):
        check_unknown(None, caller="evaluate", allow_miss=True)


def test_lookups_follow_the_id_rules_of_interactions() -> None:
    """Regression: integral floats never matched, while 1.5 and True matched id 1 in object arrays."""
    ints = IdMap(np.array([1, 2, 3]))
    assert ints.index(np.array([1.0, 2.0, 3.5]), unknown="ignore").tolist() == [0, 1, -1]
    assert ints.index(np.array([1.5, True, 2], dtype=object), unknown="ignore").tolist() == [-1, -1, 1]
    assert ints.index(np.array(["1"], dtype=object), unknown="ignore").tolist() == [-1]
    assert ints.index(np.array([np.nan, np.inf]), unknown="ignore").tolist() == [-1, -1]
    assert ints.index([10**30, 3], unknown="ignore").tolist() == [-1, 2]
    strings = IdMap(np.array(["a", "b"]))
    assert strings.index(np.array(["b", 1], dtype=object), unknown="ignore").tolist() == [1, -1]
