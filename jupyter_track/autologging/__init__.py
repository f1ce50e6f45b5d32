"""Autologging: MLflow's ``mlflow.autolog()`` and the per-library ``autolog()`` functions.

Each integration patches its library the supported way (methods replaced on their classes,
originals kept and put back by ``disable=True``) and is active only when the library is
installed:

* ``sklearn``: every estimator's ``fit``: params, training metrics, the model, and for
  ``GridSearchCV`` / ``RandomizedSearchCV`` the best params and child runs;
* ``xgboost``, ``lightgbm``: ``train`` and the scikit-learn API: params, per-iteration
  metrics, feature importances, the model;
* ``pytorch``: PyTorch Lightning's ``Trainer.fit``: params, per-epoch metrics, the model;
* ``transformers``: ``Trainer``: a callback logging its arguments and every ``log``;
* ``openai``: every OpenAI client call as a trace (:mod:`jupyter_track.tracing`).

:func:`autolog` turns every installed one on. A library imported *after* ``jt.autolog()`` is
patched when it is imported (an import hook; nothing heavy is imported by ``autolog`` itself).
Values go to the thread's active run, else to the running ``%%track`` cell's run, else to a
run started for the call (see :mod:`.patching`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from . import patching

log = logging.getLogger("jupyter_track.autolog")

INTEGRATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "sklearn": (("sklearn",), "sklearn"),
    "xgboost": (("xgboost",), "xgboost"),
    "lightgbm": (("lightgbm",), "lightgbm"),
    "pytorch": (("lightning", "pytorch_lightning"), "lightning"),
    "transformers": (("transformers",), "transformers"),
}
"""integration -> (the modules it patches, its module in this package)."""

COMMON_DEFAULTS: dict[str, Any] = {
    "log_input_examples": False,
    "log_model_signatures": True,
    "log_models": True,
    "log_datasets": True,
    "exclusive": False,
    "disable_for_unsupported_versions": False,
    "silent": False,
    "extra_tags": None,
}


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def enable(integration: str, options: dict[str, Any], *, when_imported: bool = False) -> bool:
    """Turn ``integration`` on with ``options``. With ``when_imported`` an installed library that
    is not imported yet is patched when it is; False when the library is not installed."""
    modules, module_name = INTEGRATIONS[integration]
    present = [m for m in modules if installed(m)]
    if not present:
        return False
    patching.set_config(integration, options)
    impl = importlib.import_module(f".{module_name}", __name__)
    for module in present:
        if module in sys.modules or not when_imported:
            impl.patch(importlib.import_module(module))
        else:
            _hooks.add(module, lambda mod, impl=impl, i=integration: _apply(i, impl, mod))
    return True


def _apply(integration: str, impl: Any, module: Any) -> None:
    if patching.is_enabled(integration):  # not disabled meanwhile
        patching.safely(integration, f"patch {module.__name__}", impl.patch, module)


def disable_integration(integration: str) -> None:
    """Turn ``integration`` off: every patched original is put back."""
    for module in INTEGRATIONS[integration][0]:
        _hooks.discard(module)
    patching.revert(integration)


def flavor_autolog(integration: str, disable_: bool, options: dict[str, Any]) -> None:
    """What each ``jt.<flavor>.autolog()`` does: on (the library must be installed) or off."""
    from ..store.errors import InvalidInput

    if disable_:
        disable_integration(integration)
        return
    modules = INTEGRATIONS[integration][0]
    disable_integration(integration)  # a second call replaces the options
    if not enable(integration, {**COMMON_DEFAULTS, **options}):
        raise InvalidInput(
            f"{integration} autolog: the library {' or '.join(repr(m) for m in modules)} is not "
            "installed"
        )


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, Any] | None = None,
    exclude_flavors: Sequence[str] | None = None,
) -> list[str]:
    """MLflow's ``mlflow.autolog()``: autologging for every supported library that is installed
    (scikit-learn, XGBoost, LightGBM, PyTorch Lightning, transformers' Trainer, and tracing of
    the OpenAI client); ``disable=True`` turns them all off. ``exclude_flavors`` leaves some
    alone (names jupyter-track does not know are ignored). Returns the flavors changed.

    Libraries installed but not imported yet are patched when they are imported: this function
    imports none of them.
    """
    from ..store.errors import InvalidInput

    if isinstance(exclude_flavors, str):
        exclude_flavors = [exclude_flavors]
    excluded = set()
    for flavor in exclude_flavors or ():
        if not isinstance(flavor, str):
            raise InvalidInput(f"exclude_flavors: {flavor!r} is not a flavor name (a string)")
        excluded.add(flavor)
    options = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    changed = []
    for integration in INTEGRATIONS:
        if integration in excluded:
            continue
        was_on = patching.is_enabled(integration)
        disable_integration(integration)
        if disable:
            if was_on:
                changed.append(integration)
            continue
        try:
            if enable(integration, {**COMMON_DEFAULTS, **options}, when_imported=True):
                changed.append(integration)
        except Exception as exc:  # one broken library never stops the others
            if not silent:
                log.warning("jupyter-track: %s autologging not enabled: %s", integration, exc)
    if "openai" not in excluded:
        off = disable or not log_traces
        if off or installed("openai"):
            from .. import openai as openai_flavor

            openai_flavor.autolog(
                disable=off,
                exclusive=exclusive,
                disable_for_unsupported_versions=disable_for_unsupported_versions,
                silent=silent,
                log_traces=log_traces,
            )
            changed.append("openai")
    if not silent:
        state = "off" if disable else "on"
        log.info("jupyter-track: autologging %s for %s", state, ", ".join(changed) or "nothing")
    return changed


def enabled_integrations() -> list[str]:
    """The integrations on now (``openai`` included when its client is patched)."""
    on = [name for name in INTEGRATIONS if patching.is_enabled(name)]
    if "jupyter_track.tracing.openai_autolog" in sys.modules:
        from ..tracing import openai_autolog

        if openai_autolog.enabled():
            on.append("openai")
    return on


# ------------------------------------------------------------------------ import hooks


class _PostImportHooks(importlib.abc.MetaPathFinder):
    """Calls registered functions right after a watched top-level module is imported, so
    ``jt.autolog()`` never imports a library itself (importing torch takes seconds)."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Callable[[Any], None]]] = {}
        self._lock = threading.Lock()
        self._busy = threading.local()

    def add(self, module: str, hook: Callable[[Any], None]) -> None:
        with self._lock:
            self._hooks.setdefault(module, []).append(hook)
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def discard(self, module: str) -> None:
        with self._lock:
            self._hooks.pop(module, None)
            if not self._hooks and self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self._hooks or getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.on = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module: Any) -> None:
            original_exec(module)
            with self._lock:
                hooks = self._hooks.pop(fullname, [])
                if not self._hooks and self in sys.meta_path:
                    sys.meta_path.remove(self)
            for hook in hooks:
                hook(module)

        spec.loader = _Loader(loader, exec_module)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, wrapped: Any, exec_module: Callable[[Any], None]) -> None:
        self._wrapped = wrapped
        self._exec = exec_module

    def create_module(self, spec: Any) -> Any:
        return self._wrapped.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._exec(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


_hooks = _PostImportHooks()


__all__ = ["INTEGRATIONS", "autolog", "enabled_integrations"]
