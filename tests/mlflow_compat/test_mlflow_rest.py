"""MLflow's own client (3.17.2, in its venv) against the Jupyter server's MLflow protocol.

The server is pytest-jupyter's (in this process, on the test's event loop, with an odd
``base_url``); the ``mlflow`` client runs as a subprocess with
``MLFLOW_TRACKING_URI=http://127.0.0.1:<port><base_url>jupyter-track/mlflow`` and
``MLFLOW_TRACKING_TOKEN=<the server's token>``. What it logs is then read back through
jupyter-track's own REST API (the sidebar's), its store and its Python API.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from _mlflow_venv import run_mlflow

import jupyter_track as jt
from jupyter_track.store import SQLiteStore

API = ("jupyter-track", "api")


@pytest.fixture
def tracking(
    jp_fetch: Any, jp_http_port: int, jp_base_url: str, jp_server_auth_token: str
) -> dict[str, str]:
    """The environment that points MLflow's client at the test's Jupyter server."""
    return {
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{jp_http_port}{jp_base_url}jupyter-track/mlflow",
        "MLFLOW_TRACKING_TOKEN": jp_server_auth_token,
    }


async def api(jp_fetch: Any, *path: str, **params: Any) -> Any:
    response = await jp_fetch(*API, *path, params=params or None)
    return json.loads(response.body)


LOG_EVERYTHING = """
import json, os, tempfile
import mlflow
from mlflow import MlflowClient

work = tempfile.mkdtemp()
mlflow.set_experiment("mlflow-client")
with mlflow.start_run(run_name="train") as run:
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({"depth": 3, "optimizer": "adam"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.9, "nan_metric": float("nan")}, step=4)
    mlflow.set_tag("team", "vision")
    import pandas as pd

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="toy"), context="training")
    mlflow.set_tags({"stage": "dev"})
    notes = os.path.join(work, "notes.txt")
    with open(notes, "w") as fh:
        fh.write("hello from mlflow")
    mlflow.log_artifact(notes)
    mlflow.log_artifact(notes, "docs/more")
    model = os.path.join(work, "model")
    os.makedirs(model)
    with open(os.path.join(model, "MLmodel"), "w") as fh:
        fh.write("flavors: {}\\n")
    with open(os.path.join(model, "weights.bin"), "wb") as fh:
        fh.write(bytes(range(256)) * 100)
    mlflow.log_artifacts(model, "model")
    mlflow.log_dict({"classes": [0, 1]}, "meta/labels.json")
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("loss", 0.5)
with mlflow.start_run(run_name="second"):
    mlflow.log_param("lr", 0.1)
    mlflow.log_metric("loss", 2.0)

client = MlflowClient()
version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "mlflow-clf")
client.set_registered_model_alias("mlflow-clf", "champion", version.version)
client.set_registered_model_tag("mlflow-clf", "owner", "vision")
by_alias = client.get_model_version_by_alias("mlflow-clf", "champion")
history = client.get_metric_history(run.info.run_id, "loss")
frame = mlflow.search_runs(experiment_names=["mlflow-client"])
for column in ("start_time", "end_time"):
    frame[column] = [None if t != t else int(t.timestamp() * 1000) for t in frame[column]]
downloaded = client.download_artifacts(run.info.run_id, "notes.txt", work)
model_dir = mlflow.artifacts.download_artifacts(
    "models:/mlflow-clf@champion", dst_path=tempfile.mkdtemp()
)
listing = [f.path for f in client.list_artifacts(run.info.run_id)]
inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
print(json.dumps({
    "inputs": [
        [i.dataset.name, i.dataset.source_type, json.loads(i.dataset.profile)["num_rows"],
         {t.key: t.value for t in i.tags}]
        for i in inputs
    ],
    "run_id": run.info.run_id,
    "child_id": child.info.run_id,
    "experiment_id": run.info.experiment_id,
    "version": version.version,
    "alias_version": by_alias.version,
    "alias_source": by_alias.source,
    "history": [[m.step, m.value] for m in history],
    "frame": json.loads(frame.to_json(orient="records")),
    "columns": list(frame.columns),
    "downloaded": open(downloaded).read(),
    "model_files": sorted(os.listdir(model_dir)),
    "weights_ok": open(os.path.join(model_dir, "weights.bin"), "rb").read()
        == bytes(range(256)) * 100,
    "listing": listing,
}))
"""


async def test_mlflow_client_logs_into_jupyter_track(
    jp_fetch: Any, tracking: dict[str, str], tmp_path: Path, store: SQLiteStore
) -> None:
    out = await run_mlflow(LOG_EVERYTHING, tmp_path, **tracking)
    run_id, child_id = out["run_id"], out["child_id"]

    # what MLflow's client read back through the protocol
    assert out["history"] == [[s, 1.0 / (s + 1)] for s in range(5)]
    assert out["version"] == "1" and out["alias_version"] == "1"
    assert out["alias_source"].endswith(f"/{run_id}/artifacts/model")
    assert out["downloaded"] == "hello from mlflow"
    assert {"MLmodel", "weights.bin"} <= set(out["model_files"]) and out["weights_ok"]
    assert sorted(out["listing"]) == ["docs", "inputs", "meta", "model", "notes.txt"]
    # the dataset MLflow's client logged, read back by it as MLflow's RunInputs
    assert out["inputs"] == [["toy", "code", 3, {"mlflow.data.context": "training"}]]

    # jupyter-track's own REST API (what the sidebar shows)
    experiments = await api(jp_fetch, "experiments")
    experiment = next(e for e in experiments["experiments"] if e["name"] == "mlflow-client")
    assert experiment["experiment_id"] == out["experiment_id"]
    detail = await api(jp_fetch, "runs", run_id)
    assert detail["run_name"] == "train"
    assert detail["status"] == "FINISHED"
    assert detail["user_id"] == "ana"  # the authenticated user, not the client's claim
    assert detail["params"] == {"lr": "0.01", "depth": "3", "optimizer": "adam"}
    assert detail["tags"]["team"] == "vision"
    assert detail["tags"]["mlflow.user"] == "ana"
    assert detail["tags"]["mlflow.source.type"] == "LOCAL"
    assert detail["metrics"]["loss"]["last"] == 0.2
    assert detail["metrics"]["loss"]["count"] == 5
    assert detail["metrics"]["nan_metric"]["last"] == "NaN"
    assert child_id in detail["children"]
    paths = {a["path"] for a in detail["artifacts"]}
    assert {"notes.txt", "docs/more/notes.txt", "model/MLmodel", "model/weights.bin"} <= paths
    assert "meta/labels.json" in paths
    # the dataset, recorded as jt.log_input records inputs
    assert detail["tags"]["jt.input.toy.context"] == "training"
    assert detail["tags"]["jt.input.toy.rows"] == "3"
    assert len(detail["tags"]["jt.input.toy.digest"]) >= 8
    assert "inputs/toy.json" in paths
    from jupyter_track.lineage.inputs import run_inputs

    (toy,) = run_inputs(detail["tags"])
    assert toy["name"] == "toy" and toy["kind"] == "code"
    history = await api(jp_fetch, "metrics", "history", run_ids=run_id, keys="loss")
    (series,) = history["series"]
    assert series["value"] == [1.0 / (s + 1) for s in range(5)]
    model = await api(jp_fetch, "registry", "models", "mlflow-clf")
    assert model["model"]["aliases"] == {"champion": 1}
    assert model["model"]["tags"] == {"owner": "vision"}
    (version,) = model["versions"]
    assert version["run_id"] == run_id and version["artifact_path"] == "model"
    audit = store.registry_audit("mlflow-clf")
    assert {(e.action, e.actor, e.actor_verified) for e in audit} >= {
        ("create_registered_model", "ana", True),
        ("create_model_version", "ana", True),
        ("set_alias", "ana", True),
    }

    # the version records the folder of the run's artifacts it came from
    champion = store.get_model_version_by_alias("mlflow-clf", "champion")
    assert (champion.run_id, champion.artifact_path) == (run_id, "model")
    folder = store.artifact_path(run_id, "model")
    assert (folder / "weights.bin").read_bytes() == bytes(range(256)) * 100

    # mlflow.search_runs through the protocol == jupyter-track's own search_runs
    theirs = out["frame"]
    jt.set_tracking_uri(str(store.path))
    frame = jt.search_runs(experiment_names=["mlflow-client"])
    for column in ("start_time", "end_time"):
        frame[column] = [None if t != t else int(t.timestamp() * 1000) for t in frame[column]]
    ours = json.loads(frame.to_json(orient="records"))
    assert [r["run_id"] for r in theirs] == [r["run_id"] for r in ours]
    assert len(theirs) == 3
    shared = [
        c
        for c in out["columns"]
        if c.startswith(("params.", "metrics.", "tags."))
        or c in ("run_id", "experiment_id", "status", "start_time", "end_time")
    ]
    assert {"params.lr", "metrics.loss", "tags.mlflow.runName", "tags.team"} <= set(shared)
    for mine, other in zip(ours, theirs):
        for column in shared:
            assert _same(mine.get(column), other.get(column)), (column, mine, other)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


LOG_MODELS = """
import json
import numpy as np
import mlflow
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

X = np.random.RandomState(0).rand(40, 3)
y = (X[:, 0] > 0.5).astype(int)
mlflow.set_experiment("mlflow-3-models")
with mlflow.start_run(run_name="fit") as run:
    mlflow.log_metric("acc", 0.93)
    model = LogisticRegression().fit(X, y)
    info = mlflow.sklearn.log_model(model, name="clf", registered_model_name="iris-lr")
client = MlflowClient()
client.set_registered_model_alias("iris-lr", "prod", 1)
by_alias = mlflow.sklearn.load_model("models:/iris-lr@prod")
by_id = mlflow.pyfunc.load_model(info.model_uri)
found = client.search_logged_models(experiment_ids=[run.info.experiment_id])

mlflow.sklearn.autolog()
with mlflow.start_run(run_name="autologged") as auto:
    LogisticRegression(C=0.5).fit(X, y)
mlflow.sklearn.autolog(disable=True)
auto_run = client.get_run(auto.info.run_id)
print(json.dumps({
    "run_id": run.info.run_id,
    "model_id": info.model_id,
    "same_predictions": bool((by_alias.predict(X) == model.predict(X)).all())
        and bool((by_id.predict(X) == model.predict(X)).all()),
    "found": [(m.model_id, m.name, str(m.status)) for m in found],
    "auto_id": auto.info.run_id,
    "auto_params": auto_run.data.params,
    "auto_metrics": sorted(auto_run.data.metrics),
    "auto_models": [
        m.name
        for m in client.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{auto.info.run_id}'",
        )
    ],
}))
"""


async def test_mlflow_3_logged_models_and_autolog(
    jp_fetch: Any, tracking: dict[str, str], tmp_path: Path, store: SQLiteStore
) -> None:
    """``mlflow.sklearn.log_model(..., registered_model_name=)``, loading it back by alias and
    by ``models:/<model_id>``, and sklearn autologging, all through the protocol."""
    out = await run_mlflow(LOG_MODELS, tmp_path, **tracking)
    run_id, model_id = out["run_id"], out["model_id"]
    assert out["same_predictions"]
    statuses = {f[0]: (f[1], f[2]) for f in out["found"]}
    assert statuses[model_id] == ("clf", "READY")  # finalized once its files were uploaded
    # the model's files are in its run, under its name; the version records that folder
    assert (store.artifact_path(run_id, "clf") / "MLmodel").is_file()
    mv = store.get_model_version("iris-lr", 1)
    assert (mv.run_id, mv.artifact_path, mv.source) == (run_id, "clf", f"models:/{model_id}")
    assert store.get_aliases("iris-lr") == {"prod": 1}
    # log_model logs the run's points again with the model's id: stored once, as MLflow does
    assert len(store.get_metric_history(run_id, "acc")) == 1
    detail = json.loads((await jp_fetch(*API, "runs", run_id)).body)
    assert any(a["path"] == "clf/MLmodel" for a in detail["artifacts"])
    # autologging: the estimator's params, training metrics and the fitted model
    assert out["auto_params"]["C"] == "0.5"
    assert any(k.startswith("training_") for k in out["auto_metrics"])
    assert out["auto_models"] == ["model"]
    assert (store.artifact_path(out["auto_id"], "model") / "MLmodel").is_file()
