"""gnnrec.persistence: the model file format (write/read, checksum, versions, errors)."""

from __future__ import annotations

import errno
import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gnnrec import BoundedSigmoidHead, DotHead, Interactions, LightGCN, Recommender, persistence
from gnnrec.data.vocab import IdMap
from gnnrec.encoders.base import ENCODERS
from gnnrec.heads.base import HEADS
from gnnrec.persistence import FORMAT, FORMAT_VERSION, ModelFile

SETTINGS = {"embedding_dim": 8, "num_layers": 2, "epochs": 2, "batch_size": 4096,
            "learning_rate": 0.05, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def fitted(small: Any) -> Recommender:
    return Recommender(**SETTINGS).fit(small.train_implicit)


@pytest.fixture(scope="module")
def saved(fitted: Recommender, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("saved") / "model.gnnrec"
    fitted.save(path)
    return path


def payload() -> dict[str, Any]:
    """A complete payload as :func:`persistence.write` expects it."""
    return {
        "gnnrec_version": "0.0-test",
        "params": json.dumps({"epochs": 3}),
        "fitted": json.dumps({"task": "ranking", "history": [{"loss": 0.5}]}),
        "user_ids": torch.tensor([3, 8, 9]),
        "item_ids": ["a", "b"],
        "train_users": torch.tensor([0, 1, 2]),
        "train_items": torch.tensor([0, 1, 1]),
        "state_dict": {"embedding.weight": torch.arange(10.0).reshape(5, 2),
                       "head.bias": torch.zeros(0)},
    }


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def same_recommendations(a: Recommender, b: Recommender) -> None:
    users = a.user_ids_
    for x, y in zip(a.recommend(users, k=5), b.recommend(users, k=5), strict=True):
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------- write / read
def test_write_read_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "p.gnnrec"
    persistence.write(path, payload())
    assert listing(tmp_path) == ["p.gnnrec"]
    back = persistence.read(path)
    assert back["format"] == FORMAT and back["format_version"] == FORMAT_VERSION == 4
    assert re.fullmatch(r"[0-9a-f]{64}", back["checksum"])
    for key, value in payload().items():
        if key == "state_dict":
            assert back[key].keys() == value.keys()
            for name in value:
                assert torch.equal(back[key][name], value[name])
        elif isinstance(value, torch.Tensor):
            assert torch.equal(back[key], value)
        else:
            assert back[key] == value
    # the file is plain torch.save output that loads with pickling disabled
    assert torch.load(path, weights_only=True)["checksum"] == back["checksum"]
    # str paths work too, and a second write replaces the file
    persistence.write(str(path), {**payload(), "gnnrec_version": "other"})
    assert persistence.read(str(path))["gnnrec_version"] == "other"
    assert listing(tmp_path) == ["p.gnnrec"]


def test_model_file_round_trip_with_string_and_integer_ids(tmp_path: Path) -> None:
    content = ModelFile(
        params={"epochs": 3, "encoder": "lightgcn"},
        fitted={"task": "rating", "rating_range": [1.0, 5.0], "best_epoch": 2,
                "history": [{"epoch": 1, "pred_min": float("nan")}]},
        users=IdMap(np.array(["ann", "bob"])),
        items=IdMap(np.array([2, 10, 2**40], dtype=np.int64)),
        train_users=np.array([0, 1]),
        train_items=np.array([2, 0]),
        state_dict={"w": torch.ones(2, 3)},
    )
    persistence.save_model(tmp_path / "m.gnnrec", content)
    back = persistence.load_model(tmp_path / "m.gnnrec")
    assert back.params == content.params
    assert back.fitted["rating_range"] == [1.0, 5.0] and back.fitted["best_epoch"] == 2
    assert np.isnan(back.fitted["history"][0]["pred_min"])
    assert back.users == content.users and back.users.ids.dtype.kind == "U"
    assert back.items == content.items and back.items.ids.dtype == np.int64
    np.testing.assert_array_equal(back.train_users, [0, 1])
    np.testing.assert_array_equal(back.train_items, [2, 0])
    assert back.train_users.dtype == np.int64
    assert torch.equal(back.state_dict["w"], torch.ones(2, 3))


def test_ids_payload_helpers() -> None:
    ints = persistence.ids_to_payload(np.array([1, 5], dtype=np.uint32))
    assert isinstance(ints, torch.Tensor) and ints.dtype == torch.int64
    np.testing.assert_array_equal(persistence.ids_from_payload(ints), [1, 5])
    strs = persistence.ids_to_payload(np.array(["x", "yy"]))
    assert strs == ["x", "yy"]
    back = persistence.ids_from_payload(strs)
    assert back.dtype.kind == "U" and back.tolist() == ["x", "yy"]


def test_malformed_metadata_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.gnnrec"
    persistence.write(path, {**payload(), "params": "[1, 2]"})
    with pytest.raises(ValueError, match="malformed metadata"):
        persistence.load_model(path)
    persistence.write(path, {**payload(), "fitted": "{not json"})
    with pytest.raises(ValueError, match="malformed metadata"):
        persistence.load_model(path)


# --------------------------------------------------------------------------- damaged files
def test_missing_fields_are_named(tmp_path: Path) -> None:
    path = tmp_path / "partial.gnnrec"
    torch.save({"format": FORMAT, "format_version": 2, "params": "{}",
                "state_dict": {}}, path)
    with pytest.raises(ValueError, match=r"missing field\(s\) ") as info:
        persistence.read(path)
    message = str(info.value)
    for field in ("gnnrec_version", "fitted", "user_ids", "item_ids", "train_users",
                  "train_items", "checksum"):
        assert repr(field) in message
    for present in ("'params'", "'state_dict'", "'format'"):
        assert present not in message
    # format 1 has no checksum to miss
    full = {"format": FORMAT, "format_version": 1, **payload()}
    del full["fitted"]
    torch.save(full, path)
    with pytest.raises(ValueError, match=r"missing field\(s\) 'fitted'$"):
        persistence.read(path)


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.gnnrec"
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION + 1,
                "gnnrec_version": "99.0"}, path)
    with pytest.raises(ValueError, match=rf"newer gnnrec \(99.0, format {FORMAT_VERSION + 1}\); upgrade"):
        persistence.read(path)
    with pytest.raises(ValueError, match="newer gnnrec"):
        Recommender.load(path)


@pytest.mark.parametrize("version", [0, -1, "2", 2.0, None])
def test_an_invalid_format_version_is_refused(tmp_path: Path, version: Any) -> None:
    path = tmp_path / "odd.gnnrec"
    torch.save({"format": FORMAT, "format_version": version, **payload()}, path)
    with pytest.raises(ValueError, match="invalid format_version"):
        persistence.read(path)


def test_other_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model file") as info:
        persistence.read(tmp_path / "nothing.gnnrec")
    assert info.value.filename == str(tmp_path / "nothing.gnnrec")
    with pytest.raises(FileNotFoundError):
        persistence.read(tmp_path)  # a folder is not a model file
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else", "format_version": 1}, other)
    with pytest.raises(ValueError, match="is not a gnnrec model file"):
        persistence.read(other)
    torch.save([1, 2, 3], other)
    with pytest.raises(ValueError, match="is not a gnnrec model file"):
        persistence.read(other)


def test_a_changed_field_fails_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "p.gnnrec"
    persistence.write(path, payload())
    raw = torch.load(path, weights_only=True)
    for key, change in [("params", json.dumps({"epochs": 4})),
                        ("user_ids", torch.tensor([3, 8, 10])),
                        ("state_dict", {**raw["state_dict"],
                                        "embedding.weight": torch.zeros(5, 2)})]:
        torch.save({**raw, key: change}, path)
        with pytest.raises(ValueError, match="fails its checksum"):
            persistence.read(path)


def data_records(path: Path) -> dict[str, tuple[int, int]]:
    """``name -> (start, size)`` in the raw file of every tensor record (``.../data/N``)."""
    raw = path.read_bytes()
    records = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not re.search(r"/data/\d+$", info.filename):
                continue
            assert info.compress_type == zipfile.ZIP_STORED
            header = raw[info.header_offset : info.header_offset + 30]
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            start = info.header_offset + 30 + name_len + extra_len
            records[info.filename] = (start, info.file_size)
    return records


def test_a_flipped_byte_in_a_weight_record_is_refused(fitted: Recommender, saved: Path,
                                                      tmp_path: Path) -> None:
    raw = saved.read_bytes()
    weight = fitted.model_.embedding.weight.detach().cpu().numpy().tobytes()
    where = raw.find(weight)
    assert where >= 0 and raw.find(weight, where + 1) < 0
    records = data_records(saved)
    (record,) = [name for name, (start, size) in records.items()
                 if start <= where and where + len(weight) <= start + size]
    damaged = bytearray(raw)
    damaged[where + len(weight) // 2] ^= 0x10
    path = tmp_path / "damaged.gnnrec"
    path.write_bytes(bytes(damaged))
    with zipfile.ZipFile(path) as archive:  # still a well-formed archive
        assert record in archive.namelist()
    with pytest.raises(ValueError, match="fails its checksum"):
        Recommender.load(path)


def test_a_flipped_byte_in_any_tensor_record_is_refused(saved: Path, tmp_path: Path) -> None:
    raw = saved.read_bytes()
    records = data_records(saved)
    assert len(records) >= 5  # weights, ids, training interactions
    for i, (start, size) in enumerate(records.values()):
        if size == 0:
            continue
        damaged = bytearray(raw)
        damaged[start + size - 1] ^= 0x01
        path = tmp_path / f"damaged{i}.gnnrec"
        path.write_bytes(bytes(damaged))
        with pytest.raises(ValueError, match="fails its checksum"):
            Recommender.load(path)


def test_a_format_1_file_without_checksum_still_loads(fitted: Recommender, saved: Path,
                                                      tmp_path: Path) -> None:
    old = torch.load(saved, weights_only=True)
    old["format_version"] = 1
    del old["checksum"]
    path = tmp_path / "v1.gnnrec"
    torch.save(old, path)
    assert "checksum" not in persistence.read(path)
    loaded = Recommender.load(path, device="cpu")
    same_recommendations(loaded, fitted)


def test_recommender_round_trip(fitted: Recommender, saved: Path) -> None:
    loaded = Recommender.load(saved, device="cpu")
    same_recommendations(loaded, fitted)
    for name, value in fitted.model_.state_dict().items():
        assert torch.equal(loaded.model_.state_dict()[name], value)
    assert loaded.get_params() == {**fitted.get_params(), "device": "cpu"}


# --------------------------------------------------------------------------- saving errors
def test_saving_into_a_missing_folder(fitted: Recommender, tmp_path: Path) -> None:
    folder = tmp_path / "missing" / "deeper"
    for save in (lambda p: fitted.save(p), lambda p: persistence.write(p, payload())):
        with pytest.raises(FileNotFoundError) as info:
            save(folder / "model.gnnrec")
        assert isinstance(info.value, OSError)
        assert info.value.filename == str(folder) and info.value.errno == errno.ENOENT
    assert listing(tmp_path) == []


def test_saving_under_a_regular_file(fitted: Recommender, tmp_path: Path) -> None:
    regular = tmp_path / "notes.txt"
    regular.write_text("not a folder")
    for save in (lambda p: fitted.save(p), lambda p: persistence.write(p, payload())):
        with pytest.raises(NotADirectoryError) as info:
            save(regular / "model.gnnrec")
        assert isinstance(info.value, OSError)
        assert info.value.filename == str(regular) and info.value.errno == errno.ENOTDIR
    assert listing(tmp_path) == ["notes.txt"] and regular.read_text() == "not a folder"


def test_a_failed_write_leaves_no_temporary_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.gnnrec"
    persistence.write(path, payload())
    before = path.read_bytes()

    def broken_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        f.write(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        persistence.write(path, {**payload(), "gnnrec_version": "new"})
    assert listing(tmp_path) == ["model.gnnrec"]
    assert path.read_bytes() == before
    monkeypatch.undo()
    # a target that cannot be replaced (a folder) fails after writing: no temporary either
    folder = tmp_path / "taken.gnnrec"
    folder.mkdir()
    with pytest.raises(OSError):
        persistence.write(folder, payload())
    assert listing(tmp_path) == ["model.gnnrec", "taken.gnnrec"] and listing(folder) == []


# --------------------------------------------------------------------------- component specs
def test_component_specs_round_trip() -> None:
    spec = persistence.component_spec
    back = persistence.component_from_spec
    assert spec("encoder", "lightgcn", ENCODERS) == "lightgcn"
    assert spec("head", None, HEADS) is None
    assert spec("encoder", LightGCN, ENCODERS) == {"name": "lightgcn", "params": {}}
    head = BoundedSigmoidHead(1.0, 5.0, bias=False)
    described = spec("head", head, HEADS)
    assert described["name"] == "bounded_sigmoid"
    json.dumps(described)  # storable
    rebuilt = back("head", described, None, HEADS, "f")
    assert type(rebuilt) is BoundedSigmoidHead and rebuilt.get_params() == head.get_params()
    assert back("encoder", "gcn", None, ENCODERS, "f") == "gcn"
    override = DotHead()
    assert back("head", described, override, HEADS, "f") is override


def test_component_spec_errors() -> None:
    class Unregistered(DotHead):
        pass

    with pytest.warns(UserWarning, match=r"head=Unregistered is not a registered class"):
        described = persistence.component_spec("head", Unregistered(), HEADS)
    assert described == {"custom": f"{__name__}.{Unregistered.__qualname__}"}
    with pytest.raises(ValueError, match=r"'f.gnnrec' holds a custom head .* pass head="):
        persistence.component_from_spec("head", described, None, HEADS, "f.gnnrec")
    with pytest.raises(ValueError, match="malformed head description"):
        persistence.component_from_spec("head", {"name": "dot", "params": {"nope": 1}},
                                        None, HEADS, "f")
    with pytest.raises(ValueError, match="malformed head description"):
        persistence.component_from_spec("head", {"params": {}}, None, HEADS, "f")
    with pytest.raises(ValueError, match="cannot store head parameters as JSON"):
        persistence.component_spec("head", BoundedSigmoidHead(base=DotHead), HEADS)


def test_interactions_round_trip_through_a_saved_model(tmp_path: Path) -> None:
    data = Interactions.from_arrays(["u1", "u2", "u2", "u3"], [10, 20, 30, 10])
    model = Recommender(**SETTINGS).fit(data)
    model.save(tmp_path / "m.gnnrec")
    content = persistence.load_model(tmp_path / "m.gnnrec")
    assert content.users.ids.tolist() == ["u1", "u2", "u3"]
    assert content.items.ids.tolist() == [10, 20, 30]
    np.testing.assert_array_equal(content.train_users, data.users)
    np.testing.assert_array_equal(content.train_items, data.items)
    assert content.params["epochs"] == 2 and content.fitted["task"] == "ranking"


def test_feature_tables_round_trip_and_are_checksummed(tmp_path: Path) -> None:
    from gnnrec import FeatureTable

    table = FeatureTable.from_arrays([3, 1, 2], numeric={"x": [1.0, 2.0, 4.0]},
                                     multi_label={"tags": ["a", "a|b", ""]}, name="item features")
    ids = IdMap(np.array([1, 2, 3]))
    content = ModelFile({}, {}, IdMap(np.array([7])), ids, np.zeros(1, np.int64),
                        np.zeros(1, np.int64), {"w": torch.ones(2)}, item_features=table)
    path = tmp_path / "m.gnnrec"
    persistence.save_model(path, content)
    back = persistence.load_model(path)
    assert back.user_features is None and back.item_features is not None
    assert back.item_features.feature_names == table.feature_names
    assert back.item_features.name == "item features"
    np.testing.assert_array_equal(back.item_features.matrix.toarray(), table.matrix.toarray())
    np.testing.assert_array_equal(back.item_features.encode({"x": [2.0], "tags": ["b"]}).toarray(),
                                  table.encode({"x": [2.0], "tags": ["b"]}).toarray())
    payload = torch.load(path, weights_only=True)
    payload["features"]["item"]["data"][0] += 1.0  # a damaged feature value
    torch.save(payload, path)
    with pytest.raises(ValueError, match="fails its checksum"):
        persistence.load_model(path)
