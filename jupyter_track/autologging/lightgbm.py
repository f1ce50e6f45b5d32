"""LightGBM autologging (MLflow's ``mlflow.lightgbm.autolog``).

* ``lightgbm.train``: the params dict and the call's plain arguments as params; every
  iteration's evaluation results as ``<data name>-<metric>`` (``training-l2``,
  ``valid_0-multi_logloss``) at the iteration's step, through a callback; ``best_iteration`` /
  ``stopped_iteration`` with early stopping; ``feature_importance_split.json`` and
  ``feature_importance_gain.json``; the Booster as the model ``model``.
* the scikit-learn API (``LGBMClassifier.fit``, ...): ``get_params()``, ``evals_result_`` per
  iteration, the fitted estimator as ``model``.
"""

from __future__ import annotations

import inspect
from typing import Any

from . import patching

NAME = "lightgbm"


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Log ``lightgbm.train`` and the scikit-learn API's ``fit``; ``disable=True`` undoes it."""
    from . import flavor_autolog

    flavor_autolog(
        NAME, disable, {"log_models": log_models, "silent": silent, "extra_tags": extra_tags}
    )


def patch(module: Any) -> None:
    import lightgbm.engine
    import lightgbm.sklearn

    for owner in (lightgbm, lightgbm.engine, lightgbm.sklearn):
        if callable(getattr(owner, "train", None)):
            patching.patch(NAME, owner, "train", _train_wrapper)
    for name in ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker"):
        cls = getattr(lightgbm.sklearn, name, None)
        if cls is not None and "fit" in cls.__dict__:
            patching.patch(NAME, cls, "fit", patching.estimator_fit(NAME, _after_fit))


def _callback(run_id: str) -> Any:
    def record(env: Any) -> None:
        point = {
            f"{data}-{metric}": value for data, metric, value, *_ in env.evaluation_result_list
        }
        patching.safely(NAME, "log metrics", patching.log_metrics, run_id, point, env.iteration)

    record.order = 25  # type: ignore[attr-defined]  # before early stopping (30) may stop
    return record


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
                skip = {"params", "train_set", "valid_sets", "feval", "init_model", "callbacks"}
                extra = {k: v for k, v in arguments.items() if k not in skip}
                params = patching.train_params(arguments.get("params"), extra)
                patching.safely(NAME, "log params", patching.log_params, target.run_id, params)
                arguments["callbacks"] = [
                    *(arguments.get("callbacks") or []),
                    _callback(target.run_id),
                ]
                booster = original(**arguments)
                patching.safely(NAME, "log the result", _after_train, target.run_id, booster)
                return booster

    return train


def _after_train(run_id: str, booster: Any) -> None:
    from ..tracking import fluent

    if getattr(booster, "best_iteration", 0):
        patching.log_metrics(
            run_id,
            {
                "best_iteration": booster.best_iteration,
                "stopped_iteration": booster.current_iteration(),
            },
        )
    names = booster.feature_name()
    for kind in ("split", "gain"):
        values = booster.feature_importance(importance_type=kind)
        importance = {n: float(v) for n, v in zip(names, values)}
        fluent.log_dict(importance, f"feature_importance_{kind}.json", run_id=run_id)
    patching.log_model_safely(NAME, run_id, booster, "lightgbm")


def _after_fit(run_id: str, estimator: Any) -> None:
    patching.log_history(run_id, dict(getattr(estimator, "evals_result_", None) or {}))
    patching.log_model_safely(NAME, run_id, estimator, "lightgbm")
