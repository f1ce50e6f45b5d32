"""MLflow stores made by the real MLflow 3.17.2, for the import tests.

:data:`SEED` runs in the MLflow venv against a tracking URI and fills it the way people use
MLflow: experiments (one with tags, one deleted), nested runs, a failed run, a deleted run,
params, tags, metric histories (NaN included), artifacts in sub-folders, a model logged with
``mlflow.sklearn.log_model`` (an MLflow 3 logged model) and registered, a second version
registered from run artifacts, an alias, model and version tags, a description, a deleted
version (a gap in the numbers). It then reads everything back **with MLflow's own client**
and prints it as JSON: what the import must reproduce.
"""

from __future__ import annotations

SEED = r"""
import json, math, os, sys, tempfile
import numpy as np
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from sklearn.linear_model import LogisticRegression

mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
work = tempfile.mkdtemp()

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)

mlflow.set_experiment("vision")
mlflow.set_experiment_tags({"team": "cv", "stage": "research"})
with mlflow.start_run(run_name="train") as parent:
    mlflow.log_params({"lr": 0.01, "depth": 4, "optimizer": "adam"})
    for step in range(30):
        mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 30}, step=step)
    mlflow.log_metric("odd", float("nan"), step=1)
    mlflow.log_metric("odd", float("inf"), step=2)
    mlflow.set_tags({"dataset": "cifar", "owner": "ana"})
    write(os.path.join(work, "report.txt"), "accuracy report")
    mlflow.log_artifact(os.path.join(work, "report.txt"))
    write(os.path.join(work, "plots", "a", "curve.csv"), "step,loss\n0,1\n")
    mlflow.log_artifacts(os.path.join(work, "plots"), "plots")
    X = np.random.RandomState(0).rand(40, 3)
    y = (X[:, 0] > 0.5).astype(int)
    logged = mlflow.sklearn.log_model(
        LogisticRegression().fit(X, y), name="classifier", registered_model_name="digits"
    )
    for i in range(2):
        with mlflow.start_run(run_name=f"fold-{i}", nested=True):
            mlflow.log_param("fold", i)
            mlflow.log_metric("val_loss", 0.5 + i)
with mlflow.start_run(run_name="broken") as broken:
    mlflow.log_param("lr", 10)
client.set_terminated(broken.info.run_id, "FAILED")
with mlflow.start_run(run_name="discarded") as discarded:
    mlflow.log_metric("loss", 9.0)
client.delete_run(discarded.info.run_id)
with mlflow.start_run(run_name="export") as export:
    model_dir = os.path.join(work, "exported")
    write(os.path.join(model_dir, "MLmodel"), "flavors: {}\n")
    write(os.path.join(model_dir, "weights.bin"), "0123456789")
    mlflow.log_artifacts(model_dir, "exported")
v2 = mlflow.register_model(f"runs:/{export.info.run_id}/exported", "digits")
v3 = mlflow.register_model(f"runs:/{export.info.run_id}/exported", "digits")
client.delete_model_version("digits", v3.version)
v4 = mlflow.register_model(f"runs:/{export.info.run_id}/exported", "digits")
client.set_registered_model_alias("digits", "champion", v2.version)
client.set_registered_model_alias("digits", "challenger", v4.version)
client.set_registered_model_tag("digits", "task", "classification")
client.set_model_version_tag("digits", "1", "validated", "true")
client.update_registered_model("digits", description="digit classifier")
client.update_model_version("digits", "2", description="exported by hand")
gone = mlflow.create_experiment("abandoned")
with mlflow.start_run(experiment_id=gone, run_name="orphan"):
    mlflow.log_param("x", 1)
client.delete_experiment(gone)

# ------------------------------------------------------------- read back with MLflow's client
def value(v):
    return v if math.isfinite(v) else str(v)

def files(list_fn, path=None):
    out = []
    for f in list_fn(path):
        out += files(list_fn, f.path) if f.is_dir else [f.path]
    return out

expected = {"experiments": {}, "runs": {}, "logged_models": {}, "models": {}}
experiments = client.search_experiments(view_type=ViewType.ALL)
for e in experiments:
    expected["experiments"][e.name] = {"lifecycle_stage": e.lifecycle_stage, "tags": e.tags}
    for r in client.search_runs([e.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
        run_id = r.info.run_id
        expected["runs"][run_id] = {
            "experiment": e.name,
            "name": r.info.run_name,
            "status": r.info.status,
            "start_time": r.info.start_time,
            "end_time": r.info.end_time,
            "lifecycle_stage": r.info.lifecycle_stage,
            "user_id": r.info.user_id,
            "params": r.data.params,
            "tags": r.data.tags,
            "metrics": {
                k: sorted(
                    [m.step, m.timestamp, value(m.value)]
                    for m in client.get_metric_history(run_id, k)
                )
                for k in r.data.metrics
            },
            "artifacts": sorted(files(lambda p, run_id=run_id: client.list_artifacts(run_id, p))),
        }
    for m in client.search_logged_models(experiment_ids=[e.experiment_id]):
        listing = lambda p, model_id=m.model_id: client.list_logged_model_artifacts(model_id, p)
        expected["logged_models"][m.model_id] = {
            "run_id": m.source_run_id,
            "name": m.name,
            "files": sorted(files(listing)),
        }
for rm in client.search_registered_models():
    versions = {}
    for v in client.search_model_versions(f"name = '{rm.name}'"):
        versions[v.version] = {
            "run_id": v.run_id,
            "source": v.source,
            "tags": v.tags,
            "description": v.description or None,
        }
    expected["models"][rm.name] = {
        "description": rm.description,
        "tags": rm.tags,
        "aliases": {a: int(v) for a, v in rm.aliases.items()},
        "versions": versions,
    }
print(json.dumps(expected))
"""
