"""Who may do what: the question every route asks before it reads or changes something.

A route names the permission it needs on an object (an experiment, a registered model, or a
run, whose permissions are its experiment's plus its creator's) and the host's policy answers
by returning or by raising a 403 that names the permission and the object. The routes ask the
same questions whoever serves them:

* in a personal Jupyter server the user owns the whole store: :data:`OPEN` allows everything;
* in the JupyterHub team service, :class:`jupyter_track.service.permissions.HubPolicy` answers
  from per-object grants to users and hub groups, kept in the store.

Policy methods run in the store's thread pools (they may read the store), inside the same call
as the read or write they guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

READ = "READ"
EDIT = "EDIT"
MANAGE = "MANAGE"
NO_PERMISSIONS = "NO_PERMISSIONS"
#: weakest to strongest (MLflow's names); NO_PERMISSIONS makes an object private
LEVELS = (NO_PERMISSIONS, READ, EDIT, MANAGE)


def rank(permission: str | None) -> int:
    """0 for none, then READ < EDIT < MANAGE."""
    return LEVELS.index(permission) if permission in LEVELS else 0


@dataclass(frozen=True)
class Principal:
    """An authenticated user: their name, hub groups, and whether they manage everything."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    #: the host authenticated this very person (see :mod:`jupyter_track.server.identity`)
    verified: bool = True
    #: ``authenticated``, or ``server-owner`` when a personal server attributes to its owner
    source: str = "authenticated"


class Policy(Protocol):
    """The permission checks the routes make (see the module docstring)."""

    def check_experiment(
        self, store: Any, who: Principal, experiment_id: str, need: str
    ) -> None: ...

    def check_run(self, store: Any, who: Principal, run_id: str, need: str) -> None: ...

    def check_model(self, store: Any, who: Principal, name: str, need: str) -> None: ...

    def readable_experiments(self, store: Any, who: Principal) -> set[str] | None:
        """The experiment ids ``who`` may read, or None for all of them."""
        ...

    def readable_models(self, store: Any, who: Principal) -> set[str] | None:
        """The registered-model names ``who`` may read, or None for all of them."""
        ...

    def created(self, store: Any, who: Principal, object_type: str, object_id: str) -> None:
        """``who`` just created the object (the team service grants them MANAGE)."""
        ...

    def effective(self, store: Any, who: Principal, object_type: str, object_id: str) -> str:
        """The permission ``who`` holds on the object."""
        ...

    async def authorize(self, handler: Any) -> None:
        """Before a route runs: may the handler's principal call it at all (403 if not)."""
        ...

    def check_call(
        self, store: Any, who: Principal, method: str, rule: tuple[Any, ...], bound: Any
    ) -> None:
        """A store call over HTTP (``server/store_calls.py``): raise 403 or return, possibly
        narrowing ``bound.arguments`` (a search limited to readable experiments)."""
        ...

    def filter_call(
        self,
        store: Any,
        who: Principal,
        method: str,
        rule: tuple[Any, ...],
        bound: Any,
        result: Any,
    ) -> Any:
        """A store call's result as ``who`` may see it: what they may not read left out (a
        model list), or a 403 (an experiment found by name that is private to others)."""
        ...


class OpenPolicy:
    """Everything is allowed: the personal server's user owns the store."""

    def check_experiment(self, store: Any, who: Principal, experiment_id: str, need: str) -> None:
        return None

    def check_run(self, store: Any, who: Principal, run_id: str, need: str) -> None:
        return None

    def check_model(self, store: Any, who: Principal, name: str, need: str) -> None:
        return None

    def readable_experiments(self, store: Any, who: Principal) -> set[str] | None:
        return None

    def readable_models(self, store: Any, who: Principal) -> set[str] | None:
        return None

    def created(self, store: Any, who: Principal, object_type: str, object_id: str) -> None:
        return None

    def effective(self, store: Any, who: Principal, object_type: str, object_id: str) -> str:
        return MANAGE

    async def authorize(self, handler: Any) -> None:
        return None

    def check_call(
        self, store: Any, who: Principal, method: str, rule: tuple[Any, ...], bound: Any
    ) -> None:
        return None

    def filter_call(
        self,
        store: Any,
        who: Principal,
        method: str,
        rule: tuple[Any, ...],
        bound: Any,
        result: Any,
    ) -> Any:
        return result


def visible_experiments(
    policy: Policy, store: Any, who: Principal, asked: list[str] | None
) -> list[str] | None:
    """The experiments a search may look in: the asked ones (None: all) that ``who`` may read.
    ``["-1"]`` (no experiment has that id) when none is left, so a search finds nothing
    rather than everything."""
    readable = policy.readable_experiments(store, who)
    if readable is None:
        return asked
    chosen = asked if asked is not None else sorted(readable)
    return [str(i) for i in chosen if str(i) in readable] or ["-1"]


OPEN = OpenPolicy()
