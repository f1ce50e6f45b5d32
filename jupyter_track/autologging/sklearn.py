"""scikit-learn autologging (MLflow's ``mlflow.sklearn.autolog``).

``fit`` (and ``fit_transform`` / ``fit_predict`` where a class defines them) of every estimator
scikit-learn lists (``sklearn.utils.all_estimators``, plus ``Pipeline`` and the parameter
searches) is wrapped. The outermost call logs, as MLflow names them:

* params: ``estimator.get_params(deep=True)``; tags ``estimator_name``, ``estimator_class``;
* training metrics on the training data: ``training_score`` and, for classifiers,
  ``training_accuracy_score``, ``training_precision_score``, ``training_recall_score``,
  ``training_f1_score`` (weighted), ``training_log_loss``, ``training_roc_auc`` (when
  ``predict_proba`` exists); for regressors ``training_mean_squared_error``,
  ``training_root_mean_squared_error``, ``training_mean_absolute_error``, ``training_r2_score``;
* the fitted estimator as the model ``model`` (``log_models``), with its signature;
* for ``GridSearchCV`` / ``RandomizedSearchCV``: ``best_<param>`` params, ``best_cv_score``,
  ``cv_results.csv``, the model ``best_estimator``, and a child run for each of the
  ``max_tuning_runs`` best candidates (params and mean/std/rank scores);
* post-training metrics (``log_post_training_metrics``): a ``sklearn.metrics`` function called
  on predictions of an autologged model logs ``<metric>_<dataset variable>`` (e.g.
  ``mean_squared_error_X_test``) to the model's run, and ``model.score(X_test, y)`` logs
  ``<Estimator>_score_X_test``.
"""

from __future__ import annotations

import functools
import inspect
import io
import weakref
from numbers import Number
from typing import Any

from . import patching

NAME = "sklearn"
DEFAULTS = {"max_tuning_runs": 5, "log_post_training_metrics": True}
FIT_METHODS = ("fit", "fit_transform", "fit_predict")
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba")
METRICS = (
    "accuracy_score",
    "balanced_accuracy_score",
    "precision_score",
    "recall_score",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "roc_auc_score",
    "r2_score",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "median_absolute_error",
    "mean_absolute_percentage_error",
    "explained_variance_score",
    "max_error",
    "matthews_corrcoef",
    "silhouette_score",
)


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Log every scikit-learn ``fit`` (see the module's doc); ``disable=True`` undoes it."""
    from . import flavor_autolog

    flavor_autolog(
        NAME,
        disable,
        {
            "log_input_examples": log_input_examples,
            "log_model_signatures": log_model_signatures,
            "log_models": log_models,
            "log_datasets": log_datasets,
            "silent": silent,
            "max_tuning_runs": max_tuning_runs,
            "log_post_training_metrics": log_post_training_metrics,
            "serialization_format": serialization_format,
            "registered_model_name": registered_model_name,
            "pos_label": pos_label,
            "extra_tags": extra_tags,
        },
    )


def _option(key: str) -> Any:
    conf = patching.config(NAME) or {}
    return conf.get(key, DEFAULTS.get(key))


# ------------------------------------------------------------------------------ patching


def patch(module: Any) -> None:
    """Wrap the fit methods of every estimator class, the predict methods they define, and the
    metric functions of ``sklearn.metrics``."""
    import sklearn.metrics
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators() if _logged_class(cls)]
    classes += [Pipeline, GridSearchCV, RandomizedSearchCV]
    for cls in classes:
        for method in FIT_METHODS:
            owner = _owner(cls, method)
            if owner is not None:
                patching.patch(NAME, owner, method, functools.partial(_fit_wrapper, method))
        for method in (*PREDICT_METHODS, "score"):
            owner = _owner(cls, method)
            if owner is not None:
                maker = _score_wrapper if method == "score" else _predict_wrapper
                patching.patch(NAME, owner, method, maker)
    for metric in METRICS:
        if hasattr(sklearn.metrics, metric):
            patching.patch(
                NAME, sklearn.metrics, metric, functools.partial(_metric_wrapper, metric)
            )


EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
"""Data manipulation rather than models: not logged unless inside a ``Pipeline`` (as MLflow)."""
EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)


def _logged_class(cls: type) -> bool:
    name = f"{cls.__module__}.{cls.__qualname__}"
    return not cls.__module__.startswith(EXCLUDED_MODULES) and name not in EXCLUDED_CLASSES


def _owner(cls: type, method: str) -> type | None:
    """The class of ``cls``'s MRO that defines ``method`` as a plain function (descriptors such
    as ``available_if`` are left alone), or None."""
    for klass in cls.__mro__:
        if method in klass.__dict__:
            value = klass.__dict__[method]
            if inspect.isfunction(value) or hasattr(value, "__jt_autolog_original__"):
                return klass
            return None
    return None


def _fit_wrapper(method: str, original: Any) -> Any:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with patching.outermost(NAME) as first:
            if not first or not patching.is_enabled(NAME) or not _logged_class(type(self)):
                # a nested fit, or a method inherited by a class that is not logged (a scaler's
                # fit_transform from TransformerMixin)
                return original(self, *args, **kwargs)
            with patching.managed_run(NAME) as target:
                patching.safely(NAME, "log params", _log_params, target.run_id, self)
                result = original(self, *args, **kwargs)
                X, y, weight = _fit_data(original, self, args, kwargs)
                patching.safely(
                    NAME, "log the fit", _log_fit, target.run_id, self, X, y, weight, method
                )
                return result

    return fit


def _fit_data(original: Any, estimator: Any, args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    try:
        bound = inspect.signature(original).bind(estimator, *args, **kwargs)
    except TypeError:
        return (args[0] if args else None), (args[1] if len(args) > 1 else None), None
    values = bound.arguments
    return values.get("X"), values.get("y"), values.get("sample_weight")


def _log_params(run_id: str, estimator: Any) -> None:
    params = estimator.get_params(deep=not _is_search(estimator))
    patching.log_params(run_id, params)
    cls = type(estimator)
    patching.set_tags(
        run_id,
        {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"},
    )


def _is_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(estimator, (GridSearchCV, RandomizedSearchCV))


def _log_fit(run_id: str, estimator: Any, X: Any, y: Any, weight: Any, method: str) -> None:
    if X is not None:
        metrics = _training_metrics(estimator, X, y, weight)
        patching.log_metrics(run_id, metrics)
        if y is not None:
            patching.safely(NAME, "draw the plots", _training_plots, run_id, estimator, X, y)
        if _option("log_datasets"):
            patching.safely(NAME, "record the training data", _log_dataset, run_id, X)
    if _is_search(estimator):
        _log_search(run_id, estimator)
    if _option("log_models"):
        _log_model(run_id, estimator, "model", X)
    _remember_model(estimator, run_id)


def _log_dataset(run_id: str, X: Any) -> None:
    """The training data as the run's input ``train`` (context ``train``), fingerprinted as
    ``jt.log_input`` does; a run that already has a ``train`` input keeps it."""
    from ..tracking import fluent

    fluent.flush()
    tags = fluent._store().get_run(run_id).data.tags
    if "jt.input.train.digest" not in tags:
        fluent.log_input(X, context="train", name="train", run_id=run_id)


def _training_plots(run_id: str, estimator: Any, X: Any, y: Any) -> None:
    """MLflow's classifier plots on the training data: ``training_confusion_matrix.png`` and,
    for two classes, ``training_roc_curve.png`` and ``training_precision_recall_curve.png``
    (drawn on matplotlib ``Figure`` objects; no pyplot state is touched)."""
    from sklearn.base import is_classifier

    if not is_classifier(estimator) or not hasattr(estimator, "predict"):
        return
    try:
        from matplotlib.figure import Figure
    except ImportError:  # matplotlib is optional
        return
    from sklearn import metrics as m

    from ..tracking import fluent

    with patching.outermost(NAME):
        pred = estimator.predict(X)
        figures = {}
        fig = Figure(figsize=(5, 4))
        m.ConfusionMatrixDisplay.from_predictions(y, pred, ax=fig.subplots(), colorbar=False)
        figures["training_confusion_matrix.png"] = fig
        classes = getattr(estimator, "classes_", [])
        if len(classes) == 2 and hasattr(estimator, "predict_proba"):
            score = estimator.predict_proba(X)[:, 1]
            pos = classes[1]
            fig = Figure(figsize=(5, 4))
            m.RocCurveDisplay.from_predictions(y, score, pos_label=pos, ax=fig.subplots())
            figures["training_roc_curve.png"] = fig
            fig = Figure(figsize=(5, 4))
            m.PrecisionRecallDisplay.from_predictions(y, score, pos_label=pos, ax=fig.subplots())
            figures["training_precision_recall_curve.png"] = fig
    for name, figure in figures.items():
        fluent.log_figure(figure, name, run_id=run_id)


def _training_metrics(estimator: Any, X: Any, y: Any, weight: Any) -> dict[str, float]:
    from sklearn import metrics as m
    from sklearn.base import is_classifier, is_regressor

    out: dict[str, float] = {}
    if y is None:
        return out
    with patching.outermost(NAME):  # the metric and predict calls below must not log
        predictor = estimator.best_estimator_ if _is_search(estimator) else estimator
        if is_classifier(estimator) and hasattr(predictor, "predict"):
            pred = estimator.predict(X)
            out["training_accuracy_score"] = m.accuracy_score(y, pred, sample_weight=weight)
            for name in ("precision_score", "recall_score", "f1_score"):
                fn = getattr(m, name)
                out[f"training_{name}"] = fn(
                    y, pred, average="weighted", sample_weight=weight, zero_division=0
                )
            if hasattr(estimator, "predict_proba"):
                try:
                    proba = estimator.predict_proba(X)
                    out["training_log_loss"] = m.log_loss(
                        y, proba, sample_weight=weight, labels=estimator.classes_
                    )
                    if proba.shape[1] == 2:
                        out["training_roc_auc"] = m.roc_auc_score(
                            y, proba[:, 1], sample_weight=weight
                        )
                    else:
                        out["training_roc_auc"] = m.roc_auc_score(
                            y, proba, multi_class="ovr", sample_weight=weight
                        )
                except Exception:
                    pass
        elif is_regressor(estimator) and hasattr(predictor, "predict"):
            pred = estimator.predict(X)
            mse = m.mean_squared_error(y, pred, sample_weight=weight)
            out["training_mean_squared_error"] = mse
            out["training_root_mean_squared_error"] = float(mse) ** 0.5
            out["training_mean_absolute_error"] = m.mean_absolute_error(
                y, pred, sample_weight=weight
            )
            out["training_r2_score"] = m.r2_score(y, pred, sample_weight=weight)
        if hasattr(estimator, "score"):
            try:
                if weight is not None:
                    out["training_score"] = estimator.score(X, y, sample_weight=weight)
                else:
                    out["training_score"] = estimator.score(X, y)
            except Exception:
                pass
    return {k: float(v) for k, v in out.items()}


def _log_model(run_id: str, estimator: Any, name: str, X: Any) -> None:
    from ..models import fluent as model_fluent

    head = _head(X) if X is not None else None
    signature: Any = False
    if head is not None and _option("log_model_signatures"):
        signature = _signature(estimator, head)
    example = head if _option("log_input_examples") else None
    info = model_fluent.log_model(
        estimator,
        name=name,
        run_id=run_id,
        flavor="sklearn",
        input_example=example,
        signature=signature,
        serialization_format=_option("serialization_format"),
    )
    registered = _option("registered_model_name")
    if registered and name == "model":
        model_fluent.register_model(info.model_uri, registered)


def _signature(estimator: Any, head: Any) -> Any:
    """The model's signature from the first rows of its training data and its predictions for
    them (no input example is saved unless ``log_input_examples``), as MLflow infers it."""
    from ..models.signature import infer_signature

    output = None
    if hasattr(estimator, "predict"):
        with patching.outermost(NAME):
            try:
                output = estimator.predict(head)
            except Exception:
                output = None
    return infer_signature(head, output)


def _head(X: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        return X.head(5)
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiub":
        return X[:5]
    return None


def _log_search(run_id: str, search: Any) -> None:
    import pandas as pd

    best = getattr(search, "best_params_", None) or {}
    patching.log_params(run_id, {f"best_{k}": v for k, v in best.items()})
    if getattr(search, "best_score_", None) is not None:
        patching.log_metrics(run_id, {"best_cv_score": search.best_score_})
    results = pd.DataFrame(search.cv_results_)
    from ..tracking import fluent

    buffer = io.StringIO()
    results.to_csv(buffer, index=False)
    fluent.log_text(buffer.getvalue(), "cv_results.csv", run_id=run_id)
    if _option("log_models") and hasattr(search, "best_estimator_"):
        _log_model(run_id, search.best_estimator_, "best_estimator", None)
    _child_runs(run_id, search, results)


def _child_runs(parent_id: str, search: Any, results: Any) -> None:
    from ..tracking import fluent, session

    limit = _option("max_tuning_runs")
    rank = "rank_test_score"
    if rank not in results.columns:
        ranks = [c for c in results.columns if c.startswith("rank_test_")]
        rank = ranks[0] if ranks else None
    if limit is not None and rank is not None:
        rows = results.nsmallest(limit, rank, keep="first")
    else:
        rows = results
    seed = search.estimator
    base = seed.get_params(deep=not _is_search(seed))
    cls = type(seed)
    state = session.current()
    for _, row in rows.iterrows():
        child = fluent.start_run(
            parent_run_id=parent_id,
            tags={
                "estimator_name": cls.__name__,
                "estimator_class": f"{cls.__module__}.{cls.__name__}",
                "mlflow.autologging": NAME,
            },
        )
        try:
            params = dict(base)
            params.update(row.get("params", {}) or {})
            patching.log_params(child.info.run_id, params)
            metrics = {
                str(k): v
                for k, v in row.items()
                if not str(k).startswith(("param", "split")) and isinstance(v, Number)
            }
            patching.log_metrics(child.info.run_id, metrics)
        finally:
            state.end_run(child.info.run_id, "FINISHED")


# ------------------------------------------------------------------ post-training metrics

_models: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""fitted estimator -> the run it was autologged in."""
_predictions: dict[int, tuple[Any, str, str]] = {}
"""id(prediction) -> (the prediction, run id, dataset name); the latest 100."""
_dataset_names: dict[str, dict[int, str]] = {}
"""run id -> id(dataset) -> the name given to it in that run."""


def _remember_model(estimator: Any, run_id: str) -> None:
    try:
        _models[estimator] = run_id
    except TypeError:
        pass


def _dataset_name(run_id: str, X: Any, frame: Any) -> str:
    """The caller's variable name for ``X`` (``X_test``), made unique within the run as MLflow
    does (``X_test-1`` for another object of the same name)."""
    names = _dataset_names.setdefault(run_id, {})
    if id(X) in names:
        return names[id(X)]
    name = "unknown_dataset"
    while frame is not None:
        for var, value in frame.f_locals.items():
            if value is X and not var.startswith("_"):
                name = var
                break
        if name != "unknown_dataset":
            break
        frame = frame.f_back
    base, n = name, 0
    while name in names.values():
        n += 1
        name = f"{base}-{n}"
    names[id(X)] = name
    return name


def _predict_wrapper(original: Any) -> Any:
    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            patching.in_call(NAME)
            or patching.in_call(PREDICTING)
            or not patching.is_enabled(NAME)
            or not _option("log_post_training_metrics")
        ):
            return original(self, *args, **kwargs)
        with patching.outermost(PREDICTING):  # a predict calling another one records once
            result = original(self, *args, **kwargs)
        run_id = _models.get(self) if _hashable(self) else None
        X = args[0] if args else kwargs.get("X")
        if run_id is not None and X is not None:
            name = _dataset_name(run_id, X, _user_frame())
            _predictions[id(result)] = (result, run_id, name)
            while len(_predictions) > 100:
                _predictions.pop(next(iter(_predictions)))
        return result

    return predict


PREDICTING = "sklearn-predict"


def _user_frame() -> Any:
    """The innermost frame outside scikit-learn and this package: the caller's code."""
    import os

    import sklearn

    skip = (os.path.dirname(sklearn.__file__), os.path.dirname(os.path.dirname(__file__)))
    frame = inspect.currentframe()
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame = frame.f_back
    return frame


def _hashable(obj: Any) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _score_wrapper(original: Any) -> Any:
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        if patching.in_call(NAME) or not patching.is_enabled(NAME):
            return original(self, *args, **kwargs)
        with patching.outermost(NAME):
            result = original(self, *args, **kwargs)
        run_id = _models.get(self) if _hashable(self) else None
        X = args[0] if args else kwargs.get("X")
        if run_id is not None and X is not None and _option("log_post_training_metrics"):
            name = _dataset_name(run_id, X, _user_frame())
            key = f"{type(self).__name__}_score_{name}"
            patching.safely(NAME, "log a score", _log_post, run_id, key, result)
        return result

    return score


def _metric_wrapper(metric: str, original: Any) -> Any:
    def compute(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if patching.in_call(NAME) or not patching.is_enabled(NAME):
            return result
        found = None
        for value in (*args, *kwargs.values()):
            entry = _predictions.get(id(value))
            if entry is not None and entry[0] is value:
                found = entry
                break
        if found is not None and isinstance(result, Number):
            _, run_id, name = found
            patching.safely(NAME, "log a metric", _log_post, run_id, f"{metric}_{name}", result)
        return result

    return compute


def _log_post(run_id: str, key: str, value: Any) -> None:
    """Log a post-training metric; calling it again in the run logs ``key-1``, ``key-2``..."""
    from ..tracking import fluent

    fluent.flush()
    existing = set(fluent._store().get_run(run_id).data.metrics)
    name, n = key, 0
    while name in existing:
        n += 1
        name = f"{key}-{n}"
    patching.log_metrics(run_id, {name: value})
