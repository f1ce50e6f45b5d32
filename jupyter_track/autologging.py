"""``jt.autolog()``: MLflow's ``mlflow.autolog``, turning on every integration whose library is
installed.

The integrations are the ``autolog`` functions of jupyter-track's flavor modules
(:data:`INTEGRATIONS`: today ``jt.openai.autolog``, which traces the ``openai`` client). A
library that is not installed is skipped, as MLflow does; ``disable=True`` (or
``log_traces=False``) turns them all off again; ``exclude_flavors`` leaves some untouched.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Sequence

from .store.errors import InvalidInput

#: flavor name -> (the library it instruments, the module whose ``autolog`` turns it on)
INTEGRATIONS: dict[str, tuple[str, str]] = {
    "openai": ("openai", "jupyter_track.openai"),
}

log = logging.getLogger("jupyter_track.autolog")


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
    extra_tags: dict[str, str] | None = None,
    exclude_flavors: Sequence[str] | None = None,
) -> list[str]:
    """Turn on autologging for every installed library jupyter-track instruments (MLflow's
    ``mlflow.autolog``); ``disable=True`` turns it off. Returns the flavors changed.

    The arguments about models, datasets and input examples are MLflow's and accepted for
    compatibility (no integration here logs models); ``exclude_flavors`` names flavors to
    leave alone (names jupyter-track does not know, like ``"sklearn"``, are ignored).
    """
    if isinstance(exclude_flavors, str):
        exclude_flavors = [exclude_flavors]
    excluded = set()
    for flavor in exclude_flavors or ():
        if not isinstance(flavor, str):
            raise InvalidInput(f"exclude_flavors: {flavor!r} is not a flavor name (a string)")
        excluded.add(flavor)
    changed = []
    for flavor, (library, module_name) in INTEGRATIONS.items():
        if flavor in excluded:
            continue
        if not disable and log_traces and importlib.util.find_spec(library) is None:
            continue
        module = importlib.import_module(module_name)
        module.autolog(
            disable=disable,
            exclusive=exclusive,
            disable_for_unsupported_versions=disable_for_unsupported_versions,
            silent=silent,
            log_traces=log_traces,
        )
        changed.append(flavor)
    if not silent:
        state = "off" if disable or not log_traces else "on"
        log.info("jupyter-track: autologging %s for %s", state, ", ".join(changed) or "nothing")
    return changed


__all__ = ["INTEGRATIONS", "autolog"]
