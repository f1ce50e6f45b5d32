"""MLflow's ``mlflow.data`` under ``jupyter_track.data`` and datasets as run inputs (issue 9 §1).

The same snippet runs with ``import jupyter_track as mlflow`` and on the real MLflow 3.17.2 (the
control); the shapes of what they record are compared (digests differ on purpose: ours is
jupyter-track's SHA-256 content fingerprint).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _compat import run_both

import jupyter_track as mlflow
from jupyter_track.entities import DatasetInput
from jupyter_track.exceptions import MlflowException

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

DATA_SNIPPET = """
import numpy as np
import pandas as pd

df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"], "n": [1, 2, 3]})
train = mlflow.data.from_pandas(df, source="data/train.csv", name="train", targets="n")
arrays = mlflow.data.from_numpy(np.arange(6).reshape(3, 2), targets=np.arange(3), name="arr")
code = mlflow.data.from_pandas(df)
mlflow.set_experiment("data")
with mlflow.start_run() as active:
    mlflow.log_input(train, context="training", tags={"split": "80/20"})
    mlflow.log_input(arrays)
with mlflow.start_run():
    pass
run = mlflow.get_run(active.info.run_id)
inputs = sorted(run.inputs.dataset_inputs, key=lambda i: i.dataset.name)
as_dicts = run.to_dictionary()["inputs"]
by_name = {"train": train, "arr": arrays}
def shape(ds):
    d = ds.to_dict()
    return {k: d[k] for k in ("name", "source", "source_type", "schema", "profile")}
print(json.dumps({
    "train": shape(train),
    "arrays": {k: v for k, v in shape(arrays).items() if k != "source"},
    "code_source_type": code.source.to_dict().keys() and code.to_dict()["source_type"],
    "code_name": code.name,
    "targets": train.targets,
    "df_rows": len(train.df),
    "features_shape": list(arrays.features.shape),
    "recorded": [
        {
            "name": i.dataset.name,
            "source_type": i.dataset.source_type,
            "source": i.dataset.source if i.dataset.source_type != "code" else "(this code)",
            "schema": i.dataset.schema,
            "profile": i.dataset.profile,
            "tags": sorted((t.key, t.value) for t in i.tags),
            "digest_matches": i.dataset.digest == by_name[i.dataset.name].digest,
        }
        for i in inputs
    ],
    "dict_keys": sorted(as_dicts),
    "dict_first_keys": sorted(as_dicts["dataset_inputs"][0]),
    "by_name": len(mlflow.search_runs(filter_string="dataset.name = 'train'")),
    "by_context": len(mlflow.search_runs(filter_string="dataset.context = 'training'")),
    "by_digest": len(mlflow.search_runs(filter_string=f"dataset.digest = '{train.digest}'")),
    "none": len(mlflow.search_runs(filter_string="dataset.name = 'other'")),
}))
"""


def test_datasets_are_recorded_and_searched_as_mlflows(tmp_path: Path) -> None:
    ours, theirs = run_both(DATA_SNIPPET, tmp_path)
    assert ours == theirs
    assert ours["by_name"] == ours["by_context"] == ours["by_digest"] == 1
    assert ours["recorded"][1]["tags"] == [["mlflow.data.context", "training"], ["split", "80/20"]]


def test_log_input_of_a_dataset_uses_the_one_input_record() -> None:
    """``jt.log_input(from_pandas(df))`` and ``jt.log_input(df)`` record one digest (the
    content fingerprint) through the same recorder: tags, ``inputs/<name>.json``, lineage."""
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 0.25, 0.125]})
    dataset = mlflow.data.from_pandas(df, name="frame", source="s3://bucket/frame.parquet")
    with mlflow.start_run() as active:
        mlflow.log_input(dataset, context="eval")
        plain = mlflow.log_input(df, name="plain")
    assert dataset.digest == plain["digest"]
    run = mlflow.get_run(active.info.run_id)
    tags = run.data.tags
    assert tags["jt.input.frame.digest"] == dataset.digest
    assert tags["jt.input.frame.context"] == "eval" and tags["jt.input.frame.rows"] == "3"
    assert json.loads(tags["jt.input.frame.source"]) == {"uri": "s3://bucket/frame.parquet"}
    from jupyter_track.lineage import run_inputs

    assert {i["name"] for i in run_inputs(tags)} == {"frame", "plain"}
    items = {i.dataset.name: i for i in run.inputs.dataset_inputs}
    assert isinstance(items["frame"], DatasetInput)
    assert json.loads(items["frame"].dataset.schema)["mlflow_colspec"][0] == {
        "type": "long",
        "name": "x",
        "required": True,
    }
    assert json.loads(items["plain"].dataset.profile) == {"num_rows": 3}
    # searchable with jupyter-track's tag names and MLflow's dataset fields
    assert len(mlflow.search_runs(filter_string=f"dataset.digest = '{dataset.digest}'")) == 1
    assert len(mlflow.search_runs(filter_string="tags.`jt.input.frame.context` = 'eval'")) == 1


def test_client_get_run_reads_the_inputs_records() -> None:
    arrays = mlflow.data.from_numpy(np.zeros((4, 3), dtype="float32"), name="zeros")
    with mlflow.start_run() as active:
        mlflow.log_input(arrays, context="training")
    run = mlflow.MlflowClient().get_run(active.info.run_id)
    (item,) = run.inputs.dataset_inputs
    assert json.loads(item.dataset.profile)["features_shape"] == [4, 3]
    assert item.dataset.source_type == "code"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mlflow.data.from_pandas([1, 2]), "df: expected a pandas DataFrame"),
        (
            lambda: mlflow.data.from_pandas(pd.DataFrame({"a": [1]}), targets="b"),
            "targets 'b': not a column",
        ),
        (lambda: mlflow.data.from_pandas(pd.DataFrame({"a": [1]}), name=""), "name ''"),
        (lambda: mlflow.data.from_pandas(pd.DataFrame({"a": [1]}), source=3), "source 3"),
        (
            lambda: mlflow.data.from_numpy(np.zeros(3), targets=np.zeros(2)),
            "targets: 2 rows, but features has 3",
        ),
    ],
)
def test_bad_datasets_are_refused_naming_the_field(call: object, message: str) -> None:
    with pytest.raises(MlflowException, match=message) as caught:
        call()  # type: ignore[operator]
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


INPUTS_SNIPPET = """
import numpy as np
import pandas as pd
from {m}.entities import DatasetInput, InputTag

a = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="a", source="a.csv")
b = mlflow.data.from_numpy(np.ones((3, 2)), name="b")
with mlflow.start_run() as active:
    mlflow.log_inputs([a, b], contexts=["train", None], tags_list=[None, {"k": "v"}])
client = mlflow.MlflowClient()
other = client.create_run(active.info.experiment_id)
entity = DatasetInput(a._to_mlflow_entity(), [InputTag("mlflow.data.context", "eval")])
client.log_inputs(other.info.run_id, datasets=[entity])
def seen(run_id):
    run = client.get_run(run_id)
    return sorted(
        [i.dataset.name, sorted((t.key, t.value) for t in i.tags), i.dataset.source_type]
        for i in run.inputs.dataset_inputs
    )
print(json.dumps({
    "fluent": seen(active.info.run_id),
    "client": seen(other.info.run_id),
    "by_context": len(mlflow.search_runs(filter_string="dataset.context = 'eval'")),
}))
"""


def test_log_inputs_fluent_and_client_as_mlflows(tmp_path: Path) -> None:
    ours, theirs = run_both(INPUTS_SNIPPET, tmp_path)
    assert ours == theirs
    assert ours["client"] == [["a", [["mlflow.data.context", "eval"]], "local"]]


def test_log_inputs_lists_must_match() -> None:
    dataset = mlflow.data.from_pandas(pd.DataFrame({"x": [1]}), name="x")
    with mlflow.start_run(), pytest.raises(MlflowException, match="contexts: 2 entries for 1"):
        mlflow.log_inputs([dataset], contexts=["a", "b"])
