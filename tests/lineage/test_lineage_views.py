"""Model-version lineage (JSON, HTML, CLI, REST), the dataset view, the environment diff and
the compare views' lineage rows, reproduce through REST."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import jupyter_track as jt
from jupyter_track.cli import main as cli_main
from jupyter_track.lineage.envdiff import diff_environments
from jupyter_track.lineage.report import lineage_html
from jupyter_track.store import NotFound, SQLiteStore

API = ("jupyter-track", "api")


async def call(
    jp_fetch: Any, *path: str, expect: int = 200, method: str = "GET", body: Any = None, **kw: Any
) -> Any:
    response = await jp_fetch(
        *API,
        *path,
        method=method,
        body=None if body is None else json.dumps(body),
        raise_error=False,
        **kw,
    )
    payload = json.loads(response.body) if response.body else None
    assert response.code == expect, (response.code, payload)
    return payload


def run_with(
    store: SQLiteStore, name: str, packages: dict[str, str], inputs: dict[str, str]
) -> str:
    env_hash = f"env-{name}"
    store.put_environment(env_hash, "3.11.7", "Linux", packages)
    info = store.create_run("0", run_name=name, environment=env_hash)
    tags = {}
    for dataset, digest in inputs.items():
        tags[f"jt.input.{dataset}.digest"] = digest
        tags[f"jt.input.{dataset}.kind"] = "file"
        tags[f"jt.input.{dataset}.source"] = f"/data/{dataset}"
    if tags:
        store.set_tags(info.run_id, tags)
    store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 1)
    return info.run_id


@pytest.fixture
def two_runs(store: SQLiteStore) -> tuple[str, str]:
    a = run_with(
        store,
        "a",
        {"numpy": "1.26.4", "pandas": "2.2.0", "scipy": "1.12.0"},
        {"train": "aaa111", "labels": "lll000"},
    )
    b = run_with(
        store,
        "b",
        {"numpy": "2.0.1", "pandas": "2.2.0", "polars": "1.0.0"},
        {"train": "bbb222", "labels": "lll000"},
    )
    return a, b


# -------------------------------------------------------------------------- env diff


def test_environment_diff_of_two_runs(two_runs: tuple[str, str], capsys) -> None:
    a, b = two_runs
    diff = jt.environment_diff(a, b)
    assert diff["added"] == {"polars": "1.0.0"}
    assert diff["removed"] == {"scipy": "1.12.0"}
    assert diff["changed"] == {"numpy": ["1.26.4", "2.0.1"]}
    assert diff["unchanged"] == 1 and diff["same"] is False
    assert cli_main(["env-diff", a[:8], b[:8]]) == 0
    out = capsys.readouterr().out
    assert "+ polars==1.0.0" in out and "- scipy==1.12.0" in out
    assert "~ numpy 1.26.4 -> 2.0.1" in out
    assert "1 added, 1 removed, 1 changed, 1 unchanged" in out
    assert cli_main(["env-diff", a, "missing-run"]) == 1
    assert "run 'missing-run' does not exist" in capsys.readouterr().err


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=6), max_size=12),
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=6), max_size=12),
)
def test_environment_diff_rebuilds_b_from_a(a: dict[str, str], b: dict[str, str]) -> None:
    diff = diff_environments({"packages": a, "python": "3"}, {"packages": b, "python": "3"})
    rebuilt = {k: v for k, v in a.items() if k not in diff["removed"]}
    rebuilt.update(diff["added"])
    rebuilt.update({k: new for k, (_, new) in diff["changed"].items()})
    assert rebuilt == b
    assert diff["same"] == (a == b)
    assert diff["unchanged"] == len({k for k in a if k in b and a[k] == b[k]})


# ------------------------------------------------------------------------- datasets


def test_dataset_view_by_digest_and_name(two_runs: tuple[str, str], capsys) -> None:
    a, b = two_runs
    by_digest = jt.dataset_usage(digest="lll000")
    assert {r["run_id"] for r in by_digest["runs"]} == {a, b}
    assert by_digest["warnings"] == []
    by_name = jt.dataset_usage(name="train")
    assert by_name["digests"] == {"train": ["bbb222", "aaa111"]}  # newest run first
    assert by_name["warnings"] == ["runs read 2 different versions of the data named `train`"]
    assert jt.dataset_usage(digest="nothing")["runs"] == []
    assert cli_main(["datasets", "--name", "train"]) == 0
    out = capsys.readouterr().out
    assert "aaa111" in out and "bbb222" in out and "warning: runs read 2 different" in out
    assert cli_main(["datasets"]) == 1


@given(st.text(max_size=40), st.text(max_size=40))
@settings(max_examples=50, deadline=None)
def test_dataset_view_takes_any_text(digest: str, name: str) -> None:
    view = jt.dataset_usage(digest=digest or None, name=name or "x")
    assert isinstance(view["runs"], list)


def test_compare_shows_environment_and_different_data(two_runs: tuple[str, str]) -> None:
    widget = jt.compare(list(two_runs))
    sections = {(r["section"], r["key"]): r for r in widget.table}
    assert sections[("environment", "numpy")]["values"] == ["1.26.4", "2.0.1"]
    assert ("environment", "pandas") not in sections  # the same in both
    assert sections[("data", "train")]["differs"] is True
    assert sections[("data", "labels")]["differs"] is False
    assert widget.warnings == ["these runs trained on different data named `train`"]


async def test_rest_compare_env_diff_and_datasets(jp_fetch: Any, two_runs: tuple[str, str]) -> None:
    a, b = two_runs
    body = await call(jp_fetch, "compare", params={"run_ids": f"{a},{b}"})
    assert body["warnings"] == ["these runs trained on different data named `train`"]
    assert {r["key"] for r in body["environment"]["rows"]} == {"numpy", "scipy", "polars"}
    assert body["environment"]["summary"][1] == {
        "added": 1,
        "removed": 1,
        "changed": 1,
        "recorded": True,
    }
    diff = await call(jp_fetch, "env-diff", params={"run_a": a, "run_b": b})
    assert diff["changed"] == {"numpy": ["1.26.4", "2.0.1"]}
    missing = await call(jp_fetch, "env-diff", params={"run_a": a}, expect=400)
    assert "run_b" in missing["message"]
    unknown = await call(jp_fetch, "env-diff", params={"run_a": a, "run_b": "zz"}, expect=404)
    assert "zz" in unknown["message"]
    view = await call(jp_fetch, "datasets", params={"name": "train"})
    assert len(view["runs"]) == 2 and view["warnings"]
    await call(jp_fetch, "datasets", expect=400)
    await call(jp_fetch, "datasets", params={"digest": "x", "limit": "0"}, expect=400)


# -------------------------------------------------------------------- model lineage


@pytest.fixture
def registered(track_db: Path, tmp_path: Path) -> dict[str, Any]:
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    X, y = load_iris(return_X_y=True)
    with jt.start_run(run_name="fit <b>bold</b>") as run:
        jt.log_input(str(data), context="training", name="train")
        jt.log_param("C", 0.5)
        jt.log_metric("accuracy", 0.93)
        info = jt.log_model(LogisticRegression(C=0.5, max_iter=300).fit(X, y), "model")
    version = jt.register_model(info.model_uri, "fraud")
    jt.update_model_version("fraud", version.version, description="<script>alert(1)</script>")
    jt.set_registered_model_alias("fraud", "staging", version.version)
    jt.set_registered_model_alias("fraud", "champion", version.version)
    with jt.start_run():
        info2 = jt.log_model(LogisticRegression(C=1.0, max_iter=300).fit(X, y), "model")
    second = jt.register_model(info2.model_uri, "fraud")
    jt.set_registered_model_alias("fraud", "champion", second.version)  # moved away
    jt.flush()
    return {"run_id": run.info.run_id, "version": version.version, "data": data}


def test_model_version_lineage_json(registered: dict[str, Any]) -> None:
    payload = jt.model_version_lineage("fraud", registered["version"])
    assert payload["model"]["name"] == "fraud" and payload["model"]["aliases"] == ["staging"]
    assert payload["registered_by"]["user"]
    held = {(p["alias"], p["until"] is None) for p in payload["aliases_held"]}
    assert held == {("staging", True), ("champion", False)}
    champion = next(p for p in payload["aliases_held"] if p["alias"] == "champion")
    assert champion["ended_action"] == "set_alias"
    run = payload["run"]
    assert run["run_id"] == registered["run_id"] and run["params"] == {"C": "0.5"}
    assert run["metrics"] == {"accuracy": 0.93}
    (dataset,) = payload["datasets"]
    assert dataset["name"] == "train" and dataset["context"] == "training"
    assert dataset["source"] == str(registered["data"].absolute())
    assert payload["environment"]["packages"]["scikit-learn"]
    actions = [e["action"] for e in payload["audit"]]
    assert actions[0] == "create_model_version" and "set_alias" in actions
    with pytest.raises(NotFound):
        jt.model_version_lineage("fraud", 99)


def test_model_version_lineage_html_is_escaped_and_self_contained(
    registered: dict[str, Any], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "lineage.html"
    assert cli_main(["lineage", "models:/fraud@staging", "--format", "html", "-o", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "fit &lt;b&gt;bold&lt;/b&gt;" in page
    assert "http://" not in page and "https://" not in page  # nothing loads from elsewhere
    assert "Aliases this version held" in page and "champion" in page
    assert cli_main(["lineage", f"models:/fraud/{registered['version']}"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["version"] == registered["version"]
    assert cli_main(["lineage", "models:/fraud/42"]) == 1
    assert "42" in capsys.readouterr().err
    assert lineage_html(jt.model_version_lineage("fraud", 1)).count("<h2>") >= 6


async def test_rest_model_version_lineage(jp_fetch: Any, registered: dict[str, Any]) -> None:
    body = await call(jp_fetch, "registry", "models", "fraud", "versions", "1", "lineage")
    assert body["run"]["run_id"] == registered["run_id"]
    response = await jp_fetch(
        *API, "registry", "models", "fraud", "versions", "1", "lineage", params={"format": "html"}
    )
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert b"&lt;script&gt;" in response.body and b"<script" not in response.body
    await call(jp_fetch, "registry", "models", "fraud", "versions", "7", "lineage", expect=404)
    await call(
        jp_fetch,
        "registry",
        "models",
        "fraud",
        "versions",
        "1",
        "lineage",
        expect=400,
        params={"format": "pdf"},
    )


# ------------------------------------------------------------------- reproduce (REST)


async def test_rest_reproduce_writes_inside_the_root_folder(
    jp_fetch: Any, jp_root_dir: Path, store: SQLiteStore
) -> None:
    with jt.start_run() as run:
        jt.log_param("a", 1)
    run_id = run.info.run_id
    body = await call(jp_fetch, "runs", run_id, "reproduce", method="POST", body={}, expect=201)
    assert body["folder"] == f"reproduce-{run_id[:12]}"
    assert (jp_root_dir / body["notebook"]).is_file()
    assert any("cell lineage" in m for m in body["missing"])
    again = await call(jp_fetch, "runs", run_id, "reproduce", method="POST", body={}, expect=409)
    assert "exists" in again["message"]
    await call(
        jp_fetch, "runs", run_id, "reproduce", method="POST", body={"force": True}, expect=201
    )
    for folder in ("../escape", "/abs", "a/../../b", ""):
        if folder:
            await call(
                jp_fetch,
                "runs",
                run_id,
                "reproduce",
                method="POST",
                body={"folder": folder},
                expect=400,
            )
    await call(jp_fetch, "runs", run_id, "reproduce", method="POST", body={"nope": 1}, expect=400)
    await call(jp_fetch, "runs", "unknown1", "reproduce", method="POST", body={}, expect=404)
    lineage = await call(jp_fetch, "runs", run_id, "lineage")
    assert lineage == {"run_id": run_id, "lineage": None}
