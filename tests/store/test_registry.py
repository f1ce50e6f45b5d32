"""The registry part of the store: models, versions, aliases, audit trail, rollback, CAS."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from jupyter_track.store import Conflict, FilterSyntaxError, InvalidInput, NotFound
from jupyter_track.store.interface import Store
from jupyter_track.store.registry import AliasConflict

from .storetools import failing_inserts, raw_sql


@pytest.fixture
def run_id(store: Store) -> str:
    return store.create_run("0").run_id


def _versions(store: Store, name: str, run_id: str, n: int) -> list[int]:
    return [
        store.create_model_version(
            name, f"runs:/{run_id}/model", run_id, artifact_path="model", create_model=True
        ).version
        for _ in range(n)
    ]


def test_versions_are_numbered_per_model_and_never_reused(store: Store, run_id: str) -> None:
    assert _versions(store, "a", run_id, 3) == [1, 2, 3]
    assert _versions(store, "b", run_id, 1) == [1]
    store.delete_model_version("a", 3)
    assert _versions(store, "a", run_id, 1) == [4]
    mv = store.get_model_version("a", "2")
    assert (mv.name, mv.version, mv.run_id, mv.source) == ("a", 2, run_id, f"runs:/{run_id}/model")
    assert store.get_latest_model_version("a").version == 4
    with pytest.raises(NotFound, match="has no version 3"):
        store.get_model_version("a", 3)


def test_create_model_twice_is_a_conflict(store: Store) -> None:
    store.create_registered_model("m", tags={"team": "risk"}, description="fraud")
    with pytest.raises(Conflict, match="already exists"):
        store.create_registered_model("m")
    model = store.get_registered_model("m")
    assert model.tags == {"team": "risk"}
    assert model.description == "fraud"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "must not be empty"), ("a/b", "'/'"), ("a@b", "'@'"), (" a", "spaces"), (3, "string")],
)
def test_bad_model_names(store: Store, name: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        store.create_registered_model(name)  # type: ignore[arg-type]


def test_aliases_one_version_each_and_moves(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 2)
    store.set_registered_model_alias("m", "champion", 1)
    store.set_registered_model_alias("m", "challenger", 2)
    assert store.get_aliases("m") == {"challenger": 2, "champion": 1}
    store.set_registered_model_alias("m", "champion", 2)
    assert store.get_aliases("m") == {"challenger": 2, "champion": 2}
    assert store.get_model_version_by_alias("m", "champion").version == 2
    assert store.get_model_version("m", 2).aliases == ["challenger", "champion"]
    assert store.get_model_version("m", 1).aliases == []
    assert store.get_registered_model("m").aliases == {"challenger": 2, "champion": 2}
    store.delete_registered_model_alias("m", "challenger")
    with pytest.raises(NotFound, match="no alias 'challenger'"):
        store.get_model_version_by_alias("m", "challenger")


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("v1", "reserved"),
        ("V12", "reserved"),
        ("my champion", "spaces"),
        ("a.b", "only letters"),
        ("", "empty"),
    ],
)
def test_bad_alias_names_are_rejected_and_nothing_written(
    store: Store, run_id: str, alias: str, message: str
) -> None:
    _versions(store, "m", run_id, 1)
    before = store.registry_audit("m")
    with pytest.raises(InvalidInput, match=message):
        store.set_registered_model_alias("m", alias, 1)
    assert store.get_aliases("m") == {}
    assert store.registry_audit("m") == before


def test_alias_to_unknown_model_or_version_of_another_model(store: Store, run_id: str) -> None:
    _versions(store, "a", run_id, 1)
    _versions(store, "b", run_id, 3)
    with pytest.raises(NotFound, match="registered model 'zzz' does not exist"):
        store.set_registered_model_alias("zzz", "champion", 1)
    # version 3 exists, but only in model b
    with pytest.raises(NotFound, match="registered model 'a' has no version 3"):
        store.set_registered_model_alias("a", "champion", 3)
    with pytest.raises(NotFound, match="no alias 'champion'"):
        store.delete_registered_model_alias("a", "champion")
    assert store.get_aliases("a") == {}


def test_every_change_is_audited_with_actor_and_values(store: Store, run_id: str) -> None:
    store.create_registered_model("m", actor="alice", verified=True)
    store.create_model_version("m", f"runs:/{run_id}/model", run_id, actor="alice", verified=True)
    store.create_model_version("m", f"runs:/{run_id}/model", run_id, actor="bob")
    store.set_registered_model_alias("m", "champion", 1, actor="alice", verified=True)
    store.set_registered_model_alias("m", "champion", 2, actor="bob")
    store.set_registered_model_tag("m", "team", "risk", actor="carol", verified=True)
    store.update_registered_model("m", "new text", actor="carol", verified=True)
    store.set_model_version_tag("m", 2, "validated", "yes", actor="carol", verified=True)
    store.update_model_version("m", 2, "better", actor="carol", verified=True)
    store.delete_model_version_tag("m", 2, "validated", actor="carol", verified=True)
    store.delete_registered_model_alias("m", "champion", actor="dave", verified=True)
    rows = [
        (e.actor, e.actor_verified, e.action, e.version, e.alias, e.key, e.old_value, e.new_value)
        for e in store.registry_audit("m")
    ]
    assert rows == [
        ("alice", True, "create_registered_model", None, None, None, None, "m"),
        ("alice", True, "create_model_version", 1, None, None, None, f"runs:/{run_id}/model"),
        ("bob", False, "create_model_version", 2, None, None, None, f"runs:/{run_id}/model"),
        ("alice", True, "set_alias", 1, "champion", None, None, "1"),
        ("bob", False, "set_alias", 2, "champion", None, "1", "2"),
        ("carol", True, "set_registered_model_tag", None, None, "team", None, "risk"),
        ("carol", True, "update_registered_model", None, None, "description", None, "new text"),
        ("carol", True, "set_model_version_tag", 2, None, "validated", None, "yes"),
        ("carol", True, "update_model_version", 2, None, "description", None, "better"),
        ("carol", True, "delete_model_version_tag", 2, None, "validated", "yes", None),
        ("dave", True, "delete_alias", 2, "champion", None, "2", None),
    ]
    timestamps = [e.timestamp for e in store.registry_audit("m")]
    assert timestamps == sorted(timestamps)
    assert store.registry_audit("m", newest_first=True)[0].action == "delete_alias"


def test_actor_defaults_to_the_kernel_user_unverified(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hubuser")
    store.create_registered_model("m", verified=True)  # no actor: cannot be verified
    (entry,) = store.registry_audit("m")
    assert (entry.actor, entry.actor_verified) == ("hubuser", False)


def test_audit_table_is_append_only(store: Store) -> None:
    store.create_registered_model("m", actor="alice")
    with pytest.raises(Exception, match="append-only: UPDATE"):
        raw_sql(store, "UPDATE registry_audit SET actor = 'mallory'")
    with pytest.raises(Exception, match="append-only: DELETE"):
        raw_sql(store, "DELETE FROM registry_audit")
    if store.engine != "sqlite":  # SQLite has no TRUNCATE
        with pytest.raises(Exception, match="append-only: TRUNCATE"):
            raw_sql(store, "TRUNCATE registry_audit")
    assert [e.actor for e in store.registry_audit("m")] == ["alice"]


def test_change_and_audit_row_are_one_transaction(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 2)
    store.set_registered_model_alias("m", "champion", 1)
    with failing_inserts(store, "registry_audit", "audit insert failed"):
        with pytest.raises(Exception, match="audit insert failed"):
            store.set_registered_model_alias("m", "champion", 2)
        with pytest.raises(Exception, match="audit insert failed"):
            store.create_model_version("m", f"runs:/{run_id}/model", run_id)
    # neither change survived without its audit row
    assert store.get_aliases("m") == {"champion": 1}
    assert store.get_latest_model_version("m").version == 2


def test_compare_and_set_names_the_current_version(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 3)
    store.set_registered_model_alias("m", "champion", 1, expected_version=None)
    store.set_registered_model_alias("m", "champion", 2, expected_version=1)
    before = store.registry_audit("m")
    with pytest.raises(AliasConflict, match="now points to version 2") as info:
        store.set_registered_model_alias("m", "champion", 3, expected_version=1)
    assert info.value.current_version == 2
    assert isinstance(info.value, Conflict)
    with pytest.raises(AliasConflict, match="now points to version 2"):
        store.set_registered_model_alias("m", "champion", 3, expected_version=None)
    with pytest.raises(AliasConflict, match="is not set now"):
        store.set_registered_model_alias("m", "challenger", 3, expected_version=2)
    with pytest.raises(AliasConflict, match="now points to version 2"):
        store.delete_registered_model_alias("m", "champion", expected_version=3)
    with pytest.raises(AliasConflict, match="now points to version 2"):
        store.rollback_alias("m", "champion", expected_version=1)
    assert store.get_aliases("m") == {"champion": 2}
    assert store.registry_audit("m") == before


def test_setting_the_same_version_again_logs_nothing(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 1)
    store.set_registered_model_alias("m", "champion", 1)
    n = len(store.registry_audit("m"))
    store.set_registered_model_alias("m", "champion", 1)
    assert len(store.registry_audit("m")) == n


def test_rollback_steps_back_through_history(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 3)
    with pytest.raises(NotFound):
        store.rollback_alias("m", "champion")  # never set: nothing to roll back
    store.set_registered_model_alias("m", "champion", 1)
    with pytest.raises(InvalidInput, match="no earlier version"):
        store.rollback_alias("m", "champion")
    store.set_registered_model_alias("m", "champion", 2)
    store.set_registered_model_alias("m", "champion", 3)
    assert store.rollback_alias("m", "champion", actor="ops", verified=True).version == 2
    assert store.get_aliases("m") == {"champion": 2}
    assert store.rollback_alias("m", "champion").version == 1
    with pytest.raises(InvalidInput, match="no earlier version"):
        store.rollback_alias("m", "champion")
    history = store.alias_history("m", "champion")
    assert [(e.action, e.old_value, e.new_value) for e in history] == [
        ("set_alias", None, "1"),
        ("set_alias", "1", "2"),
        ("set_alias", "2", "3"),
        ("rollback_alias", "3", "2"),
        ("rollback_alias", "2", "1"),
    ]
    assert (history[3].actor, history[3].actor_verified) == ("ops", True)


def test_rollback_after_a_new_move_and_skips_deleted_versions(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 4)
    for v in (1, 2, 3):
        store.set_registered_model_alias("m", "champion", v)
    assert store.rollback_alias("m", "champion").version == 2
    store.set_registered_model_alias("m", "champion", 4)
    assert store.rollback_alias("m", "champion").version == 2  # undo the move to 4
    store.set_registered_model_alias("m", "champion", 3)
    store.delete_model_version("m", 2)  # also removes the alias (audited)
    assert store.get_aliases("m") == {"champion": 3}
    assert store.rollback_alias("m", "champion").version == 1  # 2 is gone


def test_rollback_restores_a_deleted_alias(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 2)
    store.set_registered_model_alias("m", "champion", 2)
    store.delete_registered_model_alias("m", "champion")
    assert store.rollback_alias("m", "champion").version == 2
    assert store.get_aliases("m") == {"champion": 2}


def test_delete_version_removes_its_aliases_with_audit(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 2)
    store.set_registered_model_alias("m", "champion", 2)
    store.set_registered_model_alias("m", "challenger", 1)
    store.delete_model_version("m", 2, actor="alice")
    assert store.get_aliases("m") == {"challenger": 1}
    last = store.registry_audit("m")[-2:]
    assert [(e.action, e.alias, e.old_value) for e in last] == [
        ("delete_alias", "champion", "2"),
        ("delete_model_version", None, "2"),
    ]


def test_delete_registered_model_keeps_the_audit(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 2)
    store.set_registered_model_alias("m", "champion", 2)
    store.delete_registered_model("m", actor="alice")
    with pytest.raises(NotFound):
        store.get_registered_model("m")
    actions = [e.action for e in store.registry_audit("m")]
    assert actions[-4:] == [
        "delete_alias",
        "delete_model_version",
        "delete_model_version",
        "delete_registered_model",
    ]
    assert [e.action for e in store.alias_history("m", "champion")] == ["set_alias", "delete_alias"]
    # the name can be reused; the old alias history does not leak into rollbacks
    _versions(store, "m", run_id, 1)
    store.set_registered_model_alias("m", "champion", 1)
    with pytest.raises(InvalidInput, match="no earlier version"):
        store.rollback_alias("m", "champion")


def test_create_version_failure_writes_nothing(store: Store) -> None:
    with pytest.raises(NotFound, match="run 'nope' does not exist"):
        store.create_model_version("m", "runs:/nope/model", "nope", create_model=True)
    with pytest.raises(NotFound):
        store.get_registered_model("m")
    assert store.registry_audit("m") == []
    with pytest.raises(NotFound, match="registered model 'm' does not exist"):
        store.create_model_version("m", "runs:/x/model")


def test_search_registered_models(store: Store, run_id: str) -> None:
    for name, team in (("fraud-a", "risk"), ("fraud-b", "growth"), ("churn", "risk")):
        store.create_registered_model(name, tags={"team": team})
    store.create_model_version("churn", "s", run_id)
    store.set_registered_model_alias("churn", "champion", 1)
    names = lambda page: [m.name for m in page]  # noqa: E731
    assert names(store.search_registered_models()) == ["churn", "fraud-a", "fraud-b"]
    assert names(store.search_registered_models("name LIKE 'fraud%'")) == ["fraud-a", "fraud-b"]
    assert names(store.search_registered_models("name LIKE 'FRAUD%'")) == []
    assert names(store.search_registered_models("name ILIKE 'FRAUD%'")) == ["fraud-a", "fraud-b"]
    assert names(store.search_registered_models("tags.team = 'risk'")) == ["churn", "fraud-a"]
    assert names(store.search_registered_models("tags.team = 'risk' AND name != 'churn'")) == [
        "fraud-a"
    ]
    assert names(store.search_registered_models("alias = 'champion'")) == ["churn"]
    assert names(store.search_registered_models(order_by=["name DESC"])) == [
        "fraud-b",
        "fraud-a",
        "churn",
    ]
    first = store.search_registered_models(max_results=2)
    assert names(first) == ["churn", "fraud-a"]
    assert first.token is not None
    second = store.search_registered_models(max_results=2, page_token=first.token)
    assert names(second) == ["fraud-b"]
    assert second.token is None
    assert store.search_registered_models("name = 'churn'")[0].latest_versions[0].version == 1
    # user text goes into parameters, never into the SQL
    assert names(store.search_registered_models("name = 'x'' OR 1=1 --'")) == []
    with pytest.raises(FilterSyntaxError, match=r"an attribute .*found 'colour'") as err:
        store.search_registered_models("colour = 'red'")
    assert err.value.position == 0
    with pytest.raises(InvalidInput, match="expected a quoted string") as err:
        store.search_registered_models("name = ")
    assert err.value.position == 7
    # the one filter language: OR, NOT and parentheses work here too
    assert names(store.search_registered_models("name = 'churn' OR tags.team = 'growth'")) == [
        "churn",
        "fraud-b",
    ]
    assert names(store.search_registered_models("NOT (name LIKE 'fraud%')")) == ["churn"]
    assert names(store.search_registered_models("alias IS NULL")) == ["fraud-a", "fraud-b"]


def test_search_model_versions(store: Store, run_id: str) -> None:
    other = store.create_run("0").run_id
    _versions(store, "a", run_id, 3)
    store.create_model_version("b", f"runs:/{other}/model", other, create_model=True)
    store.set_model_version_tag("a", 2, "validated", "yes")
    store.set_registered_model_alias("a", "champion", 3)
    pairs = lambda page: [(v.name, v.version) for v in page]  # noqa: E731
    assert pairs(store.search_model_versions("name = 'a'")) == [("a", 3), ("a", 2), ("a", 1)]
    assert pairs(store.search_model_versions(f"run_id = '{other}'")) == [("b", 1)]
    assert pairs(store.search_model_versions(f"run_id IN ('{other}', 'zz')")) == [("b", 1)]
    assert pairs(store.search_model_versions("name = 'a' AND version >= 2")) == [("a", 3), ("a", 2)]
    assert pairs(store.search_model_versions("tags.validated = 'yes'")) == [("a", 2)]
    assert pairs(store.search_model_versions("alias = 'champion'")) == [("a", 3)]
    assert pairs(store.search_model_versions("name = 'a'", order_by=["version_number ASC"])) == [
        ("a", 1),
        ("a", 2),
        ("a", 3),
    ]
    with pytest.raises(FilterSyntaxError, match=r"a number to compare attributes\.version"):
        store.search_model_versions("version = 'three'")
    assert pairs(
        store.search_model_versions("(name = 'a' AND version < 2) OR alias = 'champion'")
    ) == [("a", 3), ("a", 1)]
    assert pairs(store.search_model_versions("name = 'a' AND NOT tags.validated IS NULL")) == [
        ("a", 2)
    ]


def test_atomically_a_change_and_its_answer_see_no_other_writer(
    store: Store, reopen: Any, run_id: str
) -> None:
    """``Store.atomically``: another writer's move of the same alias, started between our
    change and our read-back, waits for our commit -- the answer shows our version, and the
    other move lands after it (the REST registry routes build their answers this way)."""
    _versions(store, "m", run_id, 3)
    store.set_registered_model_alias("m", "champion", 1)
    other = reopen(store)
    other.get_registered_model("m")  # connected before the race
    moved = threading.Event()
    errors: list[BaseException] = []

    def move() -> None:
        try:
            other.set_registered_model_alias("m", "champion", 3)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        moved.set()

    def work(s: Store) -> dict[str, Any]:
        s.set_registered_model_alias("m", "champion", 2, expected_version=1)
        thread.start()
        moved_meanwhile = moved.wait(0.5)  # it cannot: our change is not committed
        return {"aliases": s.get_registered_model("m").aliases, "moved": moved_meanwhile}

    thread = threading.Thread(target=move)
    answer = store.atomically(work)
    thread.join(30)
    assert not errors
    assert answer == {"aliases": {"champion": 2}, "moved": False}
    assert store.get_registered_model("m").aliases == {"champion": 3}
    moves = [e.new_value for e in store.alias_history("m", "champion")]
    assert moves[-2:] == ["2", "3"]  # oldest first: ours, then the other writer's


def test_atomically_undoes_everything_when_the_answer_fails(store: Store, run_id: str) -> None:
    _versions(store, "m", run_id, 2)

    def work(s: Store) -> None:
        s.set_registered_model_alias("m", "champion", 2)
        s.get_model_version("m", 9)  # NotFound after the change: nothing of it stays

    with pytest.raises(NotFound):
        store.atomically(work)
    assert store.get_registered_model("m").aliases == {}
    assert store.alias_history("m", "champion") == []
