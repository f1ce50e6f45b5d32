"""Modules imported on first use: a module-level name that imports its module when read.

``grammar = lazy_module(globals(), "grammar", "jupyter_track.store.search")`` binds ``grammar``
to a stand-in; the first attribute read imports the module and puts the real module in the
name's place, so later reads cost nothing extra. It keeps a module that only some methods
need (the filter grammar, the trace records) off the import path of the common one (a kernel
logging its first run).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_module", "_name", "_namespace")

    def __init__(self, namespace: dict[str, Any], name: str, module: str) -> None:
        self._namespace = namespace
        self._name = name
        self._module = module

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._module)
        if self._namespace.get(self._name) is self:
            self._namespace[self._name] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._module!r}, imported on first use>"


def lazy_module(namespace: dict[str, Any], name: str, module: str) -> ModuleType:
    """A stand-in for ``module`` bound to ``name`` in ``namespace`` (a module's ``globals()``)
    that imports it on first attribute access and then replaces itself with it."""
    return _LazyModule(namespace, name, module)  # type: ignore[return-value]
