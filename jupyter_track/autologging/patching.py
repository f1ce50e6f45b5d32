"""The machinery every autolog integration shares (MLflow's ``safe_patch`` in small).

* :func:`patch` replaces a method or function on its owner and remembers the original (or that
  it was inherited); :func:`revert` puts every original of an integration back, so
  ``autolog(disable=True)`` leaves the library exactly as it found it.
* Only the outermost patched call logs: a ``Pipeline.fit`` that calls its steps' ``fit``, or a
  ``GridSearchCV`` that fits clones, logs once (a per-thread depth counter).
* :func:`managed_run` gives the run values go to: the thread's active run, else the running
  ``%%track`` cell's run, else a new run tagged ``mlflow.autologging`` that ends with the call
  (FAILED if it raised), as MLflow does.
* :func:`safely` runs logging code so that a failure of the logging is a warning and never
  breaks the user's training.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("jupyter_track.autolog")

_lock = threading.Lock()
_patches: dict[str, list[tuple[Any, str, Any, bool]]] = {}
"""integration -> [(owner, attribute, original, owned)]; ``owned``: the owner defined it."""
_configs: dict[str, dict[str, Any]] = {}
_local = threading.local()


def config(integration: str) -> dict[str, Any] | None:
    """The options an integration was enabled with, or None when it is off."""
    return _configs.get(integration)


def is_enabled(integration: str) -> bool:
    return integration in _configs


def set_config(integration: str, options: dict[str, Any]) -> None:
    _configs[integration] = dict(options)


def patch(integration: str, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` by ``make(original)``; recorded for :func:`revert`.

    Patching again what is already patched by this integration does nothing."""
    with _lock:
        done = _patches.setdefault(integration, [])
        if any(o is owner and n == name for o, n, _, _ in done):
            return
        owned = name in getattr(owner, "__dict__", {})
        original = owner.__dict__[name] if owned else getattr(owner, name)
        wrapper = make(original)
        try:
            functools.update_wrapper(wrapper, original)
        except (AttributeError, TypeError):
            pass
        wrapper.__jt_autolog_original__ = original
        setattr(owner, name, wrapper)
        done.append((owner, name, original, owned))


def revert(integration: str) -> None:
    """Put back every original patched by ``integration`` and forget its options."""
    with _lock:
        for owner, name, original, owned in reversed(_patches.pop(integration, [])):
            if owned:
                setattr(owner, name, original)
            else:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
        _configs.pop(integration, None)


def patched(integration: str) -> list[tuple[Any, str]]:
    """What ``integration`` has patched now: (owner, attribute) pairs."""
    return [(o, n) for o, n, _, _ in _patches.get(integration, [])]


def _depths() -> dict[str, int]:
    depths = getattr(_local, "depths", None)
    if depths is None:
        depths = _local.depths = {}
    return depths


@contextmanager
def outermost(integration: str) -> Iterator[bool]:
    """True for the outermost patched call of ``integration`` in this thread."""
    depths = _depths()
    depth = depths.get(integration, 0)
    depths[integration] = depth + 1
    try:
        yield depth == 0
    finally:
        depths[integration] = depth


def in_call(integration: str) -> bool:
    """Whether a patched call of ``integration`` is running in this thread."""
    return _depths().get(integration, 0) > 0


@dataclass
class Target:
    """The run autologged values go to, and whether autologging started it."""

    run_id: str
    started: bool


@contextmanager
def managed_run(integration: str, tags: dict[str, Any] | None = None) -> Iterator[Target]:
    """The active run (or the ``%%track`` cell's), else a new run ended after the block."""
    from ..tracking import fluent, session

    state = session.current()
    active = state.active() or state.cell_run()
    if active is not None:
        yield Target(active.info.run_id, False)
        return
    extra = (config(integration) or {}).get("extra_tags") or {}
    run = fluent.start_run(tags={"mlflow.autologging": integration, **extra, **(tags or {})})
    run_id = run.info.run_id
    status = "FINISHED"
    try:
        yield Target(run_id, True)
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    except BaseException:
        status = "FAILED"
        raise
    finally:
        if state.is_active(run_id):
            state.end_run(run_id, status)


def safely(integration: str, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; a failure is logged as a warning (unless ``silent``) and returns None."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if not (config(integration) or {}).get("silent"):
            log.warning("jupyter-track %s autologging: could not %s: %s", integration, what, exc)
        return None


# ---------------------------------------------------------------------------- logging


MAX_PARAM_VALUE = 6000
"""MLflow truncates autologged param values to this length."""


def param_value(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_VALUE else text[:MAX_PARAM_VALUE]


def log_params(run_id: str, params: dict[str, Any]) -> None:
    """Log params to ``run_id``; a key already logged with another value keeps its first value
    (re-fitting in one run must not break training), as the rest are logged."""
    from ..tracking import fluent

    clean = {str(k): param_value(v) for k, v in params.items()}
    if not clean:
        return
    existing = _existing_params(run_id)
    fresh = {k: v for k, v in clean.items() if k not in existing}
    if fresh:
        fluent.log_params(fresh, run_id=run_id)


def _existing_params(run_id: str) -> dict[str, str]:
    from ..tracking import fluent

    pending = fluent.pending_run(run_id)
    if pending is not None:
        return dict(getattr(pending.record, "params", None) or {})
    try:
        return dict(fluent._store().get_run(run_id).data.params)
    except Exception:
        return {}


def log_metrics(run_id: str, metrics: dict[str, Any], step: int | None = None) -> None:
    """Log the finite numeric values of ``metrics`` to ``run_id`` at ``step``."""
    import math

    from ..tracking import fluent

    clean = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            clean[str(key)] = number
    if clean:
        fluent.log_metrics(clean, step=step, run_id=run_id)


def set_tags(run_id: str, tags: dict[str, Any]) -> None:
    from ..tracking import fluent

    target, pending = fluent._target(run_id)
    if pending is None or not pending.set_tags(tags):
        fluent._store().set_tags(target, tags)


def log_history(run_id: str, history: dict[str, dict[str, list[Any]]]) -> None:
    """Log ``{dataset: {metric: [value per iteration]}}`` (XGBoost's ``evals_result()``,
    LightGBM's ``evals_result_``) as ``<dataset>-<metric>`` at each iteration's step."""
    steps = max((len(v) for metrics in history.values() for v in metrics.values()), default=0)
    for step in range(steps):
        point = {
            f"{data}-{metric}": values[step]
            for data, metrics in history.items()
            for metric, values in metrics.items()
            if step < len(values)
        }
        log_metrics(run_id, point, step=step)


def train_params(params: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """The params a ``train(params, ..., num_boost_round=...)`` call logs: the params dict and
    the call's other plain arguments."""
    out = dict(params or {}) if isinstance(params, dict) else {}
    for key, value in extra.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            out[key] = value
    return out


def log_model_safely(
    integration: str, run_id: str, model: Any, flavor: str, name: str = "model"
) -> None:
    """Log ``model`` as ``name`` when the integration's ``log_models`` is on."""
    if not (config(integration) or {}).get("log_models", True):
        return
    from ..models import fluent as model_fluent

    safely(
        integration,
        "log the model",
        model_fluent.log_model,
        model,
        name=name,
        run_id=run_id,
        flavor=flavor,
    )


def estimator_fit(integration: str, after_fit: Callable[[str, Any], None]) -> Callable[[Any], Any]:
    """A patch for a scikit-learn-API estimator's ``fit``: the estimator's params before the
    call, then ``after_fit(run_id, estimator)`` (the outermost call only, in a managed run)."""

    def wrap(original: Any) -> Any:
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            with outermost(integration) as first:
                if not first or not is_enabled(integration):
                    return original(self, *args, **kwargs)
                with managed_run(integration) as target:
                    safely(integration, "log params", log_params, target.run_id, self.get_params())
                    result = original(self, *args, **kwargs)
                    safely(integration, "log the fit", after_fit, target.run_id, self)
                    return result

        return fit

    return wrap
