"""The registry widget: ``jt.registry(name=None, editable=False)``.

Registered models, their versions and aliases, and the recent alias changes from the audit
trail. Read-only by default; with ``editable=True`` the browser can set, move and remove
aliases, and every change goes through the registry's own audited API
(the store's ``set_registered_model_alias``, compare-and-set against the
version the widget showed, so a concurrent move is reported, not overwritten).
"""

from __future__ import annotations

from typing import Any

import traitlets

from .. import payloads
from ..store import TrackError
from ..tracking import session
from . import static
from ._common import TrackWidget, bundle

AUDIT_SHOWN = 20
_ALL = 100_000
_ALIAS_ACTIONS = ("set_alias", "delete_alias", "rollback_alias")


class RegistryView(TrackWidget):
    """Registered models, versions and aliases (see the module doc)."""

    _esm = bundle("models.js")

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    audit = traitlets.List(traitlets.Dict()).tag(sync=True)
    editable = traitlets.Bool(False).tag(sync=True)
    message = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(self, name: str | None = None, *, editable: bool = False):
        super().__init__()
        self.name = name
        self._store = session.current().store
        if name is not None:
            self._store.get_registered_model(name)  # NotFound for a wrong name, now
        self.editable = editable
        self.on_msg(self._on_message)
        self.refresh()

    def refresh(self) -> None:
        """Read the registry again."""
        registry = self._store
        names = (
            [self.name]
            if self.name is not None
            else [m.name for m in registry.search_registered_models(None, max_results=_ALL)]
        )
        # The REST API's model-detail payload (jupyter_track.payloads), one per model.
        models = [payloads.model_detail(registry, name) for name in names]
        entries = registry.registry_audit(self.name, max_results=100_000)
        alias_entries = [e for e in entries if e.action in _ALIAS_ACTIONS][-AUDIT_SHOWN:]
        with self.hold_trait_notifications():
            self.models = models
            self.audit = [payloads.audit_entry(e) for e in reversed(alias_entries)]

    # ------------------------------------------------------------------------------ editing

    def set_alias(self, name: str, alias: str, version: int, expected: Any = None) -> None:
        """What the browser's "Set" button does (only when ``editable``)."""
        self._handle(
            {
                "type": "set_alias",
                "name": name,
                "alias": alias,
                "version": version,
                "expected": expected,
            }
        )

    def _on_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        self._handle(content)

    def _handle(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "refresh":
            self.message = None
            self.refresh()
            return
        if kind not in ("set_alias", "delete_alias"):
            return
        if not self.editable:
            self.message = {
                "kind": "error",
                "text": "read-only: use jt.registry(editable=True) to change aliases",
            }
            return
        name, alias = str(content.get("name")), str(content.get("alias", "")).strip()
        expected = content.get("expected")
        try:
            if kind == "set_alias":
                version = int(content["version"])
                self._store.set_registered_model_alias(
                    name, alias, version, expected_version=expected
                )
                text = f"{name}: @{alias} now points to version {version}"
            else:
                # the store's audited delete, compare-and-set against the version shown
                self._store.delete_registered_model_alias(name, alias, expected_version=expected)
                text = f"{name}: removed @{alias}"
            self.message = {"kind": "ok", "text": text}
        except (TrackError, ValueError, KeyError) as exc:
            self.message = {"kind": "error", "text": str(exc)}
        self.refresh()

    # ------------------------------------------------------------------------------ static

    def _static_text(self) -> str:
        lines = [f"{len(self.models)} registered models"]
        for detail in self.models:
            model = detail["model"]
            aliases = ", ".join(f"@{a}=v{v}" for a, v in sorted(model["aliases"].items()))
            lines.append(
                f"  {model['name']}: {len(detail['versions'])} versions"
                + (f"; {aliases}" if aliases else "")
            )
        return "\n".join(lines)

    def _static_html(self) -> str:
        rows = []
        for detail in self.models:
            for v in detail["versions"]:
                rows.append(
                    (
                        detail["model"]["name"],
                        f"v{v['version']}",
                        " ".join(f"@{a}" for a in v["aliases"]),
                        (v["run_id"] or "")[:8],
                        v["user_id"],
                    )
                )
        return static.table(
            ["model", "version", "aliases", "run", "by"],
            rows,
            caption=self._static_text().split("\n")[0],
        )


def registry(name: str | None = None, *, editable: bool = False) -> RegistryView:
    """Registered models with their versions and aliases (``jt.registry()``).

    ``name`` shows one model. Read-only unless ``editable=True``; alias changes made in the
    widget then go through the registry's audited API (the audit trail records the kernel's
    user) and are compare-and-set against the version the widget showed.
    """
    return RegistryView(name, editable=editable)
