"""A model version's lineage: version -> source run -> params, metrics, data, code,
environment, who registered it and every alias it held. As JSON (:func:`version_lineage`) and
as one self-contained HTML page fit to hand to an auditor (:func:`lineage_html`).

``jupyter-track lineage models:/NAME/VERSION --format json|html``, the REST route
``registry/models/{name}/versions/{version}/lineage`` and the Models tab's "Lineage" use these.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Mapping
from typing import Any

from ..store.errors import NotFound
from .envdiff import run_environment
from .inputs import run_inputs

FORMAT_VERSION = 1
_PROVENANCE_TAGS = (
    "jt.user",
    "jt.user.verified",
    "jt.host",
    "jt.python",
    "jt.platform",
    "jt.notebook",
    "mlflow.source.name",
    "jt.reproduced_from",
)


def _alias_periods(audit: list[Any], version: int) -> list[dict[str, Any]]:
    """Every period an alias pointed at ``version``: alias, since, until (None: still), by whom."""
    current: dict[str, tuple[int | None, Any]] = {}
    periods: list[dict[str, Any]] = []

    def close(alias: str, entry: Any) -> None:
        pointed, opened = current.get(alias, (None, None))
        if pointed == version and opened is not None:
            periods.append(
                {
                    "alias": alias,
                    "since": opened.timestamp,
                    "set_by": opened.actor,
                    "set_by_verified": opened.actor_verified,
                    "set_action": opened.action,
                    "until": entry.timestamp if entry is not None else None,
                    "ended_by": entry.actor if entry is not None else None,
                    "ended_action": entry.action if entry is not None else None,
                }
            )

    for entry in audit:
        if entry.alias is None or entry.action not in (
            "set_alias",
            "rollback_alias",
            "delete_alias",
        ):
            continue
        close(entry.alias, entry)
        if entry.action == "delete_alias":
            current[entry.alias] = (None, None)
        else:
            target = int(entry.new_value) if entry.new_value is not None else None
            current[entry.alias] = (target, entry)
    for alias in list(current):
        close(alias, None)
    periods.sort(key=lambda p: (p["since"], p["alias"]))
    return periods


def version_lineage(store: Any, name: str, version: int | str) -> dict[str, Any]:
    """The lineage of model version ``name``/``version`` as a JSON-ready dict.

    Raises ``NotFound`` for an unknown model or version (the message names them).
    """
    mv = store.get_model_version(name, version)
    audit = store.registry_audit(name, max_results=1_000_000)
    mine = [e for e in audit if e.version == mv.version]
    created = next((e for e in mine if e.action == "create_model_version"), None)
    payload: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "generated": int(time.time() * 1000),
        "model": {
            "name": mv.name,
            "version": mv.version,
            "description": mv.description,
            "source": mv.source,
            "status": mv.status,
            "creation_timestamp": mv.creation_timestamp,
            "tags": dict(mv.tags),
            "aliases": list(mv.aliases),
        },
        "registered_by": {
            "user": created.actor if created else mv.user_id,
            "verified": bool(created.actor_verified) if created else None,
            "timestamp": created.timestamp if created else mv.creation_timestamp,
        },
        "aliases_held": _alias_periods(audit, mv.version),
        "audit": [e.to_dict() for e in mine],
        "run": None,
        "datasets": [],
        "code": None,
        "environment": None,
        "missing": [],
    }
    if not mv.run_id:
        payload["missing"].append("source run: the version was registered from a folder")
        return payload
    try:
        run = store.get_run(mv.run_id)
    except NotFound:
        payload["missing"].append(f"source run {mv.run_id}: purged from the store")
        return payload
    tags = run.data.tags
    experiment = None
    try:
        experiment = store.get_experiment(run.info.experiment_id).name
    except NotFound:
        pass
    payload["run"] = {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "experiment": experiment,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "user": run.info.user_id,
        "lifecycle_stage": run.info.lifecycle_stage,
        "params": dict(run.data.params),
        "metrics": {k: _number(v) for k, v in run.data.metrics.items()},
        "provenance": {k: tags[k] for k in _PROVENANCE_TAGS if k in tags},
    }
    payload["datasets"] = run_inputs(tags)
    lineage = store.get_run_lineage(run.info.run_id)
    diff = None
    if tags.get("jt.git.dirty") == "true":
        try:
            diff = store.artifact_file(run.info.run_id, "provenance/git.diff").read_text(
                errors="replace"
            )
        except (NotFound, OSError, AttributeError):  # AttributeError: a remote store
            payload["missing"].append("git diff: the tree was dirty but no diff was recorded")
    payload["code"] = {
        "git": {
            "commit": tags.get("jt.git.commit"),
            "branch": tags.get("jt.git.branch"),
            "remote": tags.get("jt.git.remote"),
            "dirty": None if "jt.git.dirty" not in tags else tags["jt.git.dirty"] == "true",
            "diff": diff,
        },
        "notebook": run.info.notebook or tags.get("jt.notebook"),
        "source": run.source,
        "cells": [
            {k: c.get(k) for k in ("execution_count", "cell_id", "source", "provides", "status")}
            for c in (lineage or {}).get("cells", [])
        ],
        "flags": (lineage or {}).get("flags", []),
        "seeds": (lineage or {}).get("seeds", []),
        "stale": (lineage or {}).get("stale"),
        "unseeded": (lineage or {}).get("unseeded"),
    }
    if "jt.git.commit" not in tags:
        payload["missing"].append("git: the run was not made in a git repository")
    if lineage is None:
        payload["missing"].append("cell lineage: the run has no cell log (a script?)")
    payload["environment"] = run_environment(store, run)
    if payload["environment"] is None:
        payload["missing"].append("environment: not recorded")
    return payload


def _number(value: float) -> float | str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# ----------------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:62em;
color:#1b1b1b;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ccc;
padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f4f4f4}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:.6em;overflow:auto;white-space:pre-wrap}
.muted{color:#666}.warn{color:#8a4b00;background:#fff4e0;border:1px solid #f0c36d;padding:.4em .6em}
.missing{color:#8b0000}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _time(ms: Any) -> str:
    if not isinstance(ms, (int, float)):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))


def _table(rows: list[tuple[Any, ...]], head: tuple[str, ...] | None = None) -> str:
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _kv(mapping: Mapping[str, Any]) -> str:
    if not mapping:
        return '<p class="muted">none</p>'
    return _table([(k, v) for k, v in sorted(mapping.items())])


def lineage_html(payload: Mapping[str, Any]) -> str:
    """The lineage as one self-contained HTML page (no scripts, no external resources; every
    user value escaped)."""
    model = payload["model"]
    title = f"Lineage of {model['name']} version {model['version']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Generated by jupyter-track {_e(_time(payload.get("generated")))}.</p>',
    ]
    for item in payload.get("missing") or []:
        parts.append(f'<p class="missing">Missing: {_e(item)}</p>')
    registered = payload.get("registered_by") or {}
    verified = registered.get("verified")
    parts += [
        "<h2>Model version</h2>",
        _table(
            [
                ("model", model["name"]),
                ("version", model["version"]),
                ("status", model.get("status")),
                ("source", model.get("source")),
                ("description", model.get("description") or ""),
                ("current aliases", ", ".join(model.get("aliases") or []) or "none"),
                (
                    "registered by",
                    f"{registered.get('user')}"
                    + (
                        " (verified)"
                        if verified
                        else " (not verified)"
                        if verified is False
                        else ""
                    ),
                ),
                ("registered at", _time(registered.get("timestamp"))),
            ]
        ),
    ]
    if model.get("tags"):
        parts += ["<h3>Version tags</h3>", _kv(model["tags"])]
    parts.append("<h2>Aliases this version held</h2>")
    periods = payload.get("aliases_held") or []
    if periods:
        parts.append(
            _table(
                [
                    (
                        p["alias"],
                        _time(p["since"]),
                        p["set_by"],
                        _time(p["until"]) if p["until"] else "now",
                        p.get("ended_action") or "",
                    )
                    for p in periods
                ],
                ("alias", "since", "set by", "until", "ended by"),
            )
        )
    else:
        parts.append('<p class="muted">none</p>')
    run = payload.get("run")
    if run:
        parts += [
            "<h2>Source run</h2>",
            _table(
                [
                    ("run", f"{run['run_name']} ({run['run_id']})"),
                    ("experiment", run.get("experiment")),
                    ("status", run.get("status")),
                    ("started", _time(run.get("start_time"))),
                    ("ended", _time(run.get("end_time"))),
                    ("user", run.get("user")),
                    *sorted(run.get("provenance", {}).items()),
                ]
            ),
            "<h3>Params</h3>",
            _kv(run.get("params") or {}),
            "<h3>Metrics</h3>",
            _kv(run.get("metrics") or {}),
        ]
    parts.append("<h2>Data</h2>")
    datasets = payload.get("datasets") or []
    if datasets:
        parts.append(
            _table(
                [
                    (
                        d.get("name"),
                        d.get("digest"),
                        d.get("kind"),
                        d.get("source"),
                        d.get("context"),
                    )
                    for d in datasets
                ],
                ("name", "digest (sha256)", "kind", "source", "context"),
            )
        )
    else:
        parts.append('<p class="muted">no data inputs recorded</p>')
    code = payload.get("code")
    if code:
        git = code.get("git") or {}
        parts += [
            "<h2>Code</h2>",
            _table(
                [
                    ("git commit", git.get("commit") or "not recorded"),
                    ("branch", git.get("branch") or ""),
                    ("remote", git.get("remote") or ""),
                    ("uncommitted changes", {True: "yes", False: "no"}.get(git.get("dirty"), "")),
                    ("notebook", code.get("notebook") or ""),
                ]
            ),
        ]
        if git.get("diff"):
            parts.append(
                f"<details><summary>git diff</summary><pre>{_e(git['diff'])}</pre></details>"
            )
        for flag in code.get("flags") or []:
            code_text, message = _e(flag.get("code")), _e(flag.get("message"))
            parts.append(f'<p class="warn">Stale state ({code_text}): {message}</p>')
        if code.get("unseeded"):
            parts.append(
                '<p class="warn">Unseeded: no random seed was found for a library the run used.</p>'
            )
        seeds = code.get("seeds") or []
        if seeds:
            parts.append(
                "<h3>Seeds</h3>"
                + _table(
                    [(s.get("call"), s.get("value"), s.get("cell")) for s in seeds],
                    ("call", "value", "cell"),
                )
            )
        cells = code.get("cells") or []
        if cells:
            parts.append(
                f"<h3>Executed cells the run depended on ({len(cells)}, in executed order)</h3>"
            )
            for cell in cells:
                label = f"[{cell.get('execution_count')}]" if cell.get("execution_count") else ""
                provides = ", ".join(cell.get("provides") or [])
                parts.append(
                    f'<p class="muted">cell {_e(label)} provides {_e(provides)}</p>'
                    f"<pre>{_e(cell.get('source'))}</pre>"
                )
        if code.get("source"):
            parts += ["<h3>The tracked cell</h3>", f"<pre>{_e(code['source'])}</pre>"]
    environment = payload.get("environment")
    if environment:
        packages = environment.get("packages") or {}
        parts += [
            "<h2>Environment</h2>",
            _table(
                [
                    ("python", environment.get("python")),
                    ("platform", environment.get("platform")),
                    ("hash", environment.get("hash")),
                ]
            ),
            f"<details><summary>{len(packages)} packages</summary>",
            _table(sorted(packages.items()), ("package", "version")),
            "</details>",
        ]
    audit = payload.get("audit") or []
    parts.append("<h2>Registry audit trail of this version</h2>")
    parts.append(
        _table(
            [
                (
                    _time(e.get("timestamp")),
                    e.get("actor"),
                    "yes" if e.get("actor_verified") else "no",
                    e.get("action"),
                    e.get("alias") or e.get("key") or "",
                    e.get("old_value") or "",
                    e.get("new_value") or "",
                )
                for e in audit
            ],
            ("time", "actor", "verified", "action", "alias/key", "old", "new"),
        )
    )
    parts.append(
        "<details><summary>The lineage as JSON</summary><pre>"
        + _e(json.dumps(payload, indent=2, default=str))
        + "</pre></details>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
