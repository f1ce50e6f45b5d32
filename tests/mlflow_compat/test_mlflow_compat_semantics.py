"""MLflow's semantics where jupyter-track used to differ (issue 9 §2), in MLflow-style usage.

Most snippets run twice, with ``import jupyter_track as mlflow`` and on the real MLflow 3.17.2
(the control, its own venv and SQLite store), and the answers are compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from _compat import run_both, run_ours
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_track as mlflow
from jupyter_track.exceptions import MlflowException
from jupyter_track.tracking import session

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

# ------------------------------------------------------------------- where runs are logged


def test_client_without_uri_follows_set_tracking_uri(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    mlflow.set_tracking_uri(f"sqlite:///{other}")
    try:
        with mlflow.start_run() as active:
            mlflow.log_param("p", "1")
        client = mlflow.MlflowClient()
        assert client.tracking_uri == f"sqlite:///{other}"
        assert client.get_run(active.info.run_id).data.params == {"p": "1"}
        assert mlflow.tracking.MlflowClient is mlflow.MlflowClient is mlflow.TrackClient
        # as MLflow: exported for child processes (both names), a relative path made absolute
        assert os.environ["MLFLOW_TRACKING_URI"] == os.environ["JUPYTER_TRACK_URI"]
        assert os.environ["JUPYTER_TRACK_URI"] == f"sqlite:///{other}"
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import jupyter_track as mlflow\n"
                "with mlflow.start_run(run_name='child'): mlflow.log_metric('m', 1.0)\n",
            ],
            env={k: v for k, v in os.environ.items() if k != "JUPYTER_TRACK_DB"},
            capture_output=True,
            text=True,
            check=True,
        )
        assert child.returncode == 0
        names = mlflow.search_runs(output_format="list")
        assert sorted(r.info.run_name for r in names) == sorted(["child", active.info.run_name])
        assert mlflow.get_registry_uri() == mlflow.get_tracking_uri()
        mlflow.set_registry_uri(f"sqlite:///{other}")
        with pytest.raises(MlflowException, match="registry lives in the tracking store"):
            mlflow.set_registry_uri(f"sqlite:///{tmp_path / 'elsewhere.db'}")
        with pytest.raises(MlflowException, match="registry lives in the tracking store"):
            mlflow.MlflowClient(registry_uri=f"sqlite:///{tmp_path / 'elsewhere.db'}")
    finally:
        mlflow.set_tracking_uri(None)
    assert "JUPYTER_TRACK_URI" not in os.environ and "MLFLOW_TRACKING_URI" not in os.environ


def test_environment_variables_choose_experiment_and_run(tmp_path: Path) -> None:
    """``MLFLOW_EXPERIMENT_NAME``, ``MLFLOW_EXPERIMENT_ID`` and ``MLFLOW_RUN_ID``, as in
    MLflow (each in a fresh process, as a job scheduler starts them)."""
    snippet = """
    import os
    with mlflow.start_run() as run:
        mlflow.log_param("x", "1")
    exp = mlflow.get_experiment(run.info.experiment_id)
    print(json.dumps({"experiment": exp.name, "run_id": run.info.run_id}))
    """
    first = run_ours(snippet, tmp_path, MLFLOW_EXPERIMENT_NAME="from-env")
    assert first["experiment"] == "from-env"
    resume = """
    import os
    with mlflow.start_run() as run:
        mlflow.log_param("y", "2")
    print(json.dumps({
        "run_id": run.info.run_id,
        "params": mlflow.get_run(run.info.run_id).data.params,
        "env_left": "MLFLOW_RUN_ID" in os.environ,
    }))
    """
    again = run_ours(resume, tmp_path, MLFLOW_RUN_ID=first["run_id"])
    assert again == {"run_id": first["run_id"], "params": {"x": "1", "y": "2"}, "env_left": False}
    by_id = """
    exp_id = mlflow.get_experiment_by_name("from-env").experiment_id
    with mlflow.start_run() as run:
        pass
    print(json.dumps([run.info.experiment_id == exp_id]))
    """
    experiment_id = run_ours(
        """
        print(json.dumps(mlflow.get_experiment_by_name("from-env").experiment_id))
        """,
        tmp_path,
    )
    assert run_ours(by_id, tmp_path, MLFLOW_EXPERIMENT_ID=experiment_id) == [True]
    with pytest.raises(AssertionError, match="MLFLOW_EXPERIMENT_ID '424242'"):
        run_ours("mlflow.start_run()\nprint('[]')", tmp_path, MLFLOW_EXPERIMENT_ID="424242")


def test_active_run_is_per_thread() -> None:
    """A thread's ``start_run`` never ends another thread's run; each thread logs to its own."""
    started = threading.Barrier(3)
    ids: dict[str, str] = {}

    def worker(name: str) -> None:
        with mlflow.start_run(run_name=name) as run:
            ids[name] = run.info.run_id
            started.wait(timeout=30)
            mlflow.log_metric("who", float(len(name)))
            assert mlflow.active_run().info.run_id == run.info.run_id
            started.wait(timeout=30)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "bbb")]
    for t in threads:
        t.start()
    started.wait(timeout=30)
    assert mlflow.active_run() is None  # the main thread has none of its own
    assert session.current().active_run_ids() == set(ids.values())
    started.wait(timeout=30)
    for t in threads:
        t.join()
    assert {n: mlflow.get_run(i).data.metrics["who"] for n, i in ids.items()} == {
        "a": 1.0,
        "bbb": 3.0,
    }
    assert {mlflow.get_run(i).info.status for i in ids.values()} == {"FINISHED"}


# ------------------------------------------------------------------- MLflow's system tags

TAGS_SNIPPET = """
mlflow.set_experiment("tags")
with mlflow.start_run(run_name="parent", description="a note") as parent:
    with mlflow.start_run(run_name="child", nested=True) as child:
        pass
df = mlflow.search_runs(order_by=["attributes.run_name ASC"])
child_tags = mlflow.get_run(child.info.run_id).data.tags
parent_tags = mlflow.get_run(parent.info.run_id).data.tags
print(json.dumps({
    "run_names": list(df["tags.mlflow.runName"]),
    "parent_column": [None if pd_isna(v) else v == parent.info.run_id
                      for v in df["tags.mlflow.parentRunId"]],
    "child_mlflow_tags": sorted(k for k in child_tags if k.startswith("mlflow.")),
    "parent_mlflow_tags": sorted(k for k in parent_tags if k.startswith("mlflow.")),
    "note": parent_tags["mlflow.note.content"],
    "source_type": parent_tags["mlflow.source.type"],
    "source_name": parent_tags["mlflow.source.name"].endswith(".py"),
    "parent": mlflow.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id,
    "no_parent": mlflow.get_parent_run(parent.info.run_id),
    "client_parent": mlflow.MlflowClient().get_parent_run(child.info.run_id).info.run_name,
}))
"""


def test_system_tags_are_mlflows(tmp_path: Path) -> None:
    snippet = "import pandas\npd_isna = pandas.isna\n" + TAGS_SNIPPET
    ours, theirs = run_both(snippet, tmp_path)
    assert ours == theirs
    assert ours["run_names"] == ["child", "parent"]
    assert "mlflow.runName" in ours["parent_mlflow_tags"]


# ----------------------------------------------------------------------- calls and answers

CALLS_SNIPPET = """
import os
from {m}.entities import ViewType
from {m}.exceptions import MlflowException
out = {}
client = mlflow.MlflowClient()
for name in ("alpha", "beta", "gamma"):
    client.create_experiment(name, tags={"team": "ml" if name != "beta" else "ops"})
mlflow.set_experiment("alpha")
mlflow.set_experiment_tags({"a": "1", "b": "2"})
mlflow.delete_experiment_tag("a")
out["exp_tags"] = sorted(k for k in mlflow.get_experiment_by_name("alpha").tags if k in "ab")
out["search"] = [e.name for e in mlflow.search_experiments(
    filter_string="tags.team = 'ml'", order_by=["name DESC"])]
out["search_like"] = [e.name for e in mlflow.search_experiments(
    filter_string="name LIKE '%a'", order_by=["name ASC"], max_results=5)]
out["max_results"] = len(mlflow.search_experiments(max_results=2))
page = client.search_experiments(max_results=2, order_by=["name ASC"])
out["client_page"] = [[e.name for e in page], page.token is not None]
beta = client.get_experiment_by_name("beta")
client.rename_experiment(beta.experiment_id, "beta2")
client.delete_experiment_tag(beta.experiment_id, "team")
out["renamed"] = [client.get_experiment(beta.experiment_id).name,
                  client.get_experiment(beta.experiment_id).tags]
out["unknown_experiment"] = len(mlflow.search_runs(experiment_names=["nope"]))

with mlflow.start_run() as run:
    ops = mlflow.log_metric("m", 1.0, synchronous=False)
    ops.wait()
    mlflow.log_param("p", "1", synchronous=False).wait()
    mlflow.set_tag("t", "1", synchronous=False).wait()
    mlflow.log_metrics({"a": 1.0}, synchronous=False).wait()
    os.makedirs("plots/sub")
    open("plots/a.txt", "w").write("a")
    open("plots/sub/b.txt", "w").write("b")
    mlflow.log_artifact("plots")
    mlflow.log_artifact("plots", artifact_path="out")
    mlflow.log_table({"q": ["x", "y"], "score": [0.5, 1.0]}, "eval/table.json")
    mlflow.log_table(pd.DataFrame({"q": ["z"], "score": [0.25]}), "eval/table.json")
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    for step in (0, 1):
        mlflow.log_image(image, key="samples/x", step=step)
    mlflow.log_image(image, artifact_file="single.png")
run_id = run.info.run_id
stored = mlflow.get_run(run_id)
out["ops"] = [stored.data.metrics, stored.data.params, stored.data.tags["t"]]
def files(path=None):
    found = []
    for f in client.list_artifacts(run_id, path):
        found += files(f.path) if f.is_dir else [f.path]
    return found
every = files()
out["folders"] = sorted(f for f in every if f.startswith(("plots", "out")))
out["images"] = sorted(
    f.split("+")[0] + "+" + "+".join(f.split("+")[1:3]) for f in every
    if f.startswith("images/") and f.endswith(".png")
)
out["single"] = "single.png" in every
out["image_tag"] = stored.data.tags.get("mlflow.loggedImages")
out["table_tag"] = stored.data.tags["mlflow.loggedArtifacts"]
table = mlflow.load_table("eval/table.json", extra_columns=["run_id"])
out["table"] = [list(table["q"]), list(table["score"]), set(table["run_id"]) == {run_id}]
out["client_table"] = len(client.load_table(run.info.experiment_id, "eval/table.json"))
try:
    mlflow.load_table("missing.json")
except MlflowException as e:
    out["no_table"] = e.error_code

mlflow.delete_run(run_id)
try:
    mlflow.start_run(run_id=run_id)
    out["deleted_start"] = None
except MlflowException as e:
    out["deleted_start"] = e.error_code
mlflow.restore_run(run_id)
with mlflow.start_run(run_id=run_id, description="resumed note"):
    pass
out["description"] = mlflow.get_run(run_id).data.tags["mlflow.note.content"]

client.create_registered_model("reg")
mv = client.create_model_version("reg", "s3://bucket/some/model", run_id=None)
out["any_source"] = [mv.version, type(mv.version).__name__, mv.source,
                     client.get_model_version_download_uri("reg", mv.version)]
copy = client.copy_model_version("models:/reg/1", "reg-copy")
out["copy"] = [copy.name, copy.version, copy.source, type(copy.version).__name__]
client.rename_registered_model("reg-copy", "reg-renamed")
out["renamed_model"] = [client.get_registered_model("reg-renamed").name,
                        [v.version for v in client.search_model_versions("name = 'reg-renamed'")]]
client.set_registered_model_alias("reg", "champion", 1)
out["alias"] = [dict(client.get_registered_model("reg").aliases),
                type(client.get_model_version_by_alias("reg", "champion").version).__name__]
print(json.dumps(out, default=str))
"""


def test_mlflow_calls_answer_as_mlflow(tmp_path: Path) -> None:
    snippet = "import numpy as np\nimport pandas as pd\n" + CALLS_SNIPPET
    ours, theirs = run_both(snippet, tmp_path)
    assert ours == theirs
    assert ours["deleted_start"] == "INTERNAL_ERROR"  # MLflow's code for it
    assert ours["folders"] == [
        "out/plots/a.txt",
        "out/plots/sub/b.txt",
        "plots/a.txt",
        "plots/sub/b.txt",
    ]
    assert ours["images"] == ["images/samples~x+step+0", "images/samples~x+step+1"]
    assert ours["table"][:2] == [["x", "y", "z"], [0.5, 1.0, 0.25]]


def test_bad_calls_are_refused_naming_the_field() -> None:
    with mlflow.start_run():
        with pytest.raises(MlflowException, match=r"artifact_file 'x\.csv'"):
            mlflow.log_table({"a": [1]}, "x.csv")
        with pytest.raises(MlflowException, match="data: must be a pandas DataFrame or a dict"):
            mlflow.log_table([1, 2], "x.json")
        with pytest.raises(MlflowException, match=r"key 'bad\|key'"):
            mlflow.log_image(np.zeros((2, 2)), key="bad|key")
        with pytest.raises(MlflowException, match="exactly one of artifact_file, key"):
            mlflow.log_image(np.zeros((2, 2)))
        with pytest.raises(MlflowException, match=r"step 1\.5"):
            mlflow.log_image(np.zeros((2, 2)), key="k", step=1.5)  # type: ignore[arg-type]
    with pytest.raises(MlflowException, match="max_results 0"):
        mlflow.search_experiments(max_results=0)
    with pytest.raises(MlflowException, match="src_model_uri"):
        mlflow.MlflowClient().copy_model_version("runs:/abc/model", "x")


# -------------------------------------------------------------- user values (hypothesis)

FIELDS = ["name", "experiment_id", "creation_time", "last_update_time", "tags.team", "attr.name"]
OPS = ["=", "!=", "LIKE", "ILIKE", ">", "<", "IN"]


@st.composite
def filter_strings(draw: st.DrawFn) -> str:
    """Filter strings, mostly well formed (to reach the search), sometimes not."""
    if draw(st.booleans()):
        return draw(st.text(max_size=40))
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(FIELDS))
        op = draw(st.sampled_from(OPS))
        value = draw(st.one_of(st.text(max_size=8), st.integers(-5, 10**13)))
        literal = (
            f"({', '.join(repr(str(value)) for _ in range(2))})"
            if op == "IN"
            else (repr(value) if isinstance(value, str) else str(value))
        )
        terms.append(f"{field} {op} {literal}")
    return draw(st.sampled_from([" AND ", " OR "])).join(terms)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=filter_strings())
def test_search_experiments_filters_answer_or_refuse_clearly(text: str) -> None:
    """Any filter text gives experiments or ``INVALID_PARAMETER_VALUE``, never anything else;
    ``name = '<name>'`` finds exactly that experiment."""
    if not mlflow.get_experiment_by_name("hypo-a"):
        mlflow.create_experiment("hypo-a", tags={"team": "ml"})
        mlflow.create_experiment("hypo-b")
    try:
        found = mlflow.search_experiments(filter_string=text, view_type=3)
    except MlflowException as exc:
        assert exc.error_code == "INVALID_PARAMETER_VALUE", exc
        return
    assert all(hasattr(e, "experiment_id") for e in found)


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and "\x00" not in s))
def test_search_experiments_by_exact_name(name: str) -> None:
    if mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name)
    quoted = "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    found = mlflow.search_experiments(filter_string=f"name = {quoted}")
    assert [e.name for e in found] == [name]


def test_renaming_a_run_renames_its_mlflow_run_name_tag() -> None:
    """As MLflow: ``update_run(name=)`` (and the sidebar's edit) keep ``mlflow.runName`` the
    run's name, and setting the tag renames the run."""
    client = mlflow.MlflowClient()
    with mlflow.start_run(run_name="first") as active:
        pass
    run_id = active.info.run_id
    client.update_run(run_id, name="second")
    run = client.get_run(run_id)
    assert (run.info.run_name, run.data.tags["mlflow.runName"]) == ("second", "second")
    client.store.edit_run(run_id, run_name="third")
    run = client.get_run(run_id)
    assert (run.info.run_name, run.data.tags["mlflow.runName"]) == ("third", "third")
    client.set_tag(run_id, "mlflow.runName", "fourth")
    assert client.get_run(run_id).info.run_name == "fourth"
