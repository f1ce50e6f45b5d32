"""MLflow's ``exceptions`` and ``entities`` modules under ``jupyter_track`` (issue 9 §1).

Usage written here in MLflow's style; the snippets also run on the real MLflow 3.17.2 as the
control and both answers are compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _compat import run_both, run_control
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_track as mlflow
from jupyter_track import exceptions
from jupyter_track.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunInputs,
    RunStatus,
    ViewType,
)
from jupyter_track.exceptions import MlflowException
from jupyter_track.store import (
    AliasConflict,
    Conflict,
    FilterSyntaxError,
    InvalidInput,
    NotFound,
    ParamConflict,
    SchemaMismatch,
    StoreUnavailable,
    TrackError,
)

# ------------------------------------------------------------------------------ exceptions


def test_the_error_tables_are_mlflows(tmp_path: Path) -> None:
    """The code -> status table and the codes' numbers are MLflow's own (control)."""
    theirs = run_control(
        """
        from mlflow.exceptions import ERROR_CODE_TO_HTTP_STATUS
        from mlflow.protos.databricks_pb2 import ErrorCode
        numbers = {n: ErrorCode.Value(n) for n in ErrorCode.keys()}
        print(json.dumps([ERROR_CODE_TO_HTTP_STATUS, numbers]))
        """,
        tmp_path,
    )
    statuses, numbers = theirs
    assert statuses == exceptions.ERROR_CODE_TO_HTTP_STATUS
    for name, number in exceptions.ERROR_CODE_NUMBERS.items():
        assert numbers[name] == number, name


def test_mlflow_exception_behaves_as_mlflows() -> None:
    e = MlflowException("boom")
    assert (e.message, str(e), e.error_code, e.get_http_status_code()) == (
        "boom",
        "boom",
        "INTERNAL_ERROR",
        500,
    )
    e = MlflowException("gone", error_code=exceptions.RESOURCE_DOES_NOT_EXIST, run_id="r1")
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST" and e.get_http_status_code() == 404
    assert json.loads(e.serialize_as_json()) == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "gone",
        "run_id": "r1",
    }
    assert MlflowException("x", error_code="RESOURCE_ALREADY_EXISTS").get_http_status_code() == 400
    assert MlflowException("x", error_code=123456).error_code == "INTERNAL_ERROR"
    assert MlflowException.invalid_parameter_value("bad").error_code == "INVALID_PARAMETER_VALUE"
    assert mlflow.MlflowException is MlflowException


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (NotFound("x"), "RESOURCE_DOES_NOT_EXIST", 404),
        (InvalidInput("x"), "INVALID_PARAMETER_VALUE", 400),
        (FilterSyntaxError("a ==", 3, "a value"), "INVALID_PARAMETER_VALUE", 400),
        (Conflict("x"), "RESOURCE_ALREADY_EXISTS", 400),
        (ParamConflict("x"), "INVALID_PARAMETER_VALUE", 400),
        (
            AliasConflict("x", name="m", alias="a", current_version=1),
            "RESOURCE_ALREADY_EXISTS",
            400,
        ),
        (StoreUnavailable("x"), "TEMPORARILY_UNAVAILABLE", 503),
        (SchemaMismatch("x"), "TEMPORARILY_UNAVAILABLE", 503),
        (TrackError("x"), "INTERNAL_ERROR", 500),
    ],
)
def test_existing_errors_are_mlflow_exceptions(error: Exception, code: str, status: int) -> None:
    """The store's exceptions keep their classes (and Python bases) and gain MLflow's code."""
    assert isinstance(error, MlflowException) and isinstance(error, TrackError)
    assert error.error_code == code and error.get_http_status_code() == status
    assert isinstance(NotFound("x"), LookupError) and isinstance(InvalidInput("x"), ValueError)


ERRORS_SNIPPET = """
from {m}.exceptions import MlflowException
out = {}
def code(fn):
    try:
        fn()
    except MlflowException as e:
        return e.error_code
    return None
out["get_run"] = code(lambda: mlflow.get_run("0123456789abcdef0123456789abcdef"))
out["get_experiment"] = code(lambda: mlflow.get_experiment("987654"))
mlflow.create_experiment("twice")
out["create_twice"] = code(lambda: mlflow.create_experiment("twice"))
with mlflow.start_run():
    mlflow.log_param("lr", 0.1)
    out["param_changed"] = code(lambda: mlflow.log_param("lr", 0.2))
    out["bad_metric"] = code(lambda: mlflow.log_metric("acc", "high"))
client = mlflow.MlflowClient()
out["no_model"] = code(lambda: client.get_registered_model("nope"))
out["by_name"] = mlflow.get_experiment_by_name("nope")
print(json.dumps(out))
"""


def test_mlflow_exception_is_raised_where_mlflow_raises_it(tmp_path: Path) -> None:
    ours, theirs = run_both(ERRORS_SNIPPET, tmp_path)
    assert ours == theirs
    assert ours["get_run"] == "RESOURCE_DOES_NOT_EXIST"


def test_mlflow_exception_reaches_rest_clients_with_its_status() -> None:
    """An ``MlflowException`` raised with a code by any layer maps to that code's status in the
    REST API's one error shape (and the MLflow protocol's)."""
    from jupyter_track.mlflow_protocol.errors import from_exception
    from jupyter_track.server.errors import from_store_error

    error = from_store_error(MlflowException("no", error_code="PERMISSION_DENIED"))
    assert error is not None and error.status_code == 403 and error.body["message"] == "no"
    assert from_store_error(MlflowException("internal detail")) is None  # a plain 500
    mapped = from_exception(NotFound("run 'x' does not exist"))
    assert mapped is not None and (mapped.status, mapped.error_code) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert from_exception(TrackError("internal detail")) is None


# -------------------------------------------------------------------------------- entities

ENTITIES_SNIPPET = """
from {m}.entities import Metric, Param, RunTag, RunStatus, ViewType, LifecycleStage
from {m}.entities import Experiment, Run, RunInfo, RunData
mlflow.set_experiment("entities")
with mlflow.start_run(run_name="r") as active:
    mlflow.log_param("lr", "0.1")
    mlflow.log_metric("acc", 0.5, step=2)
    mlflow.set_tag("team", "ml")
run = mlflow.get_run(active.info.run_id)
exp = mlflow.get_experiment_by_name("entities")
client = mlflow.MlflowClient()
history = client.get_metric_history(run.info.run_id, "acc")
print(json.dumps({
    "run_type": isinstance(run, Run) and isinstance(run.info, RunInfo)
        and isinstance(run.data, RunData),
    "experiment_type": isinstance(exp, Experiment),
    "info_keys": sorted(dict(run.info)),
    "status": run.info.status,
    "lifecycle": run.info.lifecycle_stage,
    "run_keys": sorted(run.to_dictionary()),
    "data": {k: v for k, v in run.to_dictionary()["data"].items() if k != "tags"},
    "user_tag": run.data.tags["team"],
    "experiment_keys": sorted(k for k in dict(exp) if k in (
        "artifact_location", "creation_time", "experiment_id", "last_update_time",
        "lifecycle_stage", "name", "tags")),
    "metric": {k: v for k, v in dict(history[0]).items() if k != "timestamp"},
    "metric_dict": sorted(history[0].to_dictionary()),
    "param": dict(Param("a", "1")),
    "tag": dict(RunTag("a", "1")),
    "terminated": RunStatus.is_terminated(RunStatus.from_string("FINISHED")),
    "round_trip": [RunStatus.to_string(RunStatus.from_string(s))
                   for s in ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]],
    "finished_is_from_string": RunStatus.from_string(run.info.status) == RunStatus.FINISHED,
    "views": [ViewType.from_string(s) for s in ("active_only", "deleted_only", "all")],
    "view_names": [ViewType.to_string(v) for v in (ViewType.ACTIVE_ONLY, ViewType.ALL)],
    "stages": LifecycleStage.view_type_to_stages(ViewType.ALL),
    "matches": LifecycleStage.matches_view_type(ViewType.ACTIVE_ONLY, "deleted"),
}))
"""


def test_entities_look_like_mlflows(tmp_path: Path) -> None:
    ours, theirs = run_both(ENTITIES_SNIPPET, tmp_path)
    assert ours == theirs
    assert ours["info_keys"] == [
        "artifact_uri",
        "end_time",
        "experiment_id",
        "lifecycle_stage",
        "run_id",
        "run_name",
        "start_time",
        "status",
        "user_id",
    ]


def test_entities_are_the_stores_records() -> None:
    """One type per concept: what the store returns is the entity MLflow users import."""
    from jupyter_track import store

    assert Run is store.Run and Metric is store.Metric and Experiment is store.Experiment
    assert ModelVersion is store.ModelVersion and RegisteredModel is store.RegisteredModel
    with mlflow.start_run() as active:
        mlflow.log_metric("m", 1.0)
    run = mlflow.get_run(active.info.run_id)
    assert type(run) is Run and run.inputs == RunInputs([])
    assert dict(run)["info"] is run.info and dict(run)["outputs"].model_outputs == []
    info = FileInfo("a/b.txt", False, 3)
    assert dict(info) == {"file_size": 3, "is_dir": False, "path": "a/b.txt"}
    assert Metric.from_dictionary({"key": "k", "value": 1.0, "timestamp": 1, "step": 0}) == Metric(
        "k", 1.0, 1, 0
    )


def test_dataset_entities_convert_as_mlflows() -> None:
    dataset = Dataset("train", "abc", "local", '{"uri": "x.csv"}', schema=None, profile="{}")
    item = DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])
    assert item.to_dictionary() == {
        "dataset": {
            "name": "train",
            "digest": "abc",
            "source_type": "local",
            "source": '{"uri": "x.csv"}',
            "schema": None,
            "profile": "{}",
        },
        "tags": {"mlflow.data.context": "training"},
    }
    assert RunInputs([item]).to_dictionary()["model_inputs"] == []


def test_registry_entities_convert_with_dict() -> None:
    client = mlflow.MlflowClient()
    client.create_registered_model("m", tags={"t": "1"}, description="d")
    model = dict(client.get_registered_model("m"))
    assert {k: model[k] for k in ("name", "description", "tags")} == {
        "name": "m",
        "description": "d",
        "tags": {"t": "1"},
    }
    assert set(model) == {
        "aliases",
        "creation_timestamp",
        "description",
        "last_updated_timestamp",
        "latest_versions",
        "name",
        "tags",
    }


# -------------------------------------------------------------------- user values (hypothesis)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=12), st.sampled_from(RunStatus.ALL)))
def test_run_status_from_string_accepts_exactly_the_status_names(text: str) -> None:
    if text in RunStatus.ALL:
        status = RunStatus.from_string(text)
        assert RunStatus.to_string(status) == text
        assert RunStatus.to_string(RunStatus.NUMBERS[text]) == text  # MLflow's numbers too
        assert RunStatus.is_terminated(status) == (text in RunStatus.TERMINAL)
    else:
        with pytest.raises(MlflowException) as caught:
            RunStatus.from_string(text)
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "FINISHED" in caught.value.message  # names the valid ones


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(), st.none(), st.floats(), st.booleans(), st.binary(max_size=4)))
def test_run_status_refuses_other_values(value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        assert RunStatus.to_string(value) == RunStatus.ALL[value - 1]
        return
    with pytest.raises(MlflowException):
        RunStatus.to_string(value)
    with pytest.raises(MlflowException):
        RunStatus.from_string(value)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=14))
def test_view_type_from_string(text: str) -> None:
    names = {"active_only": 1, "deleted_only": 2, "all": 3}
    if text.lower() in names:
        assert ViewType.from_string(text) == names[text.lower()]
        assert ViewType.to_string(ViewType.from_string(text)) == text.lower()
    else:
        with pytest.raises(MlflowException):
            ViewType.from_string(text)
