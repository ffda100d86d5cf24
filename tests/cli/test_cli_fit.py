"""gnnrec fit: settings from options and --config, the model file, errors."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnrec import Interactions, Recommender
from gnnrec.cli import main
from gnnrec.cli._fit import PARAMS
from tests.cli.cli_helpers import FAST, Files, ml100k
from tests.cli.cli_helpers import one_error_line as _one_line


def fit(*argv: str) -> int:
    return main(["fit", *argv])


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    return _one_line(capsys.readouterr().err, "fit")


def test_fit_saves_a_model_and_reports(files: Files, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.gnnrec"
    assert fit(str(files.train_csv), "--out", str(out), "--epochs", "2", "--embedding-dim", "8",
               "--seed", "3", "--no-progress") == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"fitted lightgcn for rating on {len(files.train)} interactions "
                        r"\(\d+ users, \d+ items\): 2 epochs in \d+\.\d s, best epoch 2", lines[0])
    assert lines[1] == f"saved {out}"
    model = Recommender.load(out)
    assert (model.epochs, model.embedding_dim, model.random_state) == (2, 8, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gnnrec"]  # no temporary left


def test_the_cli_fits_the_model_the_python_api_fits(files: Files, tmp_path: Path) -> None:
    out = tmp_path / "m.gnnrec"
    assert fit(str(files.train_csv), "--out", str(out), *FAST, "--task", "ranking",
               "--learning-rate", "0.05", "--num-layers", "2") == 0
    cols = files.train.to_arrays()
    data = Interactions.from_arrays(cols["user"], cols["item"], cols["rating"], cols["timestamp"])
    python = Recommender(epochs=3, embedding_dim=8, random_state=0, task="ranking",
                         learning_rate=0.05, num_layers=2).fit(data)
    cli = Recommender.load(out)
    users = python.user_ids_
    np.testing.assert_array_equal(cli.recommend(users, k=5)[0], python.recommend(users, k=5)[0])
    for key, value in python.model_.state_dict().items():
        torch.testing.assert_close(cli.model_.state_dict()[key], value)


def test_quiet_prints_nothing(files: Files, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m.gnnrec"), *FAST) == 0
    assert capsys.readouterr() == ("", "")


def test_config_file_and_options_over_it(files: Files, tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"epochs": 2, "embedding-dim": 8, "seed": 5, "head": "linear",
                                  "learning_rate": 0.01, "max_grad_norm": None}))
    out = tmp_path / "m.gnnrec"
    assert fit(str(files.train_csv), "--out", str(out), "--config", str(config), "--quiet",
               "--epochs", "1") == 0
    model = Recommender.load(out)
    assert (model.epochs, model.embedding_dim, model.random_state) == (1, 8, 5)
    assert (model.head, model.learning_rate, model.max_grad_norm) == ("linear", 0.01, None)


@pytest.mark.parametrize(("config", "message"), [
    ({"epochs": 2, "epoch": 3}, "unknown key 'epoch'; valid keys are batch_size, device, "),
    ({"epochs": "2"}, "epochs must be an integer >= 1, got '2'"),
    ({"epochs": True}, "epochs must be an integer >= 1, got True"),
    ({"learning_rate": 0}, "learning_rate must be a number > 0.0, got 0"),
    ({"weight_decay": 10**400}, "weight_decay must be a number >= 0.0, got 1000000"),
    ({"task": "regression"}, "task must be one of 'auto', 'rating', 'ranking', got 'regression'"),
    ({"validation_fraction": 1},
     "validation_fraction must be a number in [0.0, 1.0) or none, got 1"),
    ({"seed": 1, "random_state": 2}, "'random_state' repeats a setting given by another key"),
    ([1, 2], "must hold a JSON object, got list"),
])
def test_config_errors_name_the_file_and_key(config: object, message: str, files: Files,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(config))
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m"), "--config", str(path)) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"{path}: " if isinstance(config, dict) else f"{path} ")
    assert message in line
    assert not (tmp_path / "m").exists()


def test_config_that_is_not_json(files: Files, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cfg.json"
    path.write_text("{epochs: 3}")
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m"), "--config", str(path)) == 2
    assert one_error_line(capsys).startswith(f"{path} is not valid JSON: ")
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m"), "--config",
               str(tmp_path / "none.json")) == 2
    assert one_error_line(capsys) == f"No such file or directory: {tmp_path / 'none.json'}"


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--epochs", "0", "argument --epochs: must be an integer >= 1, got 0"),
    ("--epochs", "x", "argument --epochs: must be an integer >= 1, got 'x'"),
    ("--learning-rate", "-1", "argument --learning-rate: must be a number > 0.0, got -1.0"),
    ("--seed", "-1", "argument --seed: must be an integer >= 0 or none, got -1"),
    ("--validation-fraction", "1.5", "must be a number in [0.0, 1.0) or none, got 1.5"),
    ("--task", "both", "argument --task: must be one of 'auto', 'rating', 'ranking', got 'both'"),
])
def test_bad_option_values_are_usage_errors(option: str, value: str, message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        fit("data.csv", "--out", "m.gnnrec", option, value)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: gnnrec fit") and message in err


def test_nullable_options_take_none(files: Files, tmp_path: Path) -> None:
    out = tmp_path / "m.gnnrec"
    assert fit(str(files.train_csv), "--out", str(out), *FAST, "--num-layers", "none",
               "--early-stopping", "None") == 0
    assert Recommender.load(out).early_stopping is None


def test_every_setting_is_a_recommender_parameter_with_the_default_shown(
        capsys: pytest.CaptureFixture[str]) -> None:
    params = inspect.signature(Recommender).parameters
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for p in PARAMS:
        assert p.name in params, p.name
        default = params[p.name].default
        if default is not None:
            assert f"{p.flag} " in text and f"(default: {default})" in text, p.name


def test_validation_fraction_holds_out_rows_for_early_stopping(
        files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.gnnrec"
    assert fit(str(files.train_csv), "--out", str(out), "--epochs", "3", "--embedding-dim", "8",
               "--seed", "0", "--validation-fraction", "0.2") == 0
    assert all("val_rmse" in record for record in Recommender.load(out).history_)
    assert Recommender.load(out).validation_fraction == 0.2
    assert fit(str(files.train_csv), "--out", str(out), "--epochs", "3", "--embedding-dim", "8",
               "--seed", "0", "--validation-fraction", "none") == 0
    assert not any("val_rmse" in record for record in Recommender.load(out).history_)


def test_output_errors_come_before_training(files: Files, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("fit was called")

    monkeypatch.setattr(Recommender, "fit", never)
    assert fit(str(files.train_csv), "--out", str(tmp_path / "no" / "m.gnnrec")) == 2
    assert one_error_line(capsys) == (f"--out {tmp_path / 'no' / 'm.gnnrec'}: the folder "
                                      f"{tmp_path / 'no'} does not exist")
    assert fit(str(files.train_csv), "--out", str(tmp_path)) == 2
    assert one_error_line(capsys).startswith(f"--out {tmp_path} is a folder; give a file name")


def test_library_errors_speak_of_options_or_config_keys(files: Files, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(files.train_csv), "--out", str(tmp_path / "m"), *FAST]
    assert fit(*args, "--encoder", "gin") == 2
    assert one_error_line(capsys) == "unknown encoder 'gin'; valid names: gat, gcmc, gcn, lightgcn, sage"
    assert fit(*args, "--validation-metric", "ndcg@20") == 2  # a rating model
    assert one_error_line(capsys) == ("--validation-metric must be one of 'rmse', 'mae', "
                                      "got 'ndcg@20'")
    config = tmp_path / "cfg.json"
    config.write_text('{"validation_metric": "ndcg@20"}')
    assert fit(*args, "--config", str(config)) == 2
    assert one_error_line(capsys).startswith(f"{config}: validation_metric must be ")
    assert not (tmp_path / "m").exists()


def test_ratings_needed_for_the_rating_task(files: Files, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m"), *FAST, "--task", "rating",
               "--rating-col", "") == 2
    assert "task='rating' needs training data with ratings" in one_error_line(capsys)


def test_a_diverged_fit_exits_one_without_a_model(files: Files, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def diverge(self: Recommender, *args: object, **kwargs: object) -> None:
        raise FloatingPointError("Recommender.fit: the loss is nan at epoch 2")

    monkeypatch.setattr(Recommender, "fit", diverge)
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m.gnnrec")) == 1
    assert one_error_line(capsys) == "Recommender.fit: the loss is nan at epoch 2"
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_fit_leaves_no_file(files: Files, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(self: Recommender, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Recommender, "fit", interrupt)
    assert fit(str(files.train_csv), "--out", str(tmp_path / "m.gnnrec")) == 130
    assert capsys.readouterr().err == "gnnrec fit: interrupted\n"
    assert list(tmp_path.iterdir()) == []


def test_a_model_file_is_replaced_whole(files: Files, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.gnnrec"
    out.write_bytes(b"old model")

    def broken_save(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(out))

    monkeypatch.setattr("gnnrec.persistence.torch.save", broken_save)
    assert fit(str(files.train_csv), "--out", str(out), *FAST) == 2
    assert one_error_line(capsys) == f"--out {out}: No space left on device: {out}"
    assert out.read_bytes() == b"old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gnnrec"]


def test_data_that_is_neither_a_file_nor_movielens(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert fit(str(tmp_path / "ml-100kk"), "--out", str(tmp_path / "m")) == 2
    assert one_error_line(capsys) == (
        f"no such file: {tmp_path / 'ml-100kk'} (DATA is a CSV/TSV/Parquet file or a MovieLens "
        "name: ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small)")


def test_movielens_that_is_not_there_says_what_to_do(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert fit("ml-100k", "--out", "m", "--root", str(tmp_path), "--offline") == 2
    line = one_error_line(capsys)
    assert f"MovieLens '100k' was not found under {tmp_path}" in line
    assert "Set GNNREC_DATA_DIR to the folder that holds it (or pass --root FOLDER), or drop " \
           "--offline to download it; or run 'gnnrec demo --dataset synthetic'" in line


@pytest.mark.realdata
def test_fit_on_movielens_100k(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    ml100k()
    monkeypatch.setenv("GNNREC_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "m.gnnrec"
    assert fit("ml-100k", "--out", str(out), "--offline", "--epochs", "1", "--seed", "0",
               "--task", "ranking") == 0
    assert capsys.readouterr().out.startswith(
        "fitted lightgcn for ranking on 100000 interactions (943 users, 1682 items): 1 epochs")
    assert Recommender.load(out).n_items_ == 1682


@pytest.mark.parametrize(("text", "value"), [("auto", "auto"), ("none", None), ("7", 7),
                                             ("4,3", [4, 3])])
def test_fanouts_option_parses_auto_none_one_or_per_layer(text: str, value: object) -> None:
    param = next(p for p in PARAMS if p.name == "fanouts")
    assert param.parse(text) == value


def test_bad_fanouts_option_says_what_it_must_be(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "ml-100k", "--out", "x.gnnrec", "--fanouts", "3,0"])
    assert ("--fanouts: must be auto, an integer >= 1 or comma-separated integers >= 1 or none, "
            "got [3, 0]") in capsys.readouterr().err
