"""MLflow's tutorials, written out as in MLflow's docs, run with only the imports changed:
``import mlflow`` -> ``import jupyter_track as mlflow`` (and ``from mlflow.x import y`` ->
``from jupyter_track.x import y``, ``import mlflow.sklearn`` -> ``import jupyter_track.sklearn``).

Each script is run in a fresh process on a fresh store and ends by printing, through MLflow's
API names, what it logged; where cheap the very same script runs on real MLflow 3.17.2 (its own
venv, a SQLite store) as the control, and both reports are compared.

Departures from the docs, made for both runs: no tracking-server URI (a local store);
scikit-learn 1.9 no longer takes ``LogisticRegression(multi_class=...)``; the quickstart's
``set_logged_model_tags`` (MLflow 3's logged-model entity) is left out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _mlflow_venv import run_mlflow_sync

QUICKSTART = """
import mlflow
from mlflow.models import infer_signature

import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

# Load the Iris dataset
X, y = datasets.load_iris(return_X_y=True)

# Split the data into training and test sets
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# Define the model hyperparameters
params = {"solver": "lbfgs", "max_iter": 1000, "random_state": 8888}

# Train the model
lr = LogisticRegression(**params)
lr.fit(X_train, y_train)

# Predict on the test set
y_pred = lr.predict(X_test)

# Calculate metrics
accuracy = accuracy_score(y_test, y_pred)

# Create a new MLflow Experiment
mlflow.set_experiment("MLflow Quickstart")

# Start an MLflow run
with mlflow.start_run():
    # Log the hyperparameters
    mlflow.log_params(params)

    # Log the loss metric
    mlflow.log_metric("accuracy", accuracy)

    # Set a tag that we can use to remind ourselves what this run was for
    mlflow.set_tag("Training Info", "Basic LR model for iris data")

    # Infer the model signature
    signature = infer_signature(X_train, lr.predict(X_train))

    # Log the model, which inherits the parameters and metric
    model_info = mlflow.sklearn.log_model(
        sk_model=lr,
        name="iris_model",
        signature=signature,
        input_example=X_train,
        registered_model_name="tracking-quickstart",
    )

# Load the model back for predictions as a generic Python Function model
loaded_model = mlflow.pyfunc.load_model(model_info.model_uri)

predictions = loaded_model.predict(X_test)

iris_feature_names = datasets.load_iris().feature_names

result = pd.DataFrame(X_test, columns=iris_feature_names)
result["actual_class"] = y_test
result["predicted_class"] = predictions

print(result[:4])

# --- the report (MLflow's API names only) ---
import json
run = mlflow.last_active_run()
runs = mlflow.search_runs(experiment_names=["MLflow Quickstart"])
print(json.dumps({
    "params": run.data.params,
    "metrics": {k: round(v, 6) for k, v in run.data.metrics.items()},
    "tag": run.data.tags["Training Info"],
    "predictions": [int(p) for p in predictions],
    "version": int(model_info.registered_model_version),
    "rows": len(runs),
    "columns": sorted(c for c in runs.columns if c.startswith(("params.", "metrics."))),
}))
"""

SKLEARN_ELASTICNET = """
# MLflow's examples/sklearn_elasticnet_diabetes/linux/train_diabetes.py (without its plot)
import warnings

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

import mlflow
import mlflow.sklearn
from mlflow.models import infer_signature

# Load Diabetes datasets
diabetes = datasets.load_diabetes()
X = diabetes.data
y = diabetes.target

# Create pandas DataFrame for sklearn ElasticNet linear_model
Y = np.array([y]).transpose()
d = np.concatenate((X, Y), axis=1)
cols = diabetes.feature_names + ["progression"]
data = pd.DataFrame(d, columns=cols)


def eval_metrics(actual, pred):
    rmse = np.sqrt(mean_squared_error(actual, pred))
    mae = mean_absolute_error(actual, pred)
    r2 = r2_score(actual, pred)
    return rmse, mae, r2


warnings.filterwarnings("ignore")
np.random.seed(40)

# Split the data into training and test sets. (0.75, 0.25) split.
train, test = train_test_split(data)

# The predicted column is "progression" which is a quantitative measure of disease progression
train_x = train.drop(["progression"], axis=1)
test_x = test.drop(["progression"], axis=1)
train_y = train[["progression"]]
test_y = test[["progression"]]

alpha = 0.05
l1_ratio = 0.05

# Run ElasticNet
with mlflow.start_run() as run:
    lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
    lr.fit(train_x, train_y)
    predicted_qualities = lr.predict(test_x)
    (rmse, mae, r2) = eval_metrics(test_y, predicted_qualities)

    # Print out ElasticNet model metrics
    print(f"Elasticnet model (alpha={alpha:f}, l1_ratio={l1_ratio:f}):")
    print(f"  RMSE: {rmse}")
    print(f"  MAE: {mae}")
    print(f"  R2: {r2}")

    # Log mlflow attributes for mlflow UI
    mlflow.log_param("alpha", alpha)
    mlflow.log_param("l1_ratio", l1_ratio)
    mlflow.log_metric("rmse", rmse)
    mlflow.log_metric("r2", r2)
    mlflow.log_metric("mae", mae)
    predictions = lr.predict(train_x)
    signature = infer_signature(train_x, predictions)
    mlflow.sklearn.log_model(lr, name="model", signature=signature)

# --- the report ---
import json
logged = mlflow.get_run(run.info.run_id)
model = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
print(json.dumps({
    "params": logged.data.params,
    "metrics": {k: round(v, 6) for k, v in logged.data.metrics.items()},
    "same_predictions": bool(np.allclose(model.predict(test_x), predicted_qualities)),
    "estimator": type(model).__name__,
}))
"""

REGISTRY = """
# MLflow's "Register a model" tutorial: log and register, load by version, register again,
# point an alias at it and load by the alias
from sklearn.datasets import make_regression
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient

with mlflow.start_run() as run:
    X, y = make_regression(n_features=4, n_informative=2, random_state=0, shuffle=False)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=42
    )

    params = {"max_depth": 2, "random_state": 42}
    model = RandomForestRegressor(**params)
    model.fit(X_train, y_train)

    # Log parameters and metrics using the MLflow APIs
    mlflow.log_params(params)

    y_pred = model.predict(X_test)
    mlflow.log_metrics({"mse": mean_squared_error(y_test, y_pred)})

    # Log the sklearn model and register as version 1
    mlflow.sklearn.log_model(
        sk_model=model,
        name="sklearn-model",
        input_example=X_train,
        registered_model_name="sk-learn-random-forest-reg-model",
    )

model_name = "sk-learn-random-forest-reg-model"
model_version = "latest"

# Load the model from the Model Registry
model_uri = f"models:/{model_name}/{model_version}"
model = mlflow.sklearn.load_model(model_uri)

# Generate a new dataset for prediction and predict
X_new, _ = make_regression(n_features=4, n_informative=2, random_state=0, shuffle=False)
y_pred_new = model.predict(X_new)

# Register the run's model again: version 2
result = mlflow.register_model(f"runs:/{run.info.run_id}/sklearn-model", model_name)

client = MlflowClient()
client.set_registered_model_alias(model_name, "champion", result.version)
champion = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")

# --- the report ---
import json
import numpy as np
print(json.dumps({
    "version": int(result.version),
    "alias_version": int(client.get_model_version_by_alias(model_name, "champion").version),
    "same_predictions": bool(np.allclose(champion.predict(X_new), y_pred_new)),
    "estimator": type(model).__name__,
    "versions": sorted(
        int(v.version) for v in client.search_model_versions(f"name='{model_name}'")
    ),
}))
"""

AUTOLOG = """
# MLflow's "Automatic Logging" tutorial, then its scikit-learn GridSearchCV example
import mlflow

from sklearn.model_selection import train_test_split
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor

mlflow.autolog()

db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target)

rf = RandomForestRegressor(n_estimators=100, max_depth=6, max_features=3)
# MLflow triggers logging automatically upon model fitting
rf.fit(X_train, y_train)

autolog_run = mlflow.last_active_run()

import pandas as pd
from sklearn import datasets, svm
from sklearn.model_selection import GridSearchCV

mlflow.sklearn.autolog()

iris = datasets.load_iris()
parameters = {"kernel": ("linear", "rbf"), "C": [1, 10]}
svc = svm.SVC()
clf = GridSearchCV(svc, parameters)

clf.fit(iris.data, iris.target)
run_id = mlflow.last_active_run().info.run_id

# show data logged in the parent run
parent = mlflow.get_run(run_id)

# show data logged in the child runs
filter_child_runs = "tags.mlflow.parentRunId = '{}'".format(run_id)
runs = mlflow.search_runs(filter_string=filter_child_runs)
param_cols = ["params.{}".format(p) for p in parameters.keys()]
metric_cols = ["metrics.mean_test_score"]

print("\\n========== child runs ==========\\n")
pd.set_option("display.max_columns", None)  # prevent truncating columns
print(runs[["run_id", *param_cols, *metric_cols]])

# --- the report ---
import json
print(json.dumps({
    "rf_params": autolog_run.data.params,
    "rf_metrics": sorted(autolog_run.data.metrics),
    "rf_tags": autolog_run.data.tags["estimator_name"],
    "search_params": sorted(k for k in parent.data.params if k.startswith("best_")),
    "search_metrics": sorted(k for k in parent.data.metrics if not k.startswith("training_")),
    "children": sorted(
        (r["params.kernel"], r["params.C"]) for _, r in runs[param_cols].iterrows()
    ),
    "child_metrics": bool(runs["metrics.mean_test_score"].notna().all()),
}))
"""


def as_jupyter_track(source: str) -> str:
    """Only the imports change: MLflow's module paths become jupyter_track's."""
    lines = []
    for line in source.splitlines():
        if re.fullmatch(r"\s*import mlflow\s*", line):
            line = line.replace("import mlflow", "import jupyter_track as mlflow")
        elif m := re.fullmatch(r"(\s*)import mlflow\.(\S+)\s*", line):
            line = f"{m.group(1)}import jupyter_track.{m.group(2)}"
        elif m := re.fullmatch(r"(\s*)from mlflow(\.\S+)? import (.*)", line):
            line = f"{m.group(1)}from jupyter_track{m.group(2) or ''} import {m.group(3)}"
        lines.append(line)
    changed = "\n".join(lines)
    assert "import mlflow" not in changed.replace("import jupyter_track as mlflow", "")
    return changed


def run_jupyter_track(source: str, workdir: Path) -> Any:
    """Run the tutorial with jupyter_track in a fresh process on a fresh store."""
    script = workdir / "tutorial.py"
    script.write_text(as_jupyter_track(textwrap.dedent(source)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_TRACK_", "MLFLOW_"))}
    env["JUPYTER_TRACK_DB"] = str(workdir / "store" / "track.db")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_control(source: str, workdir: Path) -> Any:
    """The same tutorial on real MLflow 3.17.2 with a SQLite store."""
    workdir.mkdir()
    return run_mlflow_sync(
        source, workdir, MLFLOW_TRACKING_URI=f"sqlite:///{workdir / 'mlflow.db'}"
    )


def test_imports_are_the_only_change() -> None:
    changed = as_jupyter_track("import mlflow\nimport mlflow.sklearn\nfrom mlflow.models import X")
    assert changed == (
        "import jupyter_track as mlflow\nimport jupyter_track.sklearn\n"
        "from jupyter_track.models import X"
    )


def both(source: str, tmp_path: Path) -> tuple[Any, Any]:
    """The tutorial on jupyter_track and on MLflow, side by side (two processes at once)."""
    with ThreadPoolExecutor(2) as pool:
        control = pool.submit(run_control, source, tmp_path / "mlflow")
        ours = run_jupyter_track(source, tmp_path)
        return ours, control.result()


def test_quickstart_matches_mlflow(tmp_path: Path) -> None:
    ours, control = both(QUICKSTART, tmp_path)
    assert ours["params"] == {"solver": "lbfgs", "max_iter": "1000", "random_state": "8888"}
    assert ours["metrics"]["accuracy"] == 1.0 and ours["version"] == 1 and ours["rows"] == 1
    assert len(ours["predictions"]) == 30
    assert ours == control


def test_sklearn_elasticnet_example(tmp_path: Path) -> None:
    ours = run_jupyter_track(SKLEARN_ELASTICNET, tmp_path)
    assert ours["params"] == {"alpha": "0.05", "l1_ratio": "0.05"}
    assert set(ours["metrics"]) == {"rmse", "r2", "mae"}
    assert ours["same_predictions"] and ours["estimator"] == "ElasticNet"


def test_registry_tutorial(tmp_path: Path) -> None:
    ours = run_jupyter_track(REGISTRY, tmp_path)
    assert ours == {
        "version": 2,
        "alias_version": 2,
        "same_predictions": True,
        "estimator": "RandomForestRegressor",
        "versions": [1, 2],
    }


def test_autolog_tutorial_matches_mlflow(tmp_path: Path) -> None:
    ours, control = both(AUTOLOG, tmp_path)
    assert ours["rf_params"]["max_depth"] == "6" and ours["rf_params"]["n_estimators"] == "100"
    assert ours["rf_metrics"] == [
        "training_mean_absolute_error",
        "training_mean_squared_error",
        "training_r2_score",
        "training_root_mean_squared_error",
        "training_score",
    ]
    assert ours["children"] == [["linear", "1"], ["linear", "10"], ["rbf", "1"], ["rbf", "10"]]
    assert ours == control
