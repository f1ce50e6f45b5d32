"""MLflow's flavor modules under jupyter_track: jt.sklearn / xgboost / lightgbm / pytorch /
pyfunc / models with MLflow's keywords and return types, on real libraries and tiny data."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import jupyter_track as jt
from jupyter_track.models.model import _requirement_lines
from jupyter_track.pyfunc import _local_artifacts
from jupyter_track.store import InvalidInput


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def test_sklearn_log_model_with_mlflow_keywords(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    with jt.start_run() as run:
        info = jt.sklearn.log_model(
            sk_model=model,
            name="iris_model",
            input_example=X.head(3),
            registered_model_name="iris-clf",
            metadata={"team": "risk"},
        )
    assert info.model_uri == f"runs:/{run.info.run_id}/iris_model"
    assert info.registered_model_version == 1
    assert set(info.flavors) == {"sklearn", "python_function"}
    assert info.flavors["sklearn"]["serialization"] == "cloudpickle"
    assert info.metadata == {"team": "risk"}
    assert info.signature is not None and info.signature.inputs.input_names() == list(X.columns)
    # mlflow.sklearn.load_model: the estimator itself
    native = jt.sklearn.load_model(info.model_uri)
    assert type(native) is type(model)
    np.testing.assert_array_equal(native.predict(X), model.predict(X))
    np.testing.assert_array_equal(native.predict_proba(X), model.predict_proba(X))
    # by the registry's name, too
    from_registry = jt.sklearn.load_model("models:/iris-clf/1")
    np.testing.assert_array_equal(from_registry.predict(X), model.predict(X))
    # mlflow.pyfunc.load_model: the predict wrapper
    wrapper = jt.pyfunc.load_model(info.model_uri)
    assert isinstance(wrapper, jt.pyfunc.PyFuncModel)
    np.testing.assert_array_equal(wrapper.predict(X.head(7)), model.predict(X.head(7)))
    assert wrapper.metadata.signature == info.signature
    assert wrapper.metadata.get_input_schema().input_names() == list(X.columns)
    assert wrapper.metadata["flavor"] == "sklearn"  # the manifest, as before
    assert wrapper.metadata.run_id == run.info.run_id
    assert wrapper.metadata.artifact_path == "iris_model"


def test_artifact_path_is_mlflow2s_name(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    with jt.start_run():
        info = jt.sklearn.log_model(model, artifact_path="old_style")
        assert info.artifact_path == "old_style"
        with pytest.raises(InvalidInput, match="name 'a' and artifact_path 'b'"):
            jt.sklearn.log_model(model, name="a", artifact_path="b")
        with pytest.raises(InvalidInput, match="unsupported keyword"):
            jt.sklearn.log_model(model, name="c", no_such_option=1)


def test_serialization_format_and_requirements(
    iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, y = iris
    model = LinearRegression().fit(X, y)
    extra = tmp_path / "extra.txt"
    extra.write_text("# comment\nrequests>=2\n")
    with jt.start_run():
        pickled = jt.sklearn.log_model(
            model,
            name="pickled",
            serialization_format="pickle",
            extra_pip_requirements=str(extra),
        )
        pinned = jt.sklearn.log_model(model, name="pinned", pip_requirements=["scikit-learn"])
        conda = jt.sklearn.log_model(
            model,
            name="conda",
            conda_env={"name": "env", "dependencies": ["python=3.11", {"pip": ["numpy<3"]}]},
        )
        with pytest.raises(InvalidInput, match="serialization_format 'skops'"):
            jt.sklearn.log_model(model, name="bad", serialization_format="skops")
        with pytest.raises(InvalidInput, match="pip_requirements and conda_env"):
            jt.sklearn.log_model(model, name="both", pip_requirements=["x"], conda_env={})
    assert pickled.flavors["sklearn"]["serialization"] == "pickle"
    assert pickled.requirements[-1] == "requests>=2"
    assert any(r.startswith("scikit-learn==") for r in pickled.requirements)
    assert pinned.requirements == ["scikit-learn"]
    assert conda.requirements == ["numpy<3"]
    folder = Path(jt.pyfunc.load_model(conda.model_uri).path)
    assert "python=3.11" in (folder / "conda.yaml").read_text()
    assert (folder / "requirements.txt").read_text().split() == ["numpy<3"]
    req = jt.pyfunc.get_model_dependencies(pinned.model_uri)
    assert Path(req).read_text().split() == ["scikit-learn"]
    np.testing.assert_allclose(
        jt.sklearn.load_model(pickled.model_uri).predict(X), model.predict(X)
    )


def test_pyfunc_predict_fn_and_no_signature(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    with jt.start_run():
        info = jt.sklearn.log_model(
            model, name="proba", pyfunc_predict_fn="predict_proba", input_example=X.head(2)
        )
        nosig = jt.sklearn.log_model(model, name="nosig", input_example=X.head(2), signature=False)
    proba = jt.pyfunc.load_model(info.model_uri).predict(X.head(4))
    np.testing.assert_allclose(proba, model.predict_proba(X.head(4)))
    assert info.signature.outputs.shape == (-1, 3)
    assert nosig.signature is None
    assert jt.pyfunc.load_model(nosig.model_uri).metadata.saved_input_example_info == {
        "artifact_path": "input_example.json",
        "type": "json",
    }


def test_save_model_and_load_from_path(
    iris: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    path = tmp_path / "saved"
    jt.sklearn.save_model(model, path=str(path), input_example=X.head(2))
    assert (path / "manifest.json").is_file()
    np.testing.assert_array_equal(jt.sklearn.load_model(str(path)).predict(X), model.predict(X))
    np.testing.assert_array_equal(jt.pyfunc.load_model(str(path)).predict(X), model.predict(X))
    described = jt.models.Model.load(str(path))
    assert set(described.flavors) == {"sklearn", "python_function"}
    pd.testing.assert_frame_equal(described.load_input_example(), X.head(2).reset_index(drop=True))
    with pytest.raises(InvalidInput, match="not empty"):
        jt.sklearn.save_model(model, path=str(path))
    # another flavor's loader refuses it, naming the flavor
    with pytest.raises(InvalidInput, match="saved with the 'sklearn' flavor, not 'pytorch'"):
        jt.pytorch.load_model(str(path))


def test_models_module_names(iris: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    signature = jt.models.infer_signature(X, model.predict(X))
    assert isinstance(signature, jt.models.ModelSignature)
    with jt.start_run():
        info = jt.sklearn.log_model(model, name="m", signature=signature)
    described = jt.models.Model.load(info.model_uri)
    assert described.signature == signature
    assert described.model_uuid == info.model_uuid
    assert described.to_dict()["flavors"]["sklearn"]["sklearn_version"]


def test_xgboost_keywords() -> None:
    xgboost = pytest.importorskip("xgboost")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
    booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix(X, y), 3)
    with jt.start_run():
        info = jt.xgboost.log_model(xgb_model=clf, name="xgb", input_example=X.head(2))
        binfo = jt.xgboost.log_model(booster, artifact_path="booster", model_format="json")
    loaded = jt.xgboost.load_model(info.model_uri)
    assert isinstance(loaded, xgboost.XGBClassifier)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert isinstance(jt.xgboost.load_model(binfo.model_uri), xgboost.Booster)
    np.testing.assert_array_equal(jt.pyfunc.load_model(info.model_uri).predict(X), clf.predict(X))


def test_lightgbm_booster_and_sklearn_api() -> None:
    lightgbm = pytest.importorskip("lightgbm")
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = [c.replace(" ", "_").strip("()") for c in X.columns]
    clf = lightgbm.LGBMClassifier(n_estimators=5, min_child_samples=5, verbose=-1).fit(X, y)
    booster = lightgbm.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1}, lightgbm.Dataset(X, y), 3
    )
    with jt.start_run():
        info = jt.lightgbm.log_model(lgb_model=clf, name="lgb", input_example=X.head(2))
        binfo = jt.lightgbm.log_model(booster, name="booster", input_example=X.head(2))
    assert info.flavor == binfo.flavor == "lightgbm"
    loaded = jt.lightgbm.load_model(info.model_uri)
    assert isinstance(loaded, lightgbm.LGBMClassifier)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    loaded_booster = jt.lightgbm.load_model(binfo.model_uri)
    assert isinstance(loaded_booster, lightgbm.Booster)
    np.testing.assert_allclose(loaded_booster.predict(X), booster.predict(X))
    np.testing.assert_allclose(jt.pyfunc.load_model(binfo.model_uri).predict(X), booster.predict(X))


def test_pytorch_keywords(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    import pickle

    with jt.start_run():
        info = jt.pytorch.log_model(pytorch_model=net, name="net", input_example=x)
        plain = jt.pytorch.log_model(net, name="plain", pickle_module=pickle)
    assert plain.flavors["pytorch"]["serialization"] == "torch.save+pickle"
    loaded = jt.pytorch.load_model(info.model_uri)
    assert isinstance(loaded, torch.nn.Module)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(loaded(torch.from_numpy(x)).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(jt.pyfunc.load_model(info.model_uri).predict(x), expected, rtol=1e-6)
    jt.pytorch.save_model(net, str(tmp_path / "saved"))
    assert isinstance(jt.pytorch.load_model(str(tmp_path / "saved")), torch.nn.Module)


# --------------------------------------------------------------------------------- pyfunc


class AddN(jt.pyfunc.PythonModel):
    """Reads its offset from an artifact in load_context; params scale the output."""

    def load_context(self, context: jt.pyfunc.PythonModelContext) -> None:
        self.n = float(Path(context.artifacts["offset"]).read_text())
        self.config = context.model_config

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        scale = (params or {}).get("scale", 1)
        return (model_input["x"] + self.n) * scale


def test_python_model_with_artifacts_and_params(tmp_path: Path) -> None:
    offset = tmp_path / "offset.txt"
    offset.write_text("10")
    with jt.start_run() as run:
        info = jt.pyfunc.log_model(
            name="add_n",
            python_model=AddN(),
            artifacts={"offset": str(offset)},
            model_config={"k": 1},
            input_example=pd.DataFrame({"x": [1.0, 2.0]}),
        )
    offset.write_text("99")  # the model keeps its own copy
    assert info.flavor == "python_function"
    assert list(info.flavors) == ["python_function"]
    loaded = jt.pyfunc.load_model(info.model_uri)
    frame = pd.DataFrame({"x": [1.0, 5.0]})
    assert list(loaded.predict(frame)) == [11.0, 15.0]
    assert list(loaded.predict(frame, params={"scale": 2})) == [22.0, 30.0]
    unwrapped = loaded.unwrap_python_model()
    assert isinstance(unwrapped, AddN) and unwrapped.n == 10.0 and unwrapped.config == {"k": 1}
    assert info.signature.outputs is not None  # predicted on the example with load_context run
    # the copied artifact is listed among the run's artifacts and checked by the manifest
    paths = [f.path for f in jt.TrackClient().list_artifacts(run.info.run_id, "add_n/artifacts")]
    assert paths == ["add_n/artifacts/offset"]


def test_python_model_without_context_and_raw_input() -> None:
    class Upper(jt.pyfunc.PythonModel):
        def predict(self, model_input, params=None):  # type: ignore[no-untyped-def]
            return [s.upper() for s in model_input]

    def shout(model_input):  # type: ignore[no-untyped-def]
        return [s + "!" for s in model_input]

    with jt.start_run():
        upper = jt.pyfunc.log_model(name="upper", python_model=Upper())
        fn = jt.pyfunc.log_model(name="shout", python_model=shout)
    # no signature: the input arrives as given (a list of strings), as in MLflow
    assert jt.pyfunc.load_model(upper.model_uri).predict(["a", "b"]) == ["A", "B"]
    assert jt.pyfunc.load_model(fn.model_uri).predict(["hi"]) == ["hi!"]


def test_python_model_artifacts_from_a_run_and_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "offset.txt"
    src.write_text("3")
    with jt.start_run() as first:
        jt.log_artifact(str(src), "inputs")
    with jt.start_run():
        info = jt.pyfunc.log_model(
            name="from_run",
            python_model=AddN(),
            artifacts={"offset": f"runs:/{first.info.run_id}/inputs/offset.txt"},
        )
        with pytest.raises(InvalidInput, match=r"artifacts\['offset'\]: .* does not exist"):
            jt.pyfunc.log_model(
                name="missing", python_model=AddN(), artifacts={"offset": str(tmp_path / "no")}
            )
        with pytest.raises(InvalidInput, match="python_model: expected a PythonModel"):
            jt.pyfunc.log_model(name="bad", python_model=42)
    out = jt.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"x": [1.0]}))
    assert list(out) == [4.0]


def test_python_model_saved_and_loaded_in_another_process(tmp_path: Path) -> None:
    # a class defined in __main__ is saved by value: a fresh process loads and calls it
    weights = tmp_path / "w.txt"
    weights.write_text("2.5")
    target = tmp_path / "model"
    script = textwrap.dedent(
        f"""
        import jupyter_track as mlflow
        from pathlib import Path

        class Scale(mlflow.pyfunc.PythonModel):
            def load_context(self, context):
                self.w = float(Path(context.artifacts["w"]).read_text())

            def predict(self, context, model_input, params=None):
                return [v * self.w for v in model_input]

        mlflow.pyfunc.save_model(
            path={str(target)!r}, python_model=Scale(), artifacts={{"w": {str(weights)!r}}}
        )
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    weights.unlink()
    loader = (
        f"import jupyter_track as jt; m = jt.pyfunc.load_model({str(target)!r}); "
        "print(m.predict([1, 2]), type(m.unwrap_python_model()).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", loader], check=True, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.split("\n")[0] == "[2.5, 5.0] Scale"


def test_flavor_modules_do_not_import_frameworks() -> None:
    code = (
        "import sys, jupyter_track as jt; jt.sklearn; jt.pytorch; jt.xgboost; jt.pyfunc; "
        "print(sorted(m for m in ('sklearn', 'torch', 'xgboost', 'lightgbm') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.one_of(st.text(max_size=30), st.integers(), st.none()))
def test_artifact_names_are_plain_names_or_refused(name: object, tmp_path: Path) -> None:
    source = tmp_path / "weights.txt"
    source.write_text("1")
    try:
        local = _local_artifacts({name: str(source)})  # type: ignore[dict-item]
    except InvalidInput as exc:
        assert "artifacts: name" in str(exc)
        return
    # accepted: usable as a folder name inside the model
    assert isinstance(name, str) and "/" not in name and name.strip(".")
    assert local == {name: str(source)}
    (tmp_path / "model" / "artifacts" / name).mkdir(parents=True)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.lists(st.text(max_size=15), max_size=4), st.integers(), st.none()))
def test_requirements_are_lists_of_lines_or_refused(value: object) -> None:
    try:
        lines = _requirement_lines(value, "pip_requirements")
    except InvalidInput as exc:
        assert str(exc).startswith("pip_requirements")
        return
    assert all(line and "\n" not in line and line == line.strip() for line in lines)


def test_flavor_models_are_served(tmp_path: Path) -> None:
    # a PythonModel with an artifact, registered through jt.pyfunc, answers over HTTP
    import httpx

    from jupyter_track.models.serving import serve_in_thread

    offset = tmp_path / "offset.txt"
    offset.write_text("100")
    with jt.start_run():
        jt.pyfunc.log_model(
            name="add_n",
            python_model=AddN(),
            artifacts={"offset": str(offset)},
            input_example=pd.DataFrame({"x": [1.0, 2.0]}),
            registered_model_name="adder",
        )
    handle = serve_in_thread("models:/adder/1")
    try:
        with httpx.Client(base_url=handle.url) as client:
            answer = client.post("/invocations", json={"dataframe_records": [{"x": 1.5}]})
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"] == [101.5]
            bad = client.post("/invocations", json={"dataframe_records": [{"y": 1.5}]})
            assert bad.status_code == 400 and "x" in bad.text
    finally:
        handle.stop()
