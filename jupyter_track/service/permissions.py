"""The team service's permissions: READ, EDIT and MANAGE per experiment and registered model.

What a user holds on an object is the strongest of:

* the object's own default for everyone (a grant to ``everyone``; ``NO_PERMISSIONS`` makes an
  experiment or model private), else the service's default for its kind
  (``--default-experiment-permission``, EDIT: everyone may add runs to any experiment;
  ``--default-model-permission``, READ);
* the grants to the user and to each of their hub groups;
* MANAGE for hub admins and holders of the admin scope (``custom:jupyter-track:admin``).

The creator of an experiment or model is granted MANAGE. A run is changed, deleted or restored
only by its creator or a MANAGE holder of its experiment. Setting, moving or rolling back an
alias, editing a model or adding a version needs EDIT on the model; deleting a model or a
version needs MANAGE. A trace is its experiment's: writing one (or its tags and assessments)
needs EDIT on the experiment, reading it READ; a trace of an experiment private to others is
not even said to exist. A denial is a 403 naming the permission needed and the object.

Every route of the shared route table has one rule in :data:`RULES` (a test checks it), so a
new route cannot be served by the service without a decision about who may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..server.errors import ApiError
from ..server.policy import EDIT, MANAGE, NO_PERMISSIONS, READ, Principal, rank
from ..store import InvalidInput, NotFound, PagedList

EXPERIMENT = "experiment"
MODEL = "registered_model"


def denied(who: Principal, need: str, object_type: str, object_id: str, label: str) -> ApiError:
    """The 403 naming the permission needed and the object."""
    kind = "experiment" if object_type == EXPERIMENT else "registered model"
    return ApiError(
        403,
        "permission_denied",
        f"{who.name} needs {need} on {kind} {label}",
        permission=need,
        object={"type": object_type, "id": str(object_id)},
    )


class HubPolicy:
    """Per-object grants to users and hub groups (see the module docstring)."""

    def __init__(
        self, *, default_experiment_permission: str = EDIT, default_model_permission: str = READ
    ):
        self.defaults = {
            EXPERIMENT: default_experiment_permission,
            MODEL: default_model_permission,
        }

    # ------------------------------------------------------------------------ what is held

    def effective(self, store: Any, who: Principal, object_type: str, object_id: str) -> str:
        """The permission ``who`` holds on the object."""
        if who.admin:
            return MANAGE
        grants = store.permissions_of(who.name, who.groups, object_type, [str(object_id)])
        return self._combine(object_type, grants)

    def _combine(self, object_type: str, grants: list[Any]) -> str:
        base = self.defaults[object_type]
        best = NO_PERMISSIONS
        for grant in grants:
            if grant.principal_type == "everyone":
                base = grant.permission
            elif rank(grant.permission) > rank(best):
                best = grant.permission
        return best if rank(best) > rank(base) else base

    # ----------------------------------------------------------------------------- checks

    def check_experiment(self, store: Any, who: Principal, experiment_id: str, need: str) -> None:
        held = self.effective(store, who, EXPERIMENT, experiment_id)
        if rank(held) < rank(need):
            # the name of an experiment private to others is not told to them: its id only
            label = _experiment_label(store, experiment_id, named=rank(held) >= rank(READ))
            raise denied(who, need, EXPERIMENT, experiment_id, label)

    def check_run(self, store: Any, who: Principal, run_id: str, need: str) -> None:
        """READ: the experiment's READ. Anything else: the creator, or MANAGE on the
        experiment."""
        info = store.get_run(run_id).info
        if rank(need) <= rank(READ):
            self.check_experiment(store, who, info.experiment_id, READ)
            return
        if info.user_id == who.name:
            return
        held = self.effective(store, who, EXPERIMENT, info.experiment_id)
        if rank(held) < rank(MANAGE):
            label = _experiment_label(store, info.experiment_id, named=rank(held) >= rank(READ))
            error = denied(who, MANAGE, EXPERIMENT, info.experiment_id, label)
            error.body["message"] = (
                f"{who.name} needs MANAGE on experiment {label} to change run {run_id} "
                f"(created by {info.user_id})"
            )
            error.body["run_id"] = run_id
            raise error

    def check_trace(self, store: Any, who: Principal, trace_id: str, need: str) -> None:
        """``need`` on the experiment of the trace (a trace is its experiment's)."""
        stored = store.get_trace(trace_id, include_spans=False)
        self.check_experiment(store, who, stored.summary.experiment_id, need)

    def check_trace_records(self, store: Any, who: Principal, records: Any) -> None:
        """Writing traces: EDIT on each record's experiment (one named by name is resolved to
        its id, or created and granted to ``who`` when new) and on the experiment of a trace
        already stored under the same id (its spans would be replaced)."""
        from ..store.trace_records import TraceRecord

        if not isinstance(records, (list, tuple)) or not all(
            isinstance(r, TraceRecord) for r in records
        ):
            raise InvalidInput("write_traces: records must be a list of TraceRecord")
        for record in records:
            if record.experiment_id is None and record.experiment_name:
                found = store.get_experiment_by_name(record.experiment_name)
                if found is None:
                    record.experiment_id = store.create_experiment(record.experiment_name)
                    self.created(store, who, EXPERIMENT, record.experiment_id)
                else:
                    record.experiment_id = found.experiment_id
                record.experiment_name = None
            experiment_id = "0" if record.experiment_id is None else str(record.experiment_id)
            self.check_experiment(store, who, experiment_id, EDIT)
            if record.run_id is not None:
                self.check_run(store, who, str(record.run_id), READ)
            if store.trace_exists(record.trace_id):
                self.check_trace(store, who, record.trace_id, EDIT)

    def check_trace_delete(self, store: Any, who: Principal, args: dict[str, Any]) -> None:
        """Deleting traces: EDIT on ``experiment_id`` and on each listed trace's experiment;
        by age across every experiment (no experiment, no ids): admins only."""
        experiment_id = args.get("experiment_id")
        trace_ids = args.get("trace_ids")
        if experiment_id is not None:
            self.check_experiment(store, who, str(experiment_id), EDIT)
        if isinstance(trace_ids, (list, tuple)):
            for trace_id in trace_ids:
                if isinstance(trace_id, str) and store.trace_exists(trace_id):
                    self.check_trace(store, who, trace_id, EDIT)
        elif experiment_id is None and not who.admin:
            raise ApiError(
                403,
                "permission_denied",
                f"{who.name} may not delete traces of every experiment: name an experiment",
                permission=MANAGE,
                object={"type": "service", "id": "*"},
            )

    def can_read_trace(self, store: Any, who: Principal, trace_id: str) -> bool:
        """May ``who`` read the trace (False when it does not exist)?"""
        try:
            stored = store.get_trace(trace_id, include_spans=False)
        except NotFound:
            return False
        return self.can_read(store, who, EXPERIMENT, stored.summary.experiment_id)

    def check_model(self, store: Any, who: Principal, name: str, need: str) -> None:
        held = self.effective(store, who, MODEL, name)
        if rank(held) < rank(need):
            raise denied(who, need, MODEL, name, repr(name))

    def readable_experiments(self, store: Any, who: Principal) -> set[str] | None:
        if who.admin:
            return None
        restricted = {
            g.object_id
            for g in store.list_permissions(EXPERIMENT)
            if g.principal_type == "everyone" and rank(g.permission) < rank(READ)
        }
        if not restricted and rank(self.defaults[EXPERIMENT]) >= rank(READ):
            return None
        grants = store.permissions_of(who.name, who.groups, EXPERIMENT, None)
        by_object: dict[str, list[Any]] = {}
        for grant in grants:
            by_object.setdefault(grant.object_id, []).append(grant)
        readable = set()
        for experiment in store.search_experiments(include_deleted=True):
            held = self._combine(EXPERIMENT, by_object.get(experiment.experiment_id, []))
            if rank(held) >= rank(READ):
                readable.add(experiment.experiment_id)
        return readable

    def check_new_model(self, store: Any, who: Principal, name: str) -> None:
        """Creating a model is open to everyone, but a name taken by a model private to others
        is a 403 (not a 409 that would tell them it exists)."""
        try:
            store.get_registered_model(name)
        except NotFound:
            return
        self.check_model(store, who, name, READ)

    def readable_models(self, store: Any, who: Principal) -> set[str] | None:
        if who.admin:
            return None
        restricted = {
            g.object_id
            for g in store.list_permissions(MODEL)
            if g.principal_type == "everyone" and rank(g.permission) < rank(READ)
        }
        if not restricted and rank(self.defaults[MODEL]) >= rank(READ):
            return None
        grants = store.permissions_of(who.name, who.groups, MODEL, None)
        by_object: dict[str, list[Any]] = {}
        for grant in grants:
            by_object.setdefault(grant.object_id, []).append(grant)
        return {
            name
            for name in _model_names(store)
            if rank(self._combine(MODEL, by_object.get(name, []))) >= rank(READ)
        }

    def can_read(self, store: Any, who: Principal, object_type: str, object_id: str) -> bool:
        """May ``who`` read the experiment, registered model or run (a deleted or purged run
        counts as its experiment's, or as unreadable when it is gone)?"""
        if who.admin:
            return True
        if object_type == "run":
            try:
                info = store.get_run(object_id).info
            except NotFound:
                return False
            object_type, object_id = EXPERIMENT, info.experiment_id
        if object_type not in (EXPERIMENT, MODEL):
            return False
        return rank(self.effective(store, who, object_type, str(object_id))) >= rank(READ)

    def created(self, store: Any, who: Principal, object_type: str, object_id: str) -> None:
        store.set_permission(
            object_type, str(object_id), "user", who.name, MANAGE, actor=who.name, verified=True
        )

    def check_call(
        self, store: Any, who: Principal, method: str, rule: tuple[Any, ...], bound: Any
    ) -> None:
        kind = rule[0]
        args = bound.arguments
        if kind == "open":
            return
        if kind == "admin":
            if not who.admin:
                raise ApiError(
                    403,
                    "permission_denied",
                    f"{who.name} may not call {method}: it needs a hub admin or the admin scope",
                    permission=MANAGE,
                    object={"type": "service", "id": "*"},
                )
            return
        if kind == "run":
            self.check_run(store, who, str(args[rule[2]]), rule[1])
        elif kind == "runs":
            for run_id in args.get(rule[2]) or []:
                self.check_run(store, who, str(run_id), rule[1])
        elif kind == "experiment":
            self.check_experiment(store, who, str(args[rule[2]]), rule[1])
        elif kind == "model":
            self.check_model(store, who, str(args[rule[2]]), rule[1])
        elif kind == "search":
            self._limit_search(store, who, method, args)
        elif kind == "new_version":
            name = str(args[rule[2]])
            try:
                store.get_registered_model(name)
            except NotFound:
                return  # created with its first version (create_model=True), else the 404
            self.check_model(store, who, name, rule[1])
        elif kind == "new_model":
            self.check_new_model(store, who, str(args[rule[1]]))
        elif kind == "prefix":
            self._resolve_readable_prefix(store, who, args)
        elif kind == "model_optional":
            if args.get(rule[2]) is not None:
                self.check_model(store, who, str(args[rule[2]]), rule[1])
        elif kind == "trace":
            self.check_trace(store, who, str(args[rule[2]]), rule[1])
        elif kind == "trace_records":
            self.check_trace_records(store, who, args.get("records"))
        elif kind == "trace_delete":
            self.check_trace_delete(store, who, args)
        else:  # pragma: no cover - a rule kind this policy does not know
            raise ApiError(403, "forbidden", f"{method}: no permission rule")

    def filter_call(
        self,
        store: Any,
        who: Principal,
        method: str,
        rule: tuple[Any, ...],
        bound: Any,
        result: Any,
    ) -> Any:
        """Leave out of a call's result what ``who`` may not read (:data:`RESULT_FILTERS` of
        ``server/store_calls.py`` says what the result holds), and refuse an experiment found
        by name that they may not read."""
        from ..server.store_calls import RESULT_FILTERS

        what = RESULT_FILTERS.get(method)
        if what is None or who.admin or result is None:
            return result
        readable = self.can_read
        if what == "experiment":
            self.check_experiment(store, who, str(result.experiment_id), READ)
            return result
        if what == "experiments":
            experiments = self.readable_experiments(store, who)
            if experiments is None:
                return result
            kept = [e for e in result if e.experiment_id in experiments]
            return PagedList(kept, result.token) if isinstance(result, PagedList) else kept
        if what == "experiment_counts":
            experiments = self.readable_experiments(store, who)
            if experiments is None:
                return result
            return {k: v for k, v in result.items() if str(k) in experiments}
        if what == "models":  # registered models or model versions: by model name
            models = self.readable_models(store, who)
            if models is None:
                return result
            kept = [item for item in result if item.name in models]
            return PagedList(kept, result.token) if isinstance(result, PagedList) else kept
        if what == "model_audit":
            models = self.readable_models(store, who)
            return result if models is None else [e for e in result if e.model in models]
        if what == "model_dicts":  # [{"name", "version", "run_id"}]
            models = self.readable_models(store, who)
            return result if models is None else [d for d in result if d["name"] in models]
        if what == "run_ids":
            return [r for r in result if readable(store, who, "run", str(r))]
        if what == "runs":
            return [r for r in result if readable(store, who, "run", r.info.run_id)]
        if what == "run":
            return result if readable(store, who, "run", result.info.run_id) else None
        if what == "rows_since":  # ([(run_id, ...), ...], cursor)
            rows, cursor = result
            seen: dict[str, bool] = {}
            for row in rows:
                if row[0] not in seen:
                    seen[row[0]] = readable(store, who, "run", str(row[0]))
            return [r for r in rows if seen[r[0]]], cursor
        if what == "cell_executions":  # rows of runs they may not read are left out
            return [e for e in result if not e.run_id or readable(store, who, "run", e.run_id)]
        if what == "grants":
            return [g for g in result if readable(store, who, g.object_type, g.object_id)]
        if what == "service_audit":
            return [e for e in result if readable(store, who, e.object_type, e.object_id)]
        if what == "trace_exists":  # a trace private to others is not told to exist
            return bool(result) and self.can_read_trace(
                store, who, str(bound.arguments["trace_id"])
            )
        if what == "trace_dict":  # {trace_id: ...}
            return {k: v for k, v in result.items() if self.can_read_trace(store, who, str(k))}
        raise ApiError(403, "forbidden", f"{method}: no result filter {what!r}")  # pragma: no cover

    def _resolve_readable_prefix(self, store: Any, who: Principal, args: dict[str, Any]) -> None:
        """``resolve_run_id(prefix)`` among the runs ``who`` may read: the prefix becomes the
        one readable run's full id (runs of experiments private to others are not counted)."""
        if who.admin:
            return
        prefix = str(args.get("prefix") or "")
        matches = [
            r
            for r in store.run_ids_with_prefix(prefix, limit=50)
            if self.can_read(store, who, "run", r)
        ]
        if not matches:
            raise NotFound(f"no run id starts with {prefix!r}")
        if len(matches) > 1:
            raise InvalidInput(
                f"run id prefix {prefix!r} is ambiguous: {', '.join(sorted(matches)[:5])}"
            )
        args["prefix"] = matches[0]

    def _limit_search(self, store: Any, who: Principal, method: str, args: dict[str, Any]) -> None:
        readable = self.readable_experiments(store, who)
        if readable is None:
            return
        if "experiment_ids" not in _parameters(store, method):
            raise ApiError(
                403,
                "permission_denied",
                f"{method} is not available to {who.name} while some experiments are private",
                permission=READ,
                object={"type": EXPERIMENT, "id": "*"},
            )
        asked = args.get("experiment_ids")
        if asked is None:
            args["experiment_ids"] = sorted(readable) or ["-1"]  # no experiment: no run
            return
        for experiment_id in asked:
            if str(experiment_id) not in readable:
                self.check_experiment(store, who, str(experiment_id), READ)

    # ------------------------------------------------------------------- route-level rules

    async def authorize(self, handler: Any) -> None:
        """Apply the rule of the handler's route and method before it runs."""
        from ..server.base import NotFoundHandler

        if handler.route is NotFoundHandler:
            return  # answers 404 itself
        rule = rule_for(handler.route, handler.request.method.lower())
        if rule is None:
            raise ApiError(
                403,
                "forbidden",
                f"{handler.request.method} {handler.request.path} is not served by the team "
                "service",
            )
        check = rule(handler)
        if check is not None:
            who = handler.principal
            await handler.access.read(lambda store: check(self, store, who))


# A rule takes the handler (path arguments, query) and returns a check to run in the store's
# read pool, or None when the route itself decides (lists filtered by readable experiments,
# creation open to every user of the service).
Check = Callable[[HubPolicy, Any, Principal], None]
Rule = Callable[[Any], "Check | None"]


def _parameters(store: Any, method: str) -> set[str]:
    import inspect

    return set(inspect.signature(getattr(store, method)).parameters)


def _experiment_label(store: Any, experiment_id: str, *, named: bool = True) -> str:
    if not named:
        return f"id {experiment_id}"
    try:
        return f"{store.get_experiment(experiment_id).name!r} (id {experiment_id})"
    except NotFound:
        return f"id {experiment_id}"


def _model_names(store: Any) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = store.search_registered_models(None, 1000, None, token)
        names.extend(m.name for m in page)
        token = page.token
        if not token:
            return names


def _path(handler: Any, name: str) -> str:
    return str(handler.path_kwargs[name])


def run_rule(need: str) -> Rule:
    def rule(handler: Any) -> Check:
        run_id = _path(handler, "run_id")
        return lambda policy, store, who: policy.check_run(store, who, run_id, need)

    return rule


def runs_in_query(handler: Any) -> Check:
    from ..server.query import list_arg

    run_ids = list(dict.fromkeys(list_arg(handler, "run_ids")))

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        for run_id in run_ids:
            try:
                policy.check_run(store, who, run_id, READ)
            except NotFound:
                pass  # the route answers 404 itself

    return check


def model_rule(need: str) -> Rule:
    def rule(handler: Any) -> Check:
        name = _path(handler, "name")

        def check(policy: HubPolicy, store: Any, who: Principal) -> None:
            policy.check_model(store, who, name, need)

        return check

    return rule


def version_lineage_rule(handler: Any) -> Check:
    """A version's lineage shows its source run's cells: READ on the model and on that run."""
    name = _path(handler, "name")
    version = _path(handler, "version")

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        policy.check_model(store, who, name, READ)
        try:
            number = int(version[1:] if version[:1] in "vV" else version)
            run_id = store.get_model_version(name, number).run_id
        except (ValueError, NotFound):
            return  # the route answers 400 or 404 itself
        if run_id:
            try:
                policy.check_run(store, who, run_id, READ)
            except NotFound:
                pass  # a purged run: nothing of it to show

    return check


def new_model_rule(handler: Any) -> Check | None:
    """``POST registry/models``: open to everyone; a name taken by a private model is 403."""
    try:
        name = handler.json_body().get("name")
    except ApiError:
        return None  # the route answers 400 itself
    if not isinstance(name, str):
        return None

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        policy.check_new_model(store, who, name)

    return check


def open_rule(handler: Any) -> None:
    """Anyone with access to the service (lists filter what they return by themselves)."""
    return None


def permissions_rule(handler: Any) -> Check | None:
    """Reading grants: READ on the object; changing them: MANAGE."""
    object_type = _path(handler, "object_type")
    object_id = _path(handler, "object_id")
    need = READ if handler.request.method == "GET" else MANAGE

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        if object_type == EXPERIMENT:
            policy.check_experiment(store, who, object_id, need)
        elif object_type == MODEL:
            policy.check_model(store, who, object_id, need)
        else:
            raise ApiError(
                400,
                "bad_request",
                f"object_type {object_type!r}: must be experiment or registered_model",
            )

    return check


def runs_a_and_b(handler: Any) -> Check:
    """``env-diff?run_a=&run_b=``: READ on both runs."""
    run_ids = [handler.get_query_argument(k, "") for k in ("run_a", "run_b")]

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        for run_id in run_ids:
            if not run_id:
                continue  # the route answers 400 itself
            try:
                policy.check_run(store, who, run_id, READ)
            except NotFound:
                pass  # the route answers 404 itself

    return check


def run_in_query(handler: Any) -> Check:
    """``charts/run-metrics?run_id=``: READ on that run."""
    run_id = handler.get_query_argument("run_id", "")

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        if not run_id:
            return  # the route answers 400 itself
        try:
            policy.check_run(store, who, run_id, READ)
        except NotFound:
            pass  # the route answers 404 itself

    return check


def admins_only(handler: Any) -> Check:
    """Searches across every experiment that do not filter by permission yet (the dataset
    view): hub admins only on the team service."""

    def check(policy: HubPolicy, store: Any, who: Principal) -> None:
        if not who.admin:
            raise ApiError(
                403,
                "forbidden",
                "this search spans every experiment: on the team service only hub admins may "
                "run it",
            )

    return check


def _rules() -> dict[tuple[str, str], Rule]:
    """(route template, method) -> rule, for every route of the shared table."""
    return {
        ("/info", "get"): open_rule,
        ("/experiments", "get"): open_rule,
        ("/runs", "get"): open_rule,
        ("/runs/{run_id}", "get"): run_rule(READ),
        ("/runs/{run_id}", "patch"): run_rule(EDIT),
        ("/runs/{run_id}", "delete"): run_rule(EDIT),
        ("/runs/{run_id}/restore", "post"): run_rule(EDIT),
        ("/runs/{run_id}/artifacts", "get"): run_rule(READ),
        ("/runs/{run_id}/artifacts/file", "get"): run_rule(READ),
        ("/metrics/history", "get"): runs_in_query,
        ("/compare", "get"): runs_in_query,
        ("/cells/{cell_id}/runs", "get"): open_rule,
        ("/keys", "get"): open_rule,
        ("/charts/learning-curves", "get"): runs_in_query,
        ("/charts/parallel-coordinates", "get"): runs_in_query,
        ("/charts/scatter", "get"): runs_in_query,
        ("/charts/param-importance", "get"): runs_in_query,
        ("/charts/run-metrics", "get"): run_in_query,
        ("/registry/models", "get"): open_rule,
        ("/registry/models", "post"): new_model_rule,
        ("/registry/models/{name}", "get"): model_rule(READ),
        ("/registry/models/{name}", "patch"): model_rule(EDIT),
        ("/registry/models/{name}", "delete"): model_rule(MANAGE),
        ("/registry/models/{name}/versions", "get"): model_rule(READ),
        ("/registry/models/{name}/versions", "post"): model_rule(EDIT),
        ("/registry/models/{name}/versions/{version}", "get"): model_rule(READ),
        ("/registry/models/{name}/versions/{version}", "patch"): model_rule(EDIT),
        ("/registry/models/{name}/versions/{version}", "delete"): model_rule(MANAGE),
        ("/registry/models/{name}/aliases/{alias}", "put"): model_rule(EDIT),
        ("/registry/models/{name}/aliases/{alias}", "delete"): model_rule(EDIT),
        ("/registry/models/{name}/aliases/{alias}/rollback", "post"): model_rule(EDIT),
        ("/registry/models/{name}/aliases/{alias}/history", "get"): model_rule(READ),
        ("/registry/models/{name}/audit", "get"): model_rule(READ),
        ("/permissions/{object_type}/{object_id}", "get"): permissions_rule,
        ("/permissions/{object_type}/{object_id}", "put"): permissions_rule,
        ("/permissions/{object_type}/{object_id}", "delete"): permissions_rule,
        ("/ingest", "post"): open_rule,  # the route checks each run of the batch
        ("/store/{method}", "post"): open_rule,  # the route checks each call (store_calls.py)
        ("/runs/{run_id}/artifacts/upload", "put"): run_rule(EDIT),
        ("/runs/{run_id}/lineage", "get"): run_rule(READ),
        ("/runs/{run_id}/reproduce", "post"): run_rule(READ),
        ("/registry/models/{name}/versions/{version}/lineage", "get"): version_lineage_rule,
        ("/env-diff", "get"): runs_a_and_b,
        ("/datasets", "get"): admins_only,
        # traces: the routes ask the policy themselves (server/traces.py): a listing is limited
        # to readable experiments, reading a trace needs READ on its experiment, deleting one
        # EDIT, and OTLP ingestion EDIT on the target experiment (creators get MANAGE)
        ("/traces", "get"): open_rule,
        ("/traces/{trace_id}", "get"): open_rule,
        ("/traces/{trace_id}", "delete"): open_rule,
        ("/otlp/v1/traces", "post"): open_rule,
        # evaluation runs (server/evaluations.py): READ on each run
        ("/evaluations/{run_id}", "get"): run_rule(READ),
        ("/evaluations/compare", "get"): runs_in_query,
    }


RULES = _rules()
_TEMPLATES: dict[type, str] = {}


def rule_for(route: type, method: str) -> Rule | None:
    """The rule of a route class and HTTP method."""
    if not _TEMPLATES:
        from ..server.routes import ROUTES

        _TEMPLATES.update({cls: template for template, cls in ROUTES})
    template = _TEMPLATES.get(route)
    return None if template is None else RULES.get((template, method))
