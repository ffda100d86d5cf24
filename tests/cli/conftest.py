"""Fixtures of the command-line tests: a small train/test split as CSV and a fitted model."""

from __future__ import annotations

import pytest

from gnnrec.cli import main
from gnnrec.data import user_ratio_split
from gnnrec.datasets import make_ratings
from tests.cli.cli_helpers import FAST, Files, write_table


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("cli")
    data = make_ratings(n_users=30, n_items=20, per_user=6, seed=0)
    split = user_ratio_split(data, test_size=0.25, random_state=0)
    train_csv = write_table(folder / "train.csv", split.train)
    test_csv = write_table(folder / "test.csv", split.test)
    model = folder / "model.gnnrec"
    assert main(["fit", str(train_csv), "--out", str(model), *FAST]) == 0
    return Files(split.train, split.test, train_csv, test_csv, model)
