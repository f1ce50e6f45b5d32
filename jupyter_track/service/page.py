"""The service's own page at ``/services/jupyter-track/``: the team store for people outside
JupyterLab (after the hub login), read-only, every user-provided text escaped.

It lists the experiments the visitor may read, their newest runs and the registered models,
and links into the visitor's own JupyterLab (``/hub/user-redirect/lab``) where the sidebar
shows the same store.
"""

from __future__ import annotations

import time
from typing import Any

from jupyter_server.utils import url_path_join
from tornado import template, web

from ..server.access import StoreAccess
from ..server.policy import OPEN, Policy, Principal
from ..store import ViewType

PAGE_RUNS = 50

_TEMPLATE = template.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>jupyter-track: team store</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; }
th { background: #f4f4f4; } .muted { color: #777; }
</style></head>
<body>
<h1>jupyter-track team store</h1>
<p>Signed in as <b>{{ who.name }}</b>{% if who.admin %} (manages everything){% end %}.
<a href="{{ lab_url }}">Open your JupyterLab</a>; its Track sidebar shows this store.</p>
<h2>Experiments</h2>
<table id="experiments"><tr><th>Name</th><th>Id</th><th>Runs</th></tr>
{% for e in experiments %}<tr><td>{{ e["name"] }}</td><td>{{ e["experiment_id"] }}</td>
<td>{{ e["runs"] }}</td></tr>
{% end %}</table>
<h2>Newest runs</h2>
<table id="runs"><tr><th>Run</th><th>Experiment</th><th>User</th><th>Status</th>
<th>Started (UTC)</th><th>Metrics</th></tr>
{% for r in runs %}<tr><td>{{ r["name"] }} <span class="muted">{{ r["run_id"][:8] }}</span></td>
<td>{{ r["experiment"] }}</td><td>{{ r["user"] }}</td><td>{{ r["status"] }}</td>
<td>{{ r["start"] }}</td><td>{{ r["metrics"] }}</td></tr>
{% end %}</table>
<h2>Registered models</h2>
<table id="models"><tr><th>Model</th><th>Latest version</th><th>Aliases</th></tr>
{% for m in models %}<tr><td>{{ m["name"] }}</td><td>{{ m["latest"] }}</td>
<td>{{ m["aliases"] }}</td></tr>
{% end %}</table>
</body></html>
""",
    autoescape="xhtml_escape",
)


def _fmt_time(ms: int | None) -> str:
    return "" if not ms else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def page_data(store: Any, policy: Policy, who: Principal) -> dict[str, Any]:
    """What the page shows (plain values; the template escapes them)."""
    readable = policy.readable_experiments(store, who)
    counts = store.experiment_run_counts()
    experiments = [
        e for e in store.search_experiments() if readable is None or e.experiment_id in readable
    ]
    names = {e.experiment_id: e.name for e in experiments}
    ids = list(names)
    runs = []
    if ids:
        found = store.search_runs(
            ids,
            "",
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=PAGE_RUNS,
            order_by=["attributes.start_time DESC"],
        )
        for run in found.runs:
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(run.data.metrics.items())[:4])
            runs.append(
                {
                    "name": run.info.run_name or "",
                    "run_id": run.info.run_id,
                    "experiment": names.get(run.info.experiment_id, run.info.experiment_id),
                    "user": run.info.user_id or "",
                    "status": run.info.status,
                    "start": _fmt_time(run.info.start_time),
                    "metrics": metrics,
                }
            )
    models = []
    for model in store.search_registered_models(None, 200):
        if (policy is not OPEN) and not _can_read_model(store, policy, who, model.name):
            continue
        latest = max((v.version for v in model.latest_versions), default=None)
        aliases = ", ".join(f"@{a}={v}" for a, v in sorted(model.aliases.items()))
        models.append({"name": model.name, "latest": latest or "", "aliases": aliases})
    return {
        "experiments": [
            {
                "name": e.name,
                "experiment_id": e.experiment_id,
                "runs": counts.get(e.experiment_id, 0),
            }
            for e in experiments
        ],
        "runs": runs,
        "models": models,
    }


def _can_read_model(store: Any, policy: Policy, who: Principal, name: str) -> bool:
    try:
        policy.check_model(store, who, name, "READ")
    except web.HTTPError:
        return False
    return True


class PageHandler(web.RequestHandler):
    """``GET /services/jupyter-track/``; bound to the service's hub-authenticated base."""

    access: StoreAccess
    policy: Policy

    def initialize(self, access: StoreAccess, policy: Policy = OPEN) -> None:
        self.access = access
        self.policy = policy

    @web.authenticated
    async def get(self) -> None:
        who = self._principal  # set by the host's prepare
        data = await self.access.read(page_data, self.policy, who)
        hub_prefix = self.hub_auth.hub_prefix  # e.g. /hub/
        html = _TEMPLATE.generate(
            who=who, lab_url=url_path_join(hub_prefix, "user-redirect/lab"), **data
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(html)
