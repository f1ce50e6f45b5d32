"""scikit-learn autologging with the real library on tiny data: what MLflow's
``mlflow.sklearn.autolog`` logs, where it goes (own run, active run, ``%%track`` cell), and
that ``disable=True`` puts scikit-learn back as it was."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from sklearn import metrics
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import jupyter_track as jt
from jupyter_track.autologging import patching


@pytest.fixture(autouse=True)
def autolog_off() -> Iterator[None]:
    yield
    jt.autolog(disable=True)


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _runs() -> list:
    return jt.search_runs(output_format="list", order_by=["start_time ASC"])


def test_fit_outside_a_run_logs_one_finished_run(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    jt.sklearn.autolog()
    model = LogisticRegression(C=0.5, max_iter=300).fit(X, y)
    assert jt.active_run() is None  # autolog's own run ended with the fit
    (run,) = _runs()
    assert run.info.status == "FINISHED"
    data = run.data
    assert data.params["C"] == "0.5" and data.params["max_iter"] == "300"
    assert data.tags["estimator_name"] == "LogisticRegression"
    assert data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert data.tags["mlflow.autologging"] == "sklearn"
    pred = model.predict(X)
    assert data.metrics["training_accuracy_score"] == pytest.approx(metrics.accuracy_score(y, pred))
    assert data.metrics["training_f1_score"] == pytest.approx(
        metrics.f1_score(y, pred, average="weighted")
    )
    assert data.metrics["training_log_loss"] == pytest.approx(
        metrics.log_loss(y, model.predict_proba(X))
    )
    assert data.metrics["training_roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y, model.predict_proba(X), multi_class="ovr")
    )
    assert data.metrics["training_score"] == pytest.approx(model.score(X, y))
    assert {"training_precision_score", "training_recall_score"} <= set(data.metrics)
    loaded = jt.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), pred)
    described = jt.models.Model.load(f"runs:/{run.info.run_id}/model")
    sig = described.signature
    assert sig is not None and sig.inputs.input_names() == list(X.columns)
    assert sig.outputs is not None and sig.outputs.kind == "tensor"
    assert described.saved_input_example_info is None  # log_input_examples=False, as MLflow
    assert jt.last_active_run().info.run_id == run.info.run_id
    inputs = run.inputs.dataset_inputs  # the training data, as MLflow's log_datasets
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [
        ("train", data.tags["jt.input.train.digest"])
    ]
    assert data.tags["jt.input.train.context"] == "train"
    paths = {a.path for a in jt.TrackClient().list_artifacts(run.info.run_id)}
    assert "training_confusion_matrix.png" in paths  # 3 classes: no ROC curve
    assert "training_roc_curve.png" not in paths


def test_binary_classifier_plots() -> None:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    jt.sklearn.autolog(log_models=False)
    LogisticRegression(max_iter=50).fit(X[:, :3], y)
    (run,) = _runs()
    names = {"training_confusion_matrix.png", "training_roc_curve.png"}
    names.add("training_precision_recall_curve.png")
    paths = {a.path for a in jt.TrackClient().list_artifacts(run.info.run_id)}
    assert names <= paths
    folder = jt.TrackClient().store.artifact_dir(run.info.run_id)
    for name in names:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_input_examples_extra_tags_and_registration(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    jt.sklearn.autolog(
        log_input_examples=True,
        log_model_signatures=False,
        extra_tags={"team": "risk"},
        registered_model_name="autologged",
    )
    LogisticRegression(max_iter=300).fit(X, y)
    (run,) = _runs()
    assert run.data.tags["team"] == "risk"
    described = jt.models.Model.load("models:/autologged/1")
    assert described.run_id == run.info.run_id and described.signature is None
    pd.testing.assert_frame_equal(described.load_input_example(), X.head(5).reset_index(drop=True))


def test_regressor_metrics_pipeline_logs_once_and_into_the_active_run() -> None:
    X, y = load_diabetes(return_X_y=True)
    jt.sklearn.autolog(log_models=False)
    with jt.start_run() as active:
        model = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
        assert jt.active_run().info.run_id == active.info.run_id  # still open
    (run,) = _runs()
    assert run.info.run_id == active.info.run_id
    params = run.data.params
    assert params["linearregression__fit_intercept"] == "True"
    assert "standardscaler__with_mean" in params
    assert run.data.tags["estimator_name"] == "Pipeline"
    pred = model.predict(X)
    mse = metrics.mean_squared_error(y, pred)
    m = run.data.metrics
    assert m["training_mean_squared_error"] == pytest.approx(mse)
    assert m["training_root_mean_squared_error"] == pytest.approx(mse**0.5)
    assert m["training_mean_absolute_error"] == pytest.approx(metrics.mean_absolute_error(y, pred))
    assert m["training_r2_score"] == pytest.approx(metrics.r2_score(y, pred))
    assert not [a for a in jt.TrackClient().list_artifacts(run.info.run_id) if a.path == "model"]


def test_grid_search_child_runs_and_best_params(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    jt.sklearn.autolog(max_tuning_runs=2)
    grid = {"C": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}
    search = GridSearchCV(LogisticRegression(max_iter=200), grid, cv=2).fit(X, y)
    runs = _runs()
    (parent,) = [r for r in runs if r.info.parent_run_id is None]
    children = [r for r in runs if r.info.parent_run_id == parent.info.run_id]
    assert len(runs) == 3 and len(children) == 2
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.params["estimator"].startswith("LogisticRegression")
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert parent.data.tags["estimator_name"] == "GridSearchCV"
    results = pd.DataFrame(search.cv_results_)
    ranked = results.nsmallest(2, "rank_test_score", keep="first")
    got = sorted(
        ((c.data.params["C"], c.data.params["fit_intercept"]) for c in children),
    )
    want = sorted((str(p["C"]), str(p["fit_intercept"])) for p in ranked["params"])
    assert got == want
    for child in children:
        assert child.data.params["max_iter"] == "200"  # the seed estimator's other params
        assert {"mean_test_score", "std_test_score", "rank_test_score"} <= set(child.data.metrics)
        assert not any(k.startswith("split") for k in child.data.metrics)
        assert child.data.tags["estimator_name"] == "LogisticRegression"
    paths = {a.path for a in jt.TrackClient().list_artifacts(parent.info.run_id)}
    assert {"cv_results.csv", "model", "best_estimator"} <= paths
    best = jt.sklearn.load_model(f"runs:/{parent.info.run_id}/best_estimator")
    np.testing.assert_array_equal(best.predict(X), search.best_estimator_.predict(X))


def test_randomized_search_logs_all_candidates_without_a_limit(
    iris: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = iris
    jt.sklearn.autolog(max_tuning_runs=None, log_models=False)
    RandomizedSearchCV(
        LogisticRegression(max_iter=200), {"C": [0.1, 1.0, 10.0]}, n_iter=3, cv=2, random_state=0
    ).fit(X, y)
    runs = _runs()
    assert len([r for r in runs if r.info.parent_run_id]) == 3


def test_post_training_metrics_name_the_dataset() -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    jt.sklearn.autolog(log_models=False)
    model = LinearRegression().fit(X_train, y_train)
    predictions = model.predict(X_test)
    mse = metrics.mean_squared_error(y_test, predictions)
    score = model.score(X_test, y_test)
    metrics.mean_squared_error(y_test, predictions)  # again: logged under a new name
    (run,) = _runs()
    m = run.data.metrics
    assert m["mean_squared_error_X_test"] == pytest.approx(mse)
    assert m["mean_squared_error_X_test-1"] == pytest.approx(mse)
    assert m["LinearRegression_score_X_test"] == pytest.approx(score)
    assert "training_score" in m


def test_disable_restores_scikit_learn(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    from sklearn.base import ClassifierMixin
    from sklearn.model_selection._search import BaseSearchCV

    originals = (
        LogisticRegression.__dict__["fit"],
        BaseSearchCV.__dict__["fit"],
        ClassifierMixin.__dict__["score"],
        metrics.mean_squared_error,
    )
    jt.sklearn.autolog()
    assert LogisticRegression.__dict__["fit"] is not originals[0]
    assert patching.patched("sklearn")
    jt.sklearn.autolog(disable=True)
    assert (
        LogisticRegression.__dict__["fit"],
        BaseSearchCV.__dict__["fit"],
        ClassifierMixin.__dict__["score"],
        metrics.mean_squared_error,
    ) == originals
    assert not patching.patched("sklearn")
    LogisticRegression(max_iter=200).fit(X, y)
    assert _runs() == []


def test_a_failing_fit_fails_its_run_and_raises() -> None:
    jt.sklearn.autolog()
    with pytest.raises(ValueError):
        LinearRegression().fit(np.ones((3, 2)), np.ones(4))  # inconsistent lengths
    (run,) = _runs()
    assert run.info.status == "FAILED"


def test_inside_a_track_cell_values_go_to_the_cells_run(
    iris: tuple[pd.DataFrame, pd.Series],
) -> None:
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("%load_ext jupyter_track\nimport jupyter_track as jt", store_history=True)
        shell.user_ns["X"], shell.user_ns["y"] = iris
        shell.run_cell("jt.sklearn.autolog()", store_history=True)
        result = shell.run_cell(
            "%%track -n cell-fit\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "clf = LogisticRegression(max_iter=300, C=2.0).fit(X, y)\n",
            store_history=True,
        )
        assert result.success
        (run,) = _runs()
        assert run.info.run_name == "cell-fit"
        assert run.data.params["C"] == "2.0"
        assert "training_accuracy_score" in run.data.metrics
    finally:
        shell.run_cell("%unload_ext jupyter_track")
        InteractiveShell.clear_instance()


def test_universal_autolog_patches_a_library_imported_later(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # jt.autolog() imports no library itself; sklearn imported afterwards is patched on import
    script = (
        "import sys, jupyter_track as jt\n"
        "jt.autolog()\n"
        "assert 'sklearn' not in sys.modules\n"
        "from sklearn.linear_model import LinearRegression\n"
        "import numpy as np\n"
        "LinearRegression().fit(np.arange(8.0).reshape(4, 2), np.arange(4.0))\n"
        "run = jt.last_active_run()\n"
        "print(run.data.tags['estimator_name'], 'training_r2_score' in run.data.metrics)\n"
        "from jupyter_track.autologging import enabled_integrations\n"
        "print(enabled_integrations())\n"
        "jt.autolog(disable=True)\n"
        "print(enabled_integrations())\n"
    )
    env_db = tmp_path / "sub.db"
    import os

    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "JUPYTER_TRACK_DB": str(env_db)},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "LinearRegression True"
    assert "sklearn" in lines[1] and "openai" in lines[1]
    assert lines[2] == "[]"
