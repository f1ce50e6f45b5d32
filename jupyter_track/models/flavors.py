"""Flavors: how each kind of model is saved, loaded and called.

* ``sklearn`` -- scikit-learn estimators and pipelines (pickled with cloudpickle when available,
  so classes defined in a notebook load in another process);
* ``xgboost`` -- ``xgboost.Booster`` and the scikit-learn API (``XGBClassifier``, ...), saved in
  XGBoost's own JSON format;
* ``pytorch`` -- ``torch.nn.Module`` (the whole module, pickled by value with cloudpickle);
* ``lightgbm`` -- ``lightgbm.Booster`` (LightGBM's text format) and the scikit-learn API
  (``LGBMClassifier``, ..., pickled);
* ``python_function`` -- MLflow's ``pyfunc.PythonModel`` subclasses, with their artifacts
  (:mod:`jupyter_track.pyfunc`);
* ``python`` -- any other object with a ``predict`` method.

XGBoost, LightGBM and PyTorch are optional: their modules are imported only when such a model
is logged or loaded, and a model is recognised as one only when its library is already
imported.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..store.errors import InvalidInput


def _pickle_module() -> tuple[Any, str]:
    try:
        import cloudpickle

        return cloudpickle, "cloudpickle"
    except ImportError:  # pragma: no cover - cloudpickle comes with scikit-learn's joblib
        return pickle, "pickle"


SERIALIZATION_FORMATS = ("cloudpickle", "pickle")
"""MLflow's ``serialization_format`` values for pickled models."""


def _dump(obj: Any, path: Path, serialization_format: str | None = None) -> str:
    if serialization_format is None or serialization_format == "cloudpickle":
        module, name = _pickle_module()
    elif serialization_format == "pickle":
        module, name = pickle, "pickle"
    else:
        raise InvalidInput(
            f"serialization_format {serialization_format!r}: must be one of "
            f"{', '.join(SERIALIZATION_FORMATS)}"
        )
    with path.open("wb") as f:
        module.dump(obj, f)
    return name


def _load(path: Path) -> Any:
    with path.open("rb") as f:
        return pickle.load(f)


def _qualname(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_object(dotted: str) -> Any:
    module_name, _, attr = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


class Flavor:
    """Base class: ``name``, the distributions it needs, save / load / predict."""

    name = ""
    libraries: tuple[str, ...] = ()
    model_file = "model.pkl"

    def matches(self, model: Any) -> bool:
        raise NotImplementedError

    def save(
        self, model: Any, folder: Path, *, serialization_format: str | None = None
    ) -> dict[str, Any]:
        """Write the model into ``folder``; return details for the manifest.

        ``serialization_format`` (MLflow's keyword) picks ``cloudpickle`` (the default) or
        ``pickle`` for flavors that pickle the model."""
        serializer = _dump(model, folder / self.model_file, serialization_format)
        return {"serialization": serializer, "class": _qualname(model)}

    def load(self, folder: Path, details: dict[str, Any]) -> Any:
        return _load(folder / self.model_file)

    def predict(
        self, model: Any, data: pd.DataFrame | np.ndarray, params: dict[str, Any] | None = None
    ) -> Any:
        return model.predict(data)

    def raw_input(self) -> bool:
        """Whether the model takes its input as given when there is no signature (MLflow's
        ``PythonModel``); otherwise inputs become a DataFrame or an array."""
        return False


def _tabular_for(model: Any, data: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
    """What a scikit-learn-style estimator wants: a DataFrame with the columns it was fitted
    with, or a plain array when it was fitted without names."""
    names = getattr(model, "feature_names_in_", None)
    if isinstance(data, pd.DataFrame):
        if names is not None:
            return data[[str(n) for n in names]]
        return data.to_numpy()
    if names is not None and data.ndim == 2 and data.shape[1] == len(names):
        return pd.DataFrame(data, columns=[str(n) for n in names])
    return data


class SklearnFlavor(Flavor):
    name = "sklearn"
    libraries = ("scikit-learn",)

    def matches(self, model: Any) -> bool:
        if "sklearn" not in sys.modules:
            return False
        from sklearn.base import BaseEstimator

        # transformers (PCA, scalers) too, as MLflow logs them; predicting needs ``predict``
        return isinstance(model, BaseEstimator)

    def predict(
        self, model: Any, data: pd.DataFrame | np.ndarray, params: dict[str, Any] | None = None
    ) -> Any:
        return model.predict(_tabular_for(model, data))


class XGBoostFlavor(Flavor):
    name = "xgboost"
    libraries = ("xgboost", "scikit-learn")
    model_file = "model.json"

    def matches(self, model: Any) -> bool:
        if "xgboost" not in sys.modules:
            return False
        import xgboost

        return isinstance(model, (xgboost.Booster, xgboost.XGBModel))

    def save(
        self, model: Any, folder: Path, *, serialization_format: str | None = None
    ) -> dict[str, Any]:
        import xgboost

        model.save_model(str(folder / self.model_file))
        api = "booster" if isinstance(model, xgboost.Booster) else "sklearn"
        return {"serialization": "xgboost-json", "api": api, "class": _qualname(model)}

    def load(self, folder: Path, details: dict[str, Any]) -> Any:
        import xgboost

        if details.get("api") == "booster":
            booster = xgboost.Booster()
            booster.load_model(str(folder / self.model_file))
            return booster
        cls = _import_object(details["class"])
        model = cls()
        model.load_model(str(folder / self.model_file))
        return model

    def predict(
        self, model: Any, data: pd.DataFrame | np.ndarray, params: dict[str, Any] | None = None
    ) -> Any:
        import xgboost

        if isinstance(model, xgboost.Booster):
            names = model.feature_names
            if isinstance(data, pd.DataFrame):
                matrix = (
                    xgboost.DMatrix(data[list(names)])
                    if names
                    else xgboost.DMatrix(data.to_numpy())
                )
            else:
                matrix = xgboost.DMatrix(data, feature_names=names)
            return model.predict(matrix)
        return model.predict(_tabular_for(model, data))


class PyTorchFlavor(Flavor):
    name = "pytorch"
    libraries = ("torch",)
    model_file = "model.pt"

    def matches(self, model: Any) -> bool:
        if "torch" not in sys.modules:
            return False
        import torch

        return isinstance(model, torch.nn.Module)

    def save(
        self, model: Any, folder: Path, *, serialization_format: str | None = None
    ) -> dict[str, Any]:
        import torch

        module, name = _pickle_module()
        if serialization_format == "pickle":
            module, name = pickle, "pickle"
        torch.save(model, folder / self.model_file, pickle_module=module)
        return {"serialization": f"torch.save+{name}", "class": _qualname(model)}

    def load(self, folder: Path, details: dict[str, Any]) -> Any:
        import torch

        model = torch.load(folder / self.model_file, weights_only=False, map_location="cpu")
        model.eval()
        return model

    def predict(
        self, model: Any, data: pd.DataFrame | np.ndarray, params: dict[str, Any] | None = None
    ) -> Any:
        import torch

        array = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        param = next(iter(model.parameters()), None)
        dtype = param.dtype if param is not None else torch.float32
        if array.dtype.kind in "fiub":
            tensor = torch.tensor(array, dtype=dtype)  # a copy: inputs may be read-only
        else:
            raise InvalidInput(f"input: a PyTorch model needs numbers, got {array.dtype} values")
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = model(tensor)
        finally:
            if was_training:
                model.train()
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.detach().cpu().numpy()


class LightGBMFlavor(Flavor):
    """LightGBM: a ``Booster`` in LightGBM's own text format, the scikit-learn API pickled (as
    MLflow's lightgbm flavor does)."""

    name = "lightgbm"
    libraries = ("lightgbm", "scikit-learn")

    def matches(self, model: Any) -> bool:
        if "lightgbm" not in sys.modules:
            return False
        import lightgbm

        return isinstance(model, (lightgbm.Booster, lightgbm.LGBMModel))

    def save(
        self, model: Any, folder: Path, *, serialization_format: str | None = None
    ) -> dict[str, Any]:
        import lightgbm

        if isinstance(model, lightgbm.Booster):
            model.save_model(str(folder / "model.lgb"))
            return {"serialization": "lightgbm-text", "api": "booster", "file": "model.lgb"}
        serializer = _dump(model, folder / self.model_file, serialization_format)
        return {"serialization": serializer, "api": "sklearn", "class": _qualname(model)}

    def load(self, folder: Path, details: dict[str, Any]) -> Any:
        import lightgbm

        if details.get("api") == "booster":
            return lightgbm.Booster(model_file=str(folder / details.get("file", "model.lgb")))
        return _load(folder / self.model_file)

    def predict(
        self, model: Any, data: pd.DataFrame | np.ndarray, params: dict[str, Any] | None = None
    ) -> Any:
        import lightgbm

        if isinstance(model, lightgbm.Booster):
            names = model.feature_name()
            if isinstance(data, pd.DataFrame) and set(names) <= set(map(str, data.columns)):
                data = data[names]
            return model.predict(data)
        return model.predict(_tabular_for(model, data))


class PythonModelFlavor(Flavor):
    """MLflow's ``pyfunc.PythonModel`` (see :mod:`jupyter_track.pyfunc`): the instance pickled
    with cloudpickle, its artifacts copied under ``artifacts/``; on load its ``load_context``
    runs with the artifacts' local paths, and ``predict(context, model_input, params)`` is
    called with the input as given when the model has no signature."""

    name = "python_function"
    model_file = "python_model.pkl"

    def matches(self, model: Any) -> bool:
        from ..pyfunc import PythonModel, _Bundle

        return isinstance(model, (PythonModel, _Bundle))

    def save(
        self, model: Any, folder: Path, *, serialization_format: str | None = None
    ) -> dict[str, Any]:
        from ..pyfunc import _Bundle

        bundle = model if isinstance(model, _Bundle) else _Bundle(model)
        return bundle.save(folder, _pickle_module()[0])

    def load(self, folder: Path, details: dict[str, Any]) -> Any:
        from ..pyfunc import _Bundle

        return _Bundle.load(folder, details)

    def predict(
        self, model: Any, data: pd.DataFrame | np.ndarray, params: dict[str, Any] | None = None
    ) -> Any:
        from ..pyfunc import _Bundle

        bundle = model if isinstance(model, _Bundle) else _Bundle(model)
        return bundle.predict(data, params)

    def raw_input(self) -> bool:
        return True


class PythonFlavor(Flavor):
    """Any object with a ``predict`` method; it receives a DataFrame (columns signature) or an
    array (tensor signature)."""

    name = "python"

    def matches(self, model: Any) -> bool:
        return callable(getattr(model, "predict", None))


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        XGBoostFlavor(),
        LightGBMFlavor(),
        PyTorchFlavor(),
        SklearnFlavor(),
        PythonModelFlavor(),
        PythonFlavor(),
    )
}


def flavor_for(model: Any, name: str | None = None) -> Flavor:
    """The flavor named ``name``, or the first one that recognises ``model``."""
    if name is not None:
        flavor = FLAVORS.get(name)
        if flavor is None:
            raise InvalidInput(f"flavor {name!r}: unknown (use one of {', '.join(FLAVORS)})")
        if not flavor.matches(model):
            raise InvalidInput(
                f"flavor {name!r}: does not fit a model of type {type(model).__name__}"
            )
        return flavor
    for flavor in FLAVORS.values():
        if flavor.matches(model):
            return flavor
    raise InvalidInput(
        f"model: cannot log an object of type {type(model).__name__}; expected a scikit-learn "
        "estimator or pipeline, an XGBoost or LightGBM model, a PyTorch nn.Module, a "
        "pyfunc.PythonModel, or any object with a predict method"
    )


def get_flavor(name: str) -> Flavor:
    flavor = FLAVORS.get(name)
    if flavor is None:
        raise InvalidInput(f"model manifest: unknown flavor {name!r}")
    return flavor


def distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def libraries_for(model: Any, flavor: Flavor) -> dict[str, str]:
    """Distribution -> version for what loading the model needs, from this environment."""
    names = ["numpy", "pandas", *flavor.libraries]
    _, serializer = _pickle_module()
    if serializer == "cloudpickle":
        names.append("cloudpickle")
    top = type(model).__module__.split(".")[0]
    if top not in ("__main__", "builtins") and flavor.name == "python":
        for dist in importlib.metadata.packages_distributions().get(top, []):
            names.append(dist)
    versions = {}
    for name in names:
        version = distribution_version(name)
        if version is not None:
            versions[name] = version
    return versions
