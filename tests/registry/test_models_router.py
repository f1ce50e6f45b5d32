"""jt.Router: weighted champion/challenger split in a notebook, following alias moves."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import jupyter_track as jt
from jupyter_track.models.router import WeightedSplit, key_fraction, parse_route
from jupyter_track.store import InvalidInput, NotFound


@pytest.fixture
def models() -> tuple[pd.DataFrame, object, object]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    v1 = LogisticRegression(max_iter=500).fit(X, y)
    v2 = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    for model in (v1, v2):
        with jt.start_run():
            jt.log_model(model, "model", input_example=X.head(2), registered_model_name="iris")
    jt.set_registered_model_alias("iris", "champion", 1)
    jt.set_registered_model_alias("iris", "challenger", 2)
    return X, v1, v2


def test_same_key_same_alias_and_weights_respected() -> None:
    split = WeightedSplit({"champion": 0.9, "challenger": 0.1})
    again = WeightedSplit({"champion": 90, "challenger": 10})  # weights are normalized
    choices = [split.choose(f"customer-{i}") for i in range(4000)]
    assert choices == [again.choose(f"customer-{i}") for i in range(4000)]
    share = choices.count("challenger") / len(choices)
    assert 0.08 < share < 0.12
    assert 0 <= key_fraction("x") < 1
    # the same number in every process (not Python's salted hash()): computed in a fresh
    # interpreter with another hash seed, and pinned to its SHA-256 value
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from jupyter_track.models.router import key_fraction as k; print(repr(k('x')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert float(other.stdout) == key_fraction("x") == 0x2D711642B726B044 / 2**64
    assert WeightedSplit({"a": 1, "b": 0}).choose("anything") == "a"
    seeded = [WeightedSplit({"a": 1, "b": 1}, seed=3).choose() for _ in range(3)]
    assert len(set(seeded)) == 1  # same seed, same first draw


def test_parse_route() -> None:
    assert parse_route("champion=90,challenger=10") == {"champion": 90.0, "challenger": 10.0}
    with pytest.raises(InvalidInput, match="expected alias=weight"):
        parse_route("champion")
    with pytest.raises(InvalidInput, match="not a number"):
        parse_route("champion=lots")
    with pytest.raises(InvalidInput, match="add up to 0"):
        parse_route("champion=0")
    with pytest.raises(InvalidInput, match="appears twice"):
        parse_route("a=1,a=2")
    with pytest.raises(InvalidInput, match="reserved"):
        parse_route("latest=1")


def test_router_predicts_and_follows_alias_moves(
    models: tuple[pd.DataFrame, object, object],
) -> None:
    X, v1, v2 = models
    rows = X.iloc[[0, 60, 120]]
    router = jt.Router("iris", {"champion": 1.0, "challenger": 0.0})
    np.testing.assert_array_equal(router.predict(rows), v1.predict(rows))  # type: ignore[attr-defined]
    assert (router.last_alias, router.last_version) == ("champion", 1)
    jt.set_registered_model_alias("iris", "champion", 2)  # promote: next call uses it
    np.testing.assert_array_equal(router.predict(rows), v2.predict(rows))  # type: ignore[attr-defined]
    assert router.last_version == 2
    jt.rollback_alias("iris", "champion")
    router.predict(rows)
    assert router.last_version == 1


def test_router_row_by_row_on_a_key_column(models: tuple[pd.DataFrame, object, object]) -> None:
    X, v1, v2 = models
    frame = X.copy()
    frame["customer"] = [f"c{i}" for i in range(len(frame))]
    router = jt.Router("iris", {"champion": 0.5, "challenger": 0.5})
    result = router.predict_detailed(frame, key_column="customer")
    assert set(result.aliases) == {"champion", "challenger"}
    features = X
    expected = np.where(
        np.asarray(result.versions) == 1,
        v1.predict(features),  # type: ignore[attr-defined]
        v2.predict(features),  # type: ignore[attr-defined]
    )
    np.testing.assert_array_equal(result.predictions, expected)
    again = router.predict_detailed(frame, key_column="customer")
    assert again.aliases == result.aliases  # deterministic per key
    with pytest.raises(InvalidInput, match="key_column 'nope'"):
        router.predict(frame, key_column="nope")


def test_router_bad_input(models: tuple[pd.DataFrame, object, object]) -> None:
    with pytest.raises(NotFound, match="has no alias 'canary'"):
        jt.Router("iris", {"champion": 0.9, "canary": 0.1})
    with pytest.raises(NotFound, match="registered model 'ghost'"):
        jt.Router("ghost", {"champion": 1})
    with pytest.raises(InvalidInput, match="must be >= 0"):
        jt.Router("iris", {"champion": -1})
    with pytest.raises(InvalidInput, match="spaces"):
        jt.Router("iris", {"my champion": 1})
