"""log_model / load_model for every flavor: real models trained on scikit-learn's datasets."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import jupyter_track as jt
from jupyter_track.models.signature import SignatureError
from jupyter_track.store import Conflict, InvalidInput, NotFound


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _three_forms(X: pd.DataFrame) -> list[object]:
    return [X, X.to_numpy(), X.to_dict(orient="records")]


def test_sklearn_pipeline_roundtrip_with_manifest(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with jt.start_run() as run:
        info = jt.log_model(model, "model", input_example=X.head(5))
    assert info.model_uri == f"runs:/{run.info.run_id}/model"
    assert info.flavor == "sklearn"
    loaded = jt.load_model(info.model_uri)
    expected = model.predict(X.head(20))
    for form in _three_forms(X.head(20)):
        np.testing.assert_array_equal(loaded.predict(form), expected)
    manifest = loaded.metadata
    assert manifest["flavor"] == "sklearn"
    assert manifest["python_version"] == platform.python_version()
    import sklearn

    assert manifest["library_versions"]["scikit-learn"] == sklearn.__version__
    assert f"scikit-learn=={sklearn.__version__}" in manifest["requirements"]
    assert f"numpy=={np.__version__}" in manifest["requirements"]
    req_file = Path(loaded.path) / "requirements.txt"
    assert req_file.read_text().split() == manifest["requirements"]
    sig = manifest["signature"]
    assert sig["inputs"]["type"] == "columns"
    assert [c["name"] for c in sig["inputs"]["columns"]] == list(X.columns)
    assert {c["type"] for c in sig["inputs"]["columns"]} == {"double"}
    assert sig["outputs"] == {"type": "tensor", "dtype": "int64", "shape": [-1]}
    pd.testing.assert_frame_equal(loaded.input_example, X.head(5).reset_index(drop=True))
    assert "model/manifest.json" in [
        f.path for f in jt.TrackClient().list_artifacts(run.info.run_id, "model")
    ]


def test_sklearn_estimator_fitted_on_numpy(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    with jt.start_run():
        info = jt.log_model(model, "reg", input_example=X[:3])
    loaded = jt.load_model(info.model_uri)
    assert loaded.signature is not None
    assert loaded.signature.inputs.kind == "tensor"
    assert loaded.signature.inputs.shape == (-1, 10)
    frame = pd.DataFrame(X[:7], columns=[f"c{i}" for i in range(10)])
    for form in (X[:7], frame, frame.to_dict(orient="records")):
        np.testing.assert_allclose(loaded.predict(form), model.predict(X[:7]))
    with pytest.raises(SignatureError, match=r"expected an array of shape \[-1, 10\]"):
        loaded.predict(X[:3, :4])


def test_sklearn_pipeline_with_string_columns() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["paris", "lyon", "nice"], 200),
            "age": rng.integers(18, 80, 200),
            "income": rng.normal(3000, 500, 200),
        }
    )
    target = (frame["income"] > 3000).astype(int)
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough"),
            ),
            ("clf", RandomForestClassifier(n_estimators=5, random_state=0)),
        ]
    ).fit(frame, target)
    with jt.start_run():
        info = jt.log_model(model, "model", input_example=frame.head(3))
    loaded = jt.load_model(info.model_uri)
    types = {c.name: c.type for c in loaded.signature.inputs.columns}
    assert types == {"city": "string", "age": "long", "income": "double"}
    np.testing.assert_array_equal(
        loaded.predict(frame.head(10).to_dict(orient="records")), model.predict(frame.head(10))
    )
    bad = frame.head(2).to_dict(orient="records")
    bad[1]["age"] = "forty"
    with pytest.raises(SignatureError, match="column 'age': expected long, got str"):
        loaded.predict(bad)
    with pytest.raises(SignatureError, match="missing column 'city'"):
        loaded.predict(frame[["age", "income"]].head(2))


def test_xgboost_booster_and_sklearn_api() -> None:
    xgboost = pytest.importorskip("xgboost")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6]
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(X, y), 5
    )
    clf = xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    with jt.start_run():
        b_info = jt.log_model(booster, "booster", input_example=X.head(3))
        c_info = jt.log_model(clf, "clf", input_example=X.head(3))
    assert (b_info.flavor, c_info.flavor) == ("xgboost", "xgboost")
    b = jt.load_model(b_info.model_uri)
    c = jt.load_model(c_info.model_uri)
    assert b.metadata["flavor_details"]["api"] == "booster"
    assert c.metadata["flavor_details"]["class"] == "xgboost.sklearn.XGBClassifier"
    assert c.metadata["library_versions"]["xgboost"] == xgboost.__version__
    expected_b = booster.predict(xgboost.DMatrix(X.head(30)))
    expected_c = clf.predict(X.head(30))
    for form in _three_forms(X.head(30)):
        np.testing.assert_allclose(b.predict(form), expected_b, rtol=1e-6)
        np.testing.assert_array_equal(c.predict(form), expected_c)
    with pytest.raises(SignatureError, match=f"missing column {X.columns[2]!r}"):
        b.predict(X.drop(columns=[X.columns[2]]).head(3))


def test_pytorch_module() -> None:
    torch = pytest.importorskip("torch")
    X, y = load_iris(return_X_y=True)
    X32 = X.astype(np.float32)

    class TinyNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layers(x)

    torch.manual_seed(0)
    net = TinyNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    inputs, targets = torch.from_numpy(X32), torch.from_numpy(y)
    for _ in range(50):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(inputs), targets)
        loss.backward()
        optimizer.step()
    net.train()  # predict must still switch to eval and back
    with jt.start_run():
        info = jt.log_model(net, "net", input_example=X32[:4])
    assert info.flavor == "pytorch"
    loaded = jt.load_model(info.model_uri)
    assert loaded.metadata["library_versions"]["torch"] == importlib.metadata.version("torch")
    assert "torch==" + importlib.metadata.version("torch") in loaded.metadata["requirements"]
    with torch.no_grad():
        expected = net(torch.from_numpy(X32[:10])).numpy()
    frame = pd.DataFrame(X32[:10], columns=list("abcd"))
    for form in (X32[:10], X[:10], frame, frame.to_dict(orient="records")):
        np.testing.assert_allclose(loaded.predict(form), expected, rtol=1e-5, atol=1e-6)
    accuracy = (loaded.predict(X32).argmax(axis=1) == y).mean()
    assert accuracy > 0.8
    assert net.training  # the caller's module was left as it was
    with pytest.raises(SignatureError, match=r"shape \[-1, 4\]"):
        loaded.predict(X32[:2, :3])


class MeanModel:
    """A plain Python model: predicts the mean of each row."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        assert isinstance(data, pd.DataFrame)
        return data.to_numpy().mean(axis=1) * self.scale


def test_generic_python_model(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, _ = iris
    with jt.start_run():
        info = jt.log_model(MeanModel(2.0), "mean", input_example=X.head(2).to_dict("records"))
    assert info.flavor == "python"
    loaded = jt.load_model(info.model_uri)
    expected = X.head(5).to_numpy().mean(axis=1) * 2.0
    for form in _three_forms(X.head(5)):
        np.testing.assert_allclose(loaded.predict(form), expected)
    assert isinstance(loaded.get_raw_model(), MeanModel)


def test_model_defined_in_a_notebook_loads_in_another_process(
    tmp_path: Path, track_db: Path
) -> None:
    # A class defined in __main__ (as in a notebook) is saved by value, so a server process
    # that never saw the notebook can load it.
    script = textwrap.dedent(
        """
        import jupyter_track as jt
        import numpy as np

        class Doubler:
            def predict(self, data):
                return np.asarray(data["x"]) * 2

        with jt.start_run():
            info = jt.log_model(Doubler(), "doubler", input_example=[{"x": 1.0}])
        print(info.model_uri)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    uri = out.stdout.strip().splitlines()[-1]
    loaded = jt.load_model(uri)
    np.testing.assert_allclose(loaded.predict([{"x": 1.5}, {"x": 4.0}]), [3.0, 8.0])


def test_log_model_bad_input(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    with pytest.raises(InvalidInput, match="cannot log an object of type str"):
        jt.log_model("not a model", "m")
    with pytest.raises(InvalidInput, match="flavor 'pytorch': does not fit"):
        jt.log_model(MeanModel(1.0), "m", flavor="pytorch")
    model = LogisticRegression(max_iter=500).fit(X, y)
    with jt.start_run() as run:
        jt.log_model(model, "model")
        with pytest.raises(Conflict, match="already has a model named 'model'"):
            jt.log_model(model, "model")
        with pytest.raises(InvalidInput, match=r"'\.\.'"):
            jt.log_model(model, "../escape")
    loaded = jt.load_model(f"runs:/{run.info.run_id}/model")
    assert loaded.signature is None  # no example, no signature: input passed as given
    np.testing.assert_array_equal(loaded.predict(X.head(3)), model.predict(X.head(3)))


def test_load_model_bad_uris(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    with jt.start_run() as run:
        jt.log_model(LogisticRegression(max_iter=500).fit(X, y), "model")
    with pytest.raises(NotFound, match=r"has no model artifact 'nope' \(it has: model\)"):
        jt.load_model(f"runs:/{run.info.run_id}/nope")
    with pytest.raises(NotFound, match="run 'deadbeef' does not exist"):
        jt.load_model("runs:/deadbeef/model")
    with pytest.raises(InvalidInput, match="expected runs:/"):
        jt.load_model("s3://bucket/model")
    with pytest.raises(NotFound, match="registered model 'ghost' does not exist"):
        jt.load_model("models:/ghost/1")
    with pytest.raises(InvalidInput, match="reserved"):
        jt.load_model("models:/ghost@latest")


def test_load_from_a_local_folder(tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    manifest = jt.save_model(model, tmp_path / "saved", input_example=X.head(2))
    assert json.loads((tmp_path / "saved" / "manifest.json").read_text()) == manifest
    loaded = jt.load_model(str(tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predict(X.head(4)), model.predict(X.head(4)))
