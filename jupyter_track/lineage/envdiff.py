"""Environment diff: packages added, removed or changed between two runs' environments.

``jupyter-track env-diff RUN_A RUN_B``, the compare views (sidebar and ``jt.compare``) and
``jt.environment_diff(run_a, run_b)`` all use :func:`diff_environments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..store.errors import NotFound


def diff_environments(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"python": [a, b], "platform": [a, b], "added": {name: version},
    "removed": {name: version}, "changed": {name: [a, b]}, "unchanged": n, "same": bool}``.

    ``added`` are packages in ``b`` only, ``removed`` in ``a`` only. A missing environment
    (None) is an empty one, reported in ``missing``.
    """
    packages_a = dict((a or {}).get("packages") or {})
    packages_b = dict((b or {}).get("packages") or {})
    added = {k: packages_b[k] for k in sorted(packages_b.keys() - packages_a.keys())}
    removed = {k: packages_a[k] for k in sorted(packages_a.keys() - packages_b.keys())}
    changed = {
        k: [packages_a[k], packages_b[k]]
        for k in sorted(packages_a.keys() & packages_b.keys())
        if packages_a[k] != packages_b[k]
    }
    python = [(a or {}).get("python"), (b or {}).get("python")]
    platform = [(a or {}).get("platform"), (b or {}).get("platform")]
    missing = [side for side, env in (("a", a), ("b", b)) if not env]
    return {
        "python": python,
        "platform": platform,
        "added": added,
        "removed": removed,
        "changed": changed,
        "unchanged": len(packages_a.keys() & packages_b.keys()) - len(changed),
        "same": not (added or removed or changed) and python[0] == python[1] and not missing,
        "missing": missing,
    }


def run_environment(store: Any, run: Any) -> dict[str, Any] | None:
    """The environment a run recorded (None when it recorded none)."""
    env_hash = run.info.environment
    if not env_hash:
        return None
    try:
        env: dict[str, Any] = store.get_environment(env_hash)
        return env
    except NotFound:
        return None


def run_environment_diff(store: Any, run_a: str, run_b: str) -> dict[str, Any]:
    """The environment diff of two runs (unknown ids raise ``NotFound`` naming them)."""
    first, second = store.get_run(run_a), store.get_run(run_b)
    diff = diff_environments(run_environment(store, first), run_environment(store, second))
    diff["runs"] = [run_a, run_b]
    diff["environments"] = [first.info.environment, second.info.environment]
    return diff


def format_diff(diff: Mapping[str, Any]) -> str:
    """The diff as text (the CLI's output)."""
    a, b = diff.get("runs") or ["A", "B"]
    lines = [f"environment of {a} -> {b}"]
    for side in diff.get("missing") or []:
        lines.append(f"  run {a if side == 'a' else b} recorded no environment")
    python = diff["python"]
    if python[0] != python[1]:
        lines.append(f"  python    {python[0]} -> {python[1]}")
    for name, version in diff["added"].items():
        lines.append(f"+ {name}=={version}")
    for name, version in diff["removed"].items():
        lines.append(f"- {name}=={version}")
    for name, (old, new) in diff["changed"].items():
        lines.append(f"~ {name} {old} -> {new}")
    if diff["same"]:
        lines.append("  same environment")
    else:
        lines.append(
            f"  {len(diff['added'])} added, {len(diff['removed'])} removed, "
            f"{len(diff['changed'])} changed, {diff['unchanged']} unchanged"
        )
    return "\n".join(lines)


def comparison_rows(store: Any, runs: Sequence[Any]) -> dict[str, Any]:
    """The compare view's environment section: the Python version (when it differs) and every
    package whose version is not the same in all runs (``values[i]`` for ``runs[i]``, None when
    absent), and per run the counts against the first run."""
    envs = [run_environment(store, r) for r in runs]
    packages = [dict((e or {}).get("packages") or {}) for e in envs]
    names = sorted({k for p in packages for k in p})
    rows = []
    pythons = [(e or {}).get("python") for e in envs]
    if len(set(pythons)) > 1:
        rows.append({"key": "python", "values": pythons, "differs": True})
    for name in names:
        values = [p.get(name) for p in packages]
        if len(set(values)) > 1:
            rows.append({"key": name, "values": values, "differs": True})
    against_first = [diff_environments(envs[0], e) for e in envs]
    summary = [
        {
            "added": len(d["added"]),
            "removed": len(d["removed"]),
            "changed": len(d["changed"]),
            "recorded": e is not None,
        }
        for d, e in zip(against_first, envs)
    ]
    return {"rows": rows, "summary": summary, "same": all(d["same"] for d in against_first)}
