"""gnnrec.data.interactions: construction, id maps and input validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gnnrec import Interactions


# --------------------------------------------------------------------------- construction
def test_from_arrays_maps_ids_to_sorted_indices() -> None:
    data = Interactions.from_arrays(["bob", "ann", "bob"], [20, 10, 10], ratings=[1, 2, 3])
    assert data.user_ids.tolist() == ["ann", "bob"]
    assert data.item_ids.tolist() == [10, 20]
    assert data.users.tolist() == [1, 0, 1]
    assert data.items.tolist() == [1, 0, 0]
    assert data.ratings is not None and data.ratings.dtype == np.float32
    assert (data.n_users, data.n_items, len(data)) == (2, 2, 3)
    cols = data.to_arrays()
    assert cols["user"].tolist() == ["bob", "ann", "bob"]
    assert cols["item"].tolist() == [20, 10, 10]


def test_arrays_are_read_only() -> None:
    data = Interactions.from_arrays([0, 1], [1, 0])
    with pytest.raises(ValueError):
        data.users[0] = 5


def test_subset_keeps_id_space() -> None:
    data = Interactions.from_arrays([0, 1, 2], [0, 1, 2])
    sub = data.subset(np.array([True, False, False]))
    assert (sub.n_users, sub.n_items, len(sub)) == (3, 3, 1)
    assert sub.user_ids is data.user_ids
    with pytest.raises(ValueError, match=r"mask"):
        data.subset(np.array([True, False]))


def test_to_csr_and_from_scipy_round_trip() -> None:
    matrix = sp.csr_matrix(np.array([[0, 5, 0], [3, 0, 1]], dtype=np.float32))
    data = Interactions.from_scipy(matrix)
    assert (data.n_users, data.n_items) == (2, 3)
    np.testing.assert_array_equal(data.to_csr(values="ratings").toarray(), matrix.toarray())
    implicit = Interactions.from_scipy(matrix, explicit=False)
    assert not implicit.has_ratings
    with pytest.raises(ValueError, match=r"no ratings"):
        implicit.to_csr(values="ratings")


def test_duplicates_policies() -> None:
    users, items, ratings = [0, 0, 1], [5, 5, 5], [1.0, 2.0, 3.0]
    last = Interactions.from_arrays(users, items, ratings, duplicates="last")
    first = Interactions.from_arrays(users, items, ratings, duplicates="first")
    assert len(last) == len(first) == 2
    assert last.ratings is not None and sorted(last.ratings.tolist()) == [2.0, 3.0]
    assert first.ratings is not None and sorted(first.ratings.tolist()) == [1.0, 3.0]


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"users": [0, 1, 2], "items": [0, 1, 2], "ratings": [1, np.nan, 3]},
         r"column 'ratings' has a non-finite value nan at row 1"),
        ({"users": [0, 1, 2], "items": [0, 1, 2], "ratings": [1, 2, np.inf]},
         r"column 'ratings'.*row 2"),
        ({"users": [0, -3, 2], "items": [0, 1, 2]}, r"column 'users'.*negative id -3 at row 1"),
        ({"users": [0, 1, 2], "items": [0, 1, -1]}, r"column 'items'.*negative id -1 at row 2"),
        ({"users": [1, "a", 2], "items": [0, 1, 2]}, r"column 'users' mixes id types: row 1"),
        ({"users": ["a", "b", 3], "items": [0, 1, 2]}, r"column 'users' mixes id types: row \d"),
        ({"users": [0, 1, 2], "items": [0, 1]}, r"column 'items' has 2 rows but 'users' has 3"),
        ({"users": [0, 1], "items": [0, 1], "ratings": [4.0]},
         r"column 'ratings' has 1 rows but 'users' has 2"),
        ({"users": [], "items": []}, r"empty input"),
        ({"users": [0, 1, 0], "items": [7, 8, 7]}, r"duplicate \(user, item\) pair \(0, 7\) at rows \[0, 2\]"),
        ({"users": [0.5, 1.0], "items": [0, 1]}, r"column 'users'.*non-integer id 0.5 at row 0"),
        ({"users": [0.0, np.nan], "items": [0, 1]}, r"column 'users'.*non-finite id nan at row 1"),
        ({"users": [True, False], "items": [0, 1]}, r"column 'users'"),
        ({"users": [[0, 1]], "items": [[0, 1]]}, r"one-dimensional"),
        ({"users": [0, 1], "items": [0, 1], "duplicates": "drop"},
         r"^Interactions\.from_arrays: duplicates must be one of 'raise', 'first', 'last', "
         r"got 'drop'$"),
    ],
)
def test_from_arrays_rejects_bad_input_naming_column_and_row(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        Interactions.from_arrays(**kwargs)


def test_numpy_int_and_float_id_columns() -> None:
    data = Interactions.from_arrays(np.array([3.0, 1.0]), np.array([2, 2], dtype=np.uint8))
    assert data.user_ids.tolist() == [1, 3]
    assert data.item_ids.dtype == np.int64


def test_from_scipy_rejects_bad_ids_and_empty() -> None:
    m = sp.csr_matrix(np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match=r"user_ids has 3 entries"):
        Interactions.from_scipy(m, user_ids=[1, 2, 3])
    with pytest.raises(
        ValueError,
        match=r"^Interactions\.from_scipy: item_ids holds repeated ids: 1 at positions \[0, 1\]$",
    ):
        Interactions.from_scipy(m, item_ids=[1, 1])
    with pytest.raises(ValueError, match=r"no stored entries"):
        Interactions.from_scipy(sp.csr_matrix((2, 2), dtype=np.float32))


def test_from_pandas_errors_name_column_and_row() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"u": [1, 2, 3], "i": [1, 2, 3], "r": [4.0, None, 5.0]})
    with pytest.raises(ValueError, match=r"column 'r' has a missing value at row 1"):
        Interactions.from_pandas(df, "u", "i", "r")
    with pytest.raises(KeyError, match=r"rating_col='x'"):
        Interactions.from_pandas(df, "u", "i", "x")
    data = Interactions.from_pandas(df.dropna(), "u", "i", "r")
    assert len(data) == 2 and data.has_ratings


# --------------------------------------------------------------------------- id lookup
def test_index_lookup_unknown_ids() -> None:
    data = Interactions.from_arrays(["a", "b"], [1, 2])
    assert data.user_index(["b", "a"]).tolist() == [1, 0]
    assert data.item_index(2).tolist() == [1]
    with pytest.raises(KeyError, match=r"unknown user id.*'zz'"):
        data.user_index(["a", "zz"])
    with pytest.raises(KeyError, match=r"unknown item id.*99"):
        data.item_index([99])
    # a string queried in an integer id space is unknown, not a crash
    assert data.item_index(["1"], unknown="ignore").tolist() == [-1]
    assert data.user_index(["a", "zz"], unknown="ignore").tolist() == [0, -1]
    with pytest.raises(ValueError, match=r"unknown must be one of 'raise', 'ignore', got 'nan'"):
        data.user_index("a", unknown="nan")  # type: ignore[arg-type]
    with pytest.warns(FutureWarning, match="missing= is deprecated"):
        assert data.item_index([99], missing="ignore").tolist() == [-1]


# --------------------------------------------------------------------------- ids beyond int64
MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("users", "items", "column", "value", "row"),
    [
        ([2**64 - 1], [1], "users", 2**64 - 1, 0),  # a Python int: was a bare OverflowError
        ([0, 2**63], [1, 2], "users", 2**63, 1),
        (np.array([1, 2**64 - 1], dtype=np.uint64), [1, 2], "users", 2**64 - 1, 1),  # wrapped
        ([1, 2], np.array([2**63, 5], dtype=np.uint64), "items", 2**63, 0),
        ([1, 2], [np.uint64(3), np.uint64(2**64 - 2)], "items", 2**64 - 2, 1),
        (np.array([1.0, 1e19]), [1, 2], "users", 10**19, 1),  # an unchecked float cast
    ],
)
def test_ids_above_int64_name_column_row_and_value(
    users: object, items: object, column: str, value: int, row: int
) -> None:
    with pytest.raises(
        ValueError,
        match=rf"^column '{column}' has id {value} at row {row}, above the largest supported "
        rf"integer id {MAX} ",
    ):
        Interactions.from_arrays(users, items)  # type: ignore[arg-type]


def test_largest_int64_id_is_accepted() -> None:
    data = Interactions.from_arrays(np.array([MAX, 0], dtype=np.uint64), [MAX, 1])
    assert data.user_ids.tolist() == [0, MAX] and data.item_ids.tolist() == [1, MAX]
    assert data.user_ids.dtype == np.int64


def test_huge_negative_python_int_is_a_negative_id() -> None:
    with pytest.raises(
        ValueError, match=rf"^column 'items' has a negative id {-(2**70)} at row 1;"
    ):
        Interactions.from_arrays([1, 2], [3, -(2**70)])


def test_from_scipy_ids_above_int64() -> None:
    m = sp.csr_matrix(np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match=rf"^column 'user_ids' has id {2**64 - 1} at row 1, above"):
        Interactions.from_scipy(m, user_ids=[0, 2**64 - 1])
    big = np.array([2**63, 1], dtype=np.uint64)
    with pytest.raises(ValueError, match=rf"^column 'item_ids' has id {2**63} at row 0, above"):
        Interactions.from_scipy(m, item_ids=big)


def test_from_pandas_uint64_column_above_int64() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"u": np.array([1, 2**64 - 1], dtype=np.uint64), "i": [1, 2]})
    with pytest.raises(ValueError, match=rf"^column 'users' has id {2**64 - 1} at row 1, above"):
        Interactions.from_pandas(df, "u", "i")


# --------------------------------------------------------------------------- from_scipy duplicates
def _coo(data: list[float], rows: list[int], cols: list[int], shape=(2, 3)) -> sp.coo_matrix:
    return sp.coo_matrix((np.asarray(data), (np.asarray(rows), np.asarray(cols))), shape=shape)


def test_from_scipy_refuses_repeated_coo_entries_instead_of_summing() -> None:
    # two ratings of 3 for one pair were summed into one rating of 6.0
    m = _coo([3.0, 4.0, 3.0], [0, 1, 0], [2, 0, 2])
    with pytest.raises(
        ValueError,
        match=r"^Interactions\.from_scipy: duplicate \(user, item\) pair \(0, 2\): the matrix "
        r"stores its entry \(row 0, column 2\) 2 times, at positions \[0, 2\] of its stored "
        r"entries; pass duplicates='last' or 'first'",
    ):
        Interactions.from_scipy(m)
    with pytest.raises(ValueError, match=r"pair \('bob', 'z'\): .*\(row 0, column 2\)"):
        Interactions.from_scipy(m, user_ids=["bob", "ann"], item_ids=["y", "x", "z"])


@pytest.mark.parametrize(("policy", "ratings"), [("first", [3.0, 4.0]), ("last", [4.0, 5.0])])
def test_from_scipy_keeps_one_repeated_entry_by_position(policy: str, ratings: list) -> None:
    m = _coo([3.0, 4.0, 5.0], [0, 1, 0], [2, 0, 2])
    data = Interactions.from_scipy(m, duplicates=policy)  # type: ignore[arg-type]
    assert data.ratings is not None and data.ratings.tolist() == ratings  # stored order
    assert data.to_csr(values="ratings").toarray()[0, 2] == ratings[0 if policy == "first" else 1]
    assert (data.n_users, data.n_items, len(data)) == (2, 3, 2)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_from_scipy_non_canonical_compressed_matrix(fmt: str) -> None:
    # a CSR/CSC built from raw arrays may repeat an index; tocoo() keeps both entries
    data, indices, indptr = np.array([3.0, 3.0, 1.0]), np.array([1, 1, 0]), np.array([0, 2, 3])
    cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    m = cls((data, indices, indptr), shape=(2, 2))
    assert not m.has_canonical_format
    with pytest.raises(
        ValueError, match=r"duplicate \(user, item\) pair .* 2 times, at positions \[0, 1\]"
    ):
        Interactions.from_scipy(m)
    kept = Interactions.from_scipy(m, duplicates="last")
    assert kept.ratings is not None and kept.ratings.tolist() == [3.0, 1.0]


def test_from_scipy_explicit_zeros_are_not_interactions_nor_duplicates() -> None:
    m = _coo([0.0, 3.0, 2.0], [0, 0, 1], [1, 1, 2])
    data = Interactions.from_scipy(m)
    assert data.ratings is not None and data.ratings.tolist() == [3.0, 2.0]


def test_from_scipy_sparse_array_and_argument_checks() -> None:
    arr = sp.coo_array(_coo([1.0, 1.0], [0, 0], [0, 0]))
    with pytest.raises(ValueError, match=r"duplicate"):
        Interactions.from_scipy(arr)
    assert len(Interactions.from_scipy(arr, duplicates="first")) == 1
    with pytest.raises(
        ValueError,
        match=r"^Interactions\.from_scipy: duplicates must be one of 'raise', 'first', 'last', "
        r"got 'sum'$",
    ):
        Interactions.from_scipy(arr, duplicates="sum")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"^Interactions\.from_scipy: explicit must be True or False, got 'no'$"
    ):
        Interactions.from_scipy(arr, explicit="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^Interactions\.from_scipy: matrix must be two-dim"):
        Interactions.from_scipy(sp.coo_array(np.array([1.0, 2.0])))
    with pytest.raises(ValueError, match=r"non-finite value nan at matrix row 1, column 0"):
        Interactions.from_scipy(_coo([1.0, np.nan], [0, 1], [0, 0]))


def test_from_pandas_checks_duplicates_under_its_own_name() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user": [1, 1], "item": [2, 2]})
    with pytest.raises(ValueError, match=r"^Interactions\.from_pandas: duplicates must be one of"):
        Interactions.from_pandas(df, duplicates="keep")  # type: ignore[arg-type]
    assert len(Interactions.from_pandas(df, duplicates="last")) == 1


def test_to_csr_refuses_an_unknown_values_argument() -> None:
    # any value other than "ratings" used to give a matrix of ones
    data = Interactions.from_arrays([1, 2], [1, 2], ratings=[4.0, 5.0])
    with pytest.raises(
        ValueError,
        match=r"^Interactions\.to_csr: values must be one of 'ones', 'ratings', got 'rating'$",
    ):
        data.to_csr(values="rating")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- what an id is
@pytest.mark.parametrize(
    ("users", "pattern"),
    [
        # these were reported as a "mix" of id types although nothing was mixed
        ([True, False], r"has an id of unsupported type bool at row 0: True;"),
        ([(1, 2), (3,)], r"has an id of unsupported type tuple at row 0: \(1, 2\);"),
        (["a", None], r"has an id of unsupported type NoneType at row 1: None;"),
        ([b"a", b"b"], r"has an id of unsupported type bytes at row 0: b'a';"),
        ([(1, 2), (3, 4)], r"must be one-dimensional, got shape \(2, 2\) \(an id is one integer"),
    ],
)
def test_only_integers_and_strings_are_ids(users: list, pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^column 'users' {pattern}"):
        Interactions.from_arrays(users, [1, 2])


def test_integral_floats_are_integer_ids() -> None:
    data = Interactions.from_arrays([3.0, 1.0], [1, 2])
    assert data.user_ids.tolist() == [1, 3] and data.user_ids.dtype == np.int64


def test_empty_string_ids_are_refused() -> None:
    """'' marks "no item" in padded recommendations, so it cannot be an id."""
    with pytest.raises(ValueError, match=r"column 'items' has an empty string id at row 0"):
        Interactions.from_arrays(["a", "b"], ["", "x"])
