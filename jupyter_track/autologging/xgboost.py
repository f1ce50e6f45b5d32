"""XGBoost autologging (MLflow's ``mlflow.xgboost.autolog``).

* ``xgboost.train``: the params dict and the call's plain arguments (``num_boost_round``,
  ``early_stopping_rounds``, ...) as params; every iteration's evaluation results as
  ``<eval name>-<metric>`` (``train-rmse``, ``valid-logloss``) at the iteration's step, through
  a training callback; ``best_iteration`` / ``stopped_iteration`` with early stopping;
  ``feature_importance_weight.json``; the Booster as the model ``model``.
* the scikit-learn API (``XGBClassifier.fit``, ...): ``get_params()``, ``evals_result()`` as
  ``validation_0-logloss``, ... per iteration, the fitted estimator as ``model``.
"""

from __future__ import annotations

import inspect
from typing import Any

from . import patching

NAME = "xgboost"
SKLEARN_CLASSES = (
    "XGBModel",
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)


def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "xgb",
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Log ``xgboost.train`` and the scikit-learn API's ``fit``; ``disable=True`` undoes it."""
    from . import flavor_autolog

    flavor_autolog(
        NAME,
        disable,
        {
            "importance_types": importance_types or ["weight"],
            "log_models": log_models,
            "silent": silent,
            "extra_tags": extra_tags,
        },
    )


def patch(module: Any) -> None:
    import xgboost.sklearn
    import xgboost.training

    for owner in (xgboost, xgboost.training, xgboost.sklearn):
        if callable(getattr(owner, "train", None)):
            patching.patch(NAME, owner, "train", _train_wrapper)
    for name in SKLEARN_CLASSES:
        cls = getattr(xgboost.sklearn, name, None)
        if cls is not None and "fit" in cls.__dict__:
            patching.patch(NAME, cls, "fit", patching.estimator_fit(NAME, _after_fit))


def _callback_class() -> Any:
    import xgboost

    class AutologCallback(xgboost.callback.TrainingCallback):
        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            point = {
                f"{data}-{metric}": _last(values)
                for data, metrics in evals_log.items()
                for metric, values in metrics.items()
            }
            patching.safely(NAME, "log metrics", patching.log_metrics, self.run_id, point, epoch)
            return False

    return AutologCallback


def _last(values: Any) -> Any:
    value = values[-1]
    return value[0] if isinstance(value, tuple) else value  # (mean, std) with xgb.cv


def _train_wrapper(original: Any) -> Any:
    def train(*args: Any, **kwargs: Any) -> Any:
        with patching.outermost(NAME) as first:
            if not first or not patching.is_enabled(NAME):
                return original(*args, **kwargs)
            with patching.managed_run(NAME) as target:
                try:
                    bound = inspect.signature(original).bind(*args, **kwargs)
                    bound.apply_defaults()
                    arguments = dict(bound.arguments)
                except TypeError:
                    return original(*args, **kwargs)
                skip = {"params", "dtrain", "evals", "obj", "feval", "custom_metric", "callbacks"}
                extra = {k: v for k, v in arguments.items() if k not in skip}
                params = patching.train_params(arguments.get("params"), extra)
                patching.safely(NAME, "log params", patching.log_params, target.run_id, params)
                callbacks = list(arguments.get("callbacks") or [])
                callbacks.append(_callback_class()(target.run_id))
                arguments["callbacks"] = callbacks
                booster = original(**arguments)
                patching.safely(NAME, "log the result", _after_train, target.run_id, booster)
                return booster

    return train


def _after_train(run_id: str, booster: Any) -> None:
    from ..tracking import fluent

    best = getattr(booster, "best_iteration", None)
    if best is not None and booster.attr("best_iteration") is not None:
        patching.log_metrics(
            run_id,
            {"best_iteration": int(best), "stopped_iteration": booster.num_boosted_rounds() - 1},
        )
    for kind in (patching.config(NAME) or {}).get("importance_types", ["weight"]):
        scores = booster.get_score(importance_type=kind)
        fluent.log_dict(scores, f"feature_importance_{kind}.json", run_id=run_id)
    patching.log_model_safely(NAME, run_id, booster, "xgboost")


def _after_fit(run_id: str, estimator: Any) -> None:
    from ..tracking import fluent

    try:
        history = estimator.evals_result()
    except Exception:  # no eval_set given
        history = {}
    patching.log_history(run_id, history)
    for kind in (patching.config(NAME) or {}).get("importance_types", ["weight"]):
        scores = estimator.get_booster().get_score(importance_type=kind)
        fluent.log_dict(scores, f"feature_importance_{kind}.json", run_id=run_id)
    patching.log_model_safely(NAME, run_id, estimator, "xgboost")
