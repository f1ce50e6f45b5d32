"""XGBoost and LightGBM autologging with the real libraries on tiny data: params, metrics per
iteration, feature importances, the model, and disable=True."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

import jupyter_track as jt
from jupyter_track.autologging import patching

xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")


@pytest.fixture(autouse=True)
def autolog_off() -> Iterator[None]:
    yield
    jt.autolog(disable=True)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    X.columns = [f"f{i}" for i in range(5)]
    return X.iloc[:300], y.iloc[:300], X.iloc[300:400], y.iloc[300:400]


def _history(run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in jt.get_metric_history(run_id, key)]


def _artifacts(run_id: str) -> set[str]:
    return {a.path for a in jt.TrackClient().list_artifacts(run_id)}


def test_xgboost_train_logs_params_metrics_per_iteration_and_model(data) -> None:  # type: ignore[no-untyped-def]
    X, y, Xv, yv = data
    jt.xgboost.autolog()
    evals_result: dict = {}
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 2, "eval_metric": "logloss"},
        xgboost.DMatrix(X, y),
        num_boost_round=4,
        evals=[(xgboost.DMatrix(X, y), "train"), (xgboost.DMatrix(Xv, yv), "valid")],
        evals_result=evals_result,
    )
    run = jt.last_active_run()
    assert run.info.status == "FINISHED" and run.data.tags["mlflow.autologging"] == "xgboost"
    assert run.data.params["max_depth"] == "2" and run.data.params["num_boost_round"] == "4"
    history = _history(run.info.run_id, "valid-logloss")
    assert [s for s, _ in history] == [0, 1, 2, 3]
    np.testing.assert_allclose([v for _, v in history], evals_result["valid"]["logloss"])
    assert len(_history(run.info.run_id, "train-logloss")) == 4
    assert {"model", "feature_importance_weight.json"} <= _artifacts(run.info.run_id)
    loaded = jt.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(
        loaded.predict(xgboost.DMatrix(Xv)), booster.predict(xgboost.DMatrix(Xv)), rtol=1e-6
    )


def test_xgboost_sklearn_api_logs_once_with_eval_history(data) -> None:  # type: ignore[no-untyped-def]
    X, y, Xv, yv = data
    jt.xgboost.autolog(log_models=False)
    clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2)
    clf.fit(X, y, eval_set=[(Xv, yv)], verbose=False)
    runs = jt.search_runs(output_format="list")
    assert len(runs) == 1  # the inner xgboost.train did not log again
    run = runs[0]
    assert run.data.params["n_estimators"] == "3"
    history = _history(run.info.run_id, "validation_0-logloss")
    np.testing.assert_allclose(
        [v for _, v in history], clf.evals_result()["validation_0"]["logloss"]
    )
    assert "model" not in _artifacts(run.info.run_id)


def test_lightgbm_train_with_early_stopping(data) -> None:  # type: ignore[no-untyped-def]
    X, y, Xv, yv = data
    jt.lightgbm.autolog()
    train_set = lightgbm.Dataset(X, y)
    valid = lightgbm.Dataset(Xv, yv, reference=train_set)
    with jt.start_run() as active:
        booster = lightgbm.train(
            {"objective": "binary", "num_leaves": 4, "verbose": -1, "metric": "binary_logloss"},
            train_set,
            num_boost_round=30,
            valid_sets=[valid],
            valid_names=["valid"],
            callbacks=[lightgbm.early_stopping(2, verbose=False)],
        )
    run = jt.get_run(active.info.run_id)
    assert run.data.params["num_leaves"] == "4" and run.data.params["num_boost_round"] == "30"
    history = _history(run.info.run_id, "valid-binary_logloss")
    assert len(history) == booster.current_iteration()
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    assert {"model", "feature_importance_split.json", "feature_importance_gain.json"} <= _artifacts(
        run.info.run_id
    )
    loaded = jt.lightgbm.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(Xv), booster.predict(Xv))


def test_lightgbm_sklearn_api_and_disable(data) -> None:  # type: ignore[no-untyped-def]
    X, y, Xv, yv = data
    original_fit = lightgbm.LGBMClassifier.__dict__["fit"]
    original_train = lightgbm.train
    jt.lightgbm.autolog()
    clf = lightgbm.LGBMClassifier(n_estimators=3, num_leaves=4, verbose=-1)
    clf.fit(X, y, eval_set=[(Xv, yv)])
    (run,) = jt.search_runs(output_format="list")
    assert run.data.params["num_leaves"] == "4"
    assert len(_history(run.info.run_id, "valid_0-binary_logloss")) == 3
    loaded = jt.lightgbm.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(Xv), clf.predict(Xv))
    jt.lightgbm.autolog(disable=True)
    assert lightgbm.LGBMClassifier.__dict__["fit"] is original_fit
    assert lightgbm.train is original_train and not patching.patched("lightgbm")
    clf.fit(X, y)
    assert len(jt.search_runs(output_format="list")) == 1
