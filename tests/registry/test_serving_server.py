"""The model server for real: uvicorn on a loopback port, httpx clients, aliases moved live."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import jupyter_track as jt
from jupyter_track.models.serving import ServingThread, serve_in_thread
from jupyter_track.store import InvalidInput, NotFound

# Rows on which version 1 (logistic regression) and version 2 (a depth-1 tree) disagree, so a
# prediction tells which version really answered.
X_ALL, Y_ALL = load_iris(return_X_y=True, as_frame=True)


@pytest.fixture
def registry() -> dict[str, object]:
    v1 = LogisticRegression(max_iter=500).fit(X_ALL, Y_ALL)
    v2 = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X_ALL, Y_ALL)
    for model in (v1, v2):
        with jt.start_run():
            jt.log_model(model, "model", input_example=X_ALL.head(2), registered_model_name="iris")
    jt.set_registered_model_alias("iris", "champion", 1)
    jt.set_registered_model_alias("iris", "challenger", 2)
    differ = X_ALL[v1.predict(X_ALL) != v2.predict(X_ALL)].head(3)
    assert len(differ) == 3
    return {
        "v1": v1,
        "v2": v2,
        "rows": differ,
        "records": differ.to_dict(orient="records"),
        "expected": {1: v1.predict(differ).tolist(), 2: v2.predict(differ).tolist()},
    }


@pytest.fixture
def server(registry: dict[str, object]) -> Iterator[ServingThread]:
    handle = serve_in_thread("models:/iris@champion", refresh_interval=0.05, metrics_interval=0.2)
    try:
        yield handle
    finally:
        handle.stop()


def test_health_and_every_payload_shape(server: ServingThread, registry: dict[str, object]) -> None:
    rows: pd.DataFrame = registry["rows"]  # type: ignore[assignment]
    expected = registry["expected"][1]  # type: ignore[index]
    with httpx.Client(base_url=server.url) as client:
        health = client.get("/health").json()
        assert health["status"] == "ok"
        assert health["serving"] == {"champion": 1}
        assert client.get("/ping").status_code == 200
        bodies = [
            rows.to_dict(orient="records"),
            {"dataframe_records": rows.to_dict(orient="records")},
            {"columns": rows.to_dict(orient="list")},
            {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}},
            {"inputs": rows.to_numpy().tolist()},
        ]
        for body in bodies:
            response = client.post("/invocations", json=body)
            assert response.status_code == 200, response.text
            payload = response.json()
            assert payload == {
                "predictions": expected,
                "model": "iris",
                "alias": "champion",
                "version": 1,
            }
            assert response.headers["X-Model-Version"] == "1"
            assert response.headers["X-Model-Alias"] == "champion"
            assert response.headers["X-Model-Name"] == "iris"


def test_bad_requests_are_400_with_the_message(server: ServingThread) -> None:
    with httpx.Client(base_url=server.url) as client:
        missing = client.post("/invocations", json=[{"sepal length (cm)": 5.0}])
        assert missing.status_code == 400
        assert "missing column 'sepal width (cm)'" in missing.json()["message"]
        assert missing.headers["X-Model-Version"] == "1"
        row = X_ALL.head(1).to_dict(orient="records")[0]
        row["petal width (cm)"] = "wide"
        wrong_type = client.post("/invocations", json=[row])
        assert wrong_type.status_code == 400
        assert "column 'petal width (cm)': expected double" in wrong_type.json()["message"]
        not_json = client.post("/invocations", content=b"{oops")
        assert not_json.status_code == 400
        assert "not valid JSON" in not_json.json()["message"]
        odd = client.post("/invocations", json={"rows": []})
        assert odd.status_code == 400
        assert "dataframe_records" in odd.json()["message"]
        assert client.get("/invocations").status_code == 405
    server.stop()
    metrics = jt.get_run(server.state.run_id).data.metrics  # type: ignore[arg-type]
    assert metrics["v1.requests"] == 4
    assert metrics["v1.errors"] == 4


def test_alias_moves_while_requests_flow(
    server: ServingThread, registry: dict[str, object]
) -> None:
    records = registry["records"]
    expected = registry["expected"]
    results: list[tuple[int, int | None, list[int] | None]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def fire() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                try:
                    r = client.post("/invocations", json=records)
                    body = r.json()
                    item = (r.status_code, body.get("version"), body.get("predictions"))
                except Exception as exc:  # a connection error is a failed request too
                    item = (-1, None, [repr(exc)])  # type: ignore[list-item]
                with lock:
                    results.append(item)

    def wait_for_version(version: int) -> None:
        # bounded by a number of responses, not by time: the server re-reads aliases every
        # 0.05 s, so thousands of answers without the switch mean it never came
        with lock:
            start = len(results)
        while True:
            with lock:
                recent = results[start:]
            if any(v == version for _, v, _ in recent):
                return
            assert len(recent) < 20_000, f"still no answer from version {version}"
            assert all(t.is_alive() for t in threads)
            stop.wait(0.01)

    threads = [threading.Thread(target=fire, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        wait_for_version(1)
        jt.set_registered_model_alias("iris", "champion", 2)  # promote
        wait_for_version(2)
        jt.rollback_alias("iris", "champion")  # roll back
        wait_for_version(1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert results
    failures = [r for r in results if r[0] != 200]
    assert failures == []
    versions = [v for _, v, _ in results]
    # 1 ... 2 ... 1: the switch happened both ways, and no request was answered by a version
    # other than the one it names
    first_two = versions.index(2)
    assert 1 in versions[:first_two]
    assert 1 in versions[first_two:]  # the rollback came back to version 1
    for _, version, predictions in results:
        assert predictions == expected[version]  # type: ignore[index]
    assert server.state.current == {"champion": 1}


def test_weighted_route_is_deterministic_per_key(registry: dict[str, object]) -> None:
    records = registry["records"]
    with (
        serve_in_thread(
            "models:/iris@champion", route={"champion": 90, "challenger": 10}
        ) as handle,
        httpx.Client(base_url=handle.url) as client,
    ):
        by_key: dict[str, set[int]] = {}
        for i in range(300):
            key = f"user-{i % 150}"
            r = client.post("/invocations", json=records, headers={"X-Request-Key": key})
            assert r.status_code == 200
            by_key.setdefault(key, set()).add(r.json()["version"])
            assert r.json()["predictions"] == registry["expected"][r.json()["version"]]  # type: ignore[index]
        assert all(len(v) == 1 for v in by_key.values())  # same key, same version
        to_challenger = sum(1 for v in by_key.values() if v == {2})
        assert 5 <= to_challenger <= 30  # about 10% of 150 keys
        query = client.post("/invocations?key=user-7", json=records).json()["version"]
        assert {query} == by_key["user-7"]
        unkeyed = {client.post("/invocations", json=records).json()["version"] for _ in range(80)}
        assert unkeyed == {1, 2}


def test_shadow_scores_without_answering(registry: dict[str, object]) -> None:
    records = registry["records"]
    handle = serve_in_thread("models:/iris@champion", shadow="challenger", metrics_interval=0.1)
    try:
        with httpx.Client(base_url=handle.url) as client:
            for _ in range(20):
                r = client.post("/invocations", json=records)
                assert r.json()["version"] == 1
                assert r.json()["predictions"] == registry["expected"][1]  # type: ignore[index]
                assert r.headers["X-Shadow-Version"] == "2"
    finally:
        handle.stop()
    run = jt.get_run(handle.state.run_id)  # type: ignore[arg-type]
    metrics = run.data.metrics
    assert metrics["v1.requests"] == 20
    assert metrics["shadow.v2.requests"] == 20
    assert metrics["shadow.v2.errors"] == 0
    assert metrics["shadow.v2.agreement"] == 0.0  # the rows were picked to disagree
    assert metrics["v1.latency_ms_p95"] >= metrics["v1.latency_ms_p50"] > 0
    assert run.info.status == "FINISHED"
    assert run.data.tags["jupyter_track.serving.shadow"] == "challenger"
    assert jt.get_experiment(run.info.experiment_id).name == "jupyter-track serving"
    history = jt.get_metric_history(run.info.run_id, "v1.requests")
    assert [m.value for m in history][-1] == 20


def test_serving_a_run_uri_and_start_errors(registry: dict[str, object]) -> None:
    version = jt.get_model_version("iris", 2)
    with (
        serve_in_thread(version.source) as handle,
        httpx.Client(base_url=handle.url) as client,
    ):
        r = client.post("/invocations", json=registry["records"])
        assert r.json()["predictions"] == registry["expected"][2]  # type: ignore[index]
        assert r.json()["version"] is None
    with pytest.raises(InvalidInput, match="--route and --shadow need a registered model"):
        serve_in_thread(version.source, shadow="challenger")
    with pytest.raises(NotFound, match="has no alias 'canary'"):
        serve_in_thread("models:/iris@canary")
    with pytest.raises(InvalidInput, match="does not include the served alias"):
        serve_in_thread("models:/iris@champion", route={"challenger": 1})
    with (
        serve_in_thread("models:/iris/latest", refresh_interval=0.05) as handle,
        httpx.Client(base_url=handle.url) as client,
    ):
        assert client.post("/invocations", json=registry["records"]).json()["version"] == 2


def test_predictions_are_json_numbers(registry: dict[str, object]) -> None:
    # regression output (floats, NaN-free) goes out as plain JSON numbers
    from sklearn.linear_model import LinearRegression

    X = X_ALL.iloc[:, :3]
    y = X_ALL.iloc[:, 3]
    with jt.start_run():
        jt.log_model(
            LinearRegression().fit(X, y), "reg", input_example=X.head(2), registered_model_name="w"
        )
    jt.set_registered_model_alias("w", "champion", 1)
    with (
        serve_in_thread("models:/w@champion") as handle,
        httpx.Client(base_url=handle.url) as client,
    ):
        preds = client.post("/invocations", json=X.head(4).to_dict(orient="records")).json()
    np.testing.assert_allclose(
        preds["predictions"], LinearRegression().fit(X, y).predict(X.head(4))
    )
