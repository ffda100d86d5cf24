"""FeatureTable: encoding, alignment to ids, validation errors that name table, column and id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gnnrec import FeatureTable
from gnnrec.data import IdMap


def table() -> FeatureTable:
    return FeatureTable.from_arrays(
        [30, 10, 20],
        numeric={"year": [2000, 1990, 1995]},
        categorical={"kind": ["b", "a", "a"]},
        multi_label={"genres": ["", "Comedy", "Comedy|Drama|Comedy"]},
        name="item features",
    )


def test_encoding_sorted_by_id() -> None:
    t = table()
    assert t.ids.tolist() == [10, 20, 30]
    assert t.columns == ["year", "kind", "genres"]
    assert t.feature_names == ["year", "kind=a", "kind=b", "genres=Comedy", "genres=Drama"]
    z = np.sqrt(1.5)  # standardised 1990, 1995, 2000
    expected = [[-z, 1, 0, 1, 0], [0, 1, 0, 1, 1], [z, 0, 1, 0, 0]]
    np.testing.assert_allclose(t.matrix.toarray(), expected, rtol=1e-6, atol=1e-7)
    assert t.matrix.dtype == np.float32 and t.n_features == 5 and len(t) == 3
    assert "item features" in repr(t) and "genres: multi_label" in repr(t)


def test_labels_as_lists_equal_labels_as_strings() -> None:
    a = FeatureTable.from_arrays([1, 2], multi_label={"g": ["x|y", "y"]})
    b = FeatureTable.from_arrays([1, 2], multi_label={"g": [["y", "x", "x"], ("y",)]})
    np.testing.assert_array_equal(a.matrix.toarray(), b.matrix.toarray())


def test_rows_follow_an_id_map_and_name_missing_ids() -> None:
    t = table()
    np.testing.assert_array_equal(t.rows(IdMap(np.array([20, 30]))).toarray(),
                                  t.matrix[[1, 2]].toarray())
    with pytest.raises(ValueError, match=r"table 'item features' has no row for id\(s\) 99, 98"):
        t.rows([10, 99, 98])
    with pytest.raises(ValueError, match=r"ids of table 'item features' are integers"):
        t.rows(np.array(["a"]))


def test_encode_new_rows_with_the_fitted_vocabulary() -> None:
    t = table()
    new = t.encode({"year": [1995.0], "kind": ["zzz"], "genres": [["Drama", "Horror"]]})
    # 1995 is the mean; an unseen category or label encodes as zeros
    np.testing.assert_allclose(new.toarray(), [[0, 0, 0, 0, 1]], atol=1e-7)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['genres'\]"):
        t.encode({"year": [1], "kind": ["a"]})
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['x'\]"):
        t.encode({"year": [1], "kind": ["a"], "genres": [""], "x": [1]})
    with pytest.raises(ValueError, match=r"table 'item features', column 'year', id 7: missing"):
        t.encode({"year": [np.nan], "kind": ["a"], "genres": [""]}, ids=[7])


def test_from_pandas_equals_from_arrays() -> None:
    frame = pd.DataFrame({"id": ["u2", "u1"], "age": [30, 20], "sex": ["F", "M"]})
    t = FeatureTable.from_pandas(frame, "id", numeric=["age"], categorical=["sex"], name="users")
    u = FeatureTable.from_arrays(["u2", "u1"], numeric={"age": [30, 20]},
                                 categorical={"sex": ["F", "M"]}, name="users")
    assert t.ids.tolist() == ["u1", "u2"]
    np.testing.assert_array_equal(t.matrix.toarray(), u.matrix.toarray())
    with pytest.raises(KeyError, match=r"table 'users': column 'zip' is not in the DataFrame"):
        FeatureTable.from_pandas(frame, "id", categorical=["zip"], name="users")


@pytest.mark.parametrize("kwargs, message", [
    ({"numeric": {"y": [1.0, np.nan, 3.0]}}, r"table 't', column 'y', id 2: missing or non-finite"),
    ({"numeric": {"y": [1, "x", 3]}}, r"table 't', column 'y', id 2: numeric value expected"),
    ({"numeric": {"y": [4, 4, 4]}}, r"table 't', column 'y': is constant"),
    ({"numeric": {"y": [1, 2]}}, r"table 't', column 'y': has 2 values but there are 3 ids"),
    ({"categorical": {"c": ["a", None, "b"]}}, r"table 't', column 'c', id 2: missing value"),
    ({"categorical": {"c": ["a", "a", "a"]}}, r"table 't', column 'c': has a single category"),
    ({"categorical": {"c": ["a", 1.5, "b"]}}, r"column 'c', id 2: a category must be"),
    ({"multi_label": {"m": ["", [], ""]}}, r"table 't', column 'm': has no label at all"),
    ({"multi_label": {"m": ["a", None, "b"]}}, r"column 'm', id 2: missing value"),
    ({"multi_label": {"m": ["a", [1], "b"]}}, r"column 'm', id 2: labels must be non-empty"),
    ({}, r"table 't' has no column"),
    ({"numeric": {"y": [1, 2, 3]}, "categorical": {"y": ["a", "b", "c"]}}, r"given as two kinds"),
])
def test_bad_input_names_table_column_and_id(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureTable.from_arrays([1, 2, 3], name="t", **kwargs)


def test_bad_ids() -> None:
    with pytest.raises(ValueError, match=r"table 't': id 1 occurs more than once"):
        FeatureTable.from_arrays([1, 2, 1], numeric={"y": [1, 2, 3]}, name="t")
    with pytest.raises(ValueError, match=r"table 't' has no ids"):
        FeatureTable.from_arrays([], numeric={"y": []}, name="t")
    with pytest.raises(ValueError, match=r"table 't': column 'ids' has a negative id"):
        FeatureTable.from_arrays([1, -2], numeric={"y": [1, 2]}, name="t")
