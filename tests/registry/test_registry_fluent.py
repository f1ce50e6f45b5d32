"""The registry through jt.* and TrackClient: register, aliases, load by alias, rollback, audit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import jupyter_track as jt
from jupyter_track.store import Conflict, InvalidInput, NotFound
from jupyter_track.store.registry import AliasConflict


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture
def two_versions(iris: tuple[pd.DataFrame, pd.Series]) -> tuple[object, object]:
    """Versions 1 (logistic regression) and 2 (a depth-1 tree) of model 'iris'."""
    X, y = iris
    v1 = LogisticRegression(max_iter=500).fit(X, y)
    v2 = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    with jt.start_run():
        info = jt.log_model(v1, "model", input_example=X.head(3), registered_model_name="iris")
    assert info.registered_model_version == 1
    with jt.start_run():
        info2 = jt.log_model(v2, "model", input_example=X.head(3))
    mv = jt.register_model(info2.model_uri, "iris", tags={"algo": "tree"})
    assert mv.version == 2
    assert mv.tags == {"algo": "tree"}
    return v1, v2


def test_every_model_name_is_exported() -> None:
    for name in jt._MODEL_NAMES:
        assert getattr(jt, name) is not None, name
        assert name in jt.__all__


def test_load_by_version_latest_and_alias(
    iris: tuple[pd.DataFrame, pd.Series], two_versions: tuple[object, object]
) -> None:
    X, _ = iris
    v1, v2 = two_versions
    rows = X.iloc[[0, 60, 120]]
    jt.set_registered_model_alias("iris", "champion", 1)
    jt.set_registered_model_alias("iris", "challenger", 2)
    np.testing.assert_array_equal(
        jt.load_model("models:/iris/1").predict(rows),
        v1.predict(rows),  # type: ignore[attr-defined]
    )
    np.testing.assert_array_equal(
        jt.load_model("models:/iris/latest").predict(rows),
        v2.predict(rows),  # type: ignore[attr-defined]
    )
    champion = jt.load_model("models:/iris@champion")
    assert (champion.name, champion.version, champion.alias) == ("iris", 1, "champion")
    np.testing.assert_array_equal(champion.predict(rows), v1.predict(rows))  # type: ignore[attr-defined]
    assert jt.get_model_version_by_alias("iris", "challenger").version == 2
    model = jt.get_registered_model("iris")
    assert model.aliases == {"challenger": 2, "champion": 1}
    assert model.latest_versions[0].version == 2


def test_register_bad_input_writes_nothing(
    iris: tuple[pd.DataFrame, pd.Series], two_versions: tuple[object, object]
) -> None:
    with jt.start_run() as run:
        jt.log_param("x", 1)  # a run without any model
    before = jt.registry_audit()
    with pytest.raises(NotFound, match=r"has no model artifact 'model' \(it has no logged models"):
        jt.register_model(f"runs:/{run.info.run_id}/model", "fresh")
    with pytest.raises(NotFound, match="run 'nope' does not exist"):
        jt.register_model("runs:/nope/model", "fresh")
    with pytest.raises(InvalidInput, match="register a model logged in a run"):
        jt.register_model(str(jt.load_model("models:/iris/1").path), "fresh")
    with pytest.raises(InvalidInput, match="model name 'a/b'"):
        jt.register_model("models:/iris/1", "a/b")
    assert jt.search_registered_models(filter_string="name = 'fresh'") == []
    assert jt.registry_audit() == before
    with pytest.raises(NotFound, match="registered model 'iris' has no version 7"):
        jt.set_registered_model_alias("iris", "champion", 7)
    with pytest.raises(NotFound, match="has no alias 'nope'"):
        jt.load_model("models:/iris@nope")
    with pytest.raises(InvalidInput, match="spaces"):
        jt.set_registered_model_alias("iris", "new champ", 1)
    with pytest.raises(InvalidInput, match="reserved"):
        jt.set_registered_model_alias("iris", "v2", 1)
    assert jt.registry_audit() == before


def test_register_from_another_version_reuses_its_files(
    iris: tuple[pd.DataFrame, pd.Series], two_versions: tuple[object, object]
) -> None:
    X, _ = iris
    mv = jt.register_model("models:/iris/2", "iris-prod")
    assert (mv.name, mv.version) == ("iris-prod", 1)
    assert mv.source == jt.get_model_version("iris", 2).source
    np.testing.assert_array_equal(
        jt.load_model("models:/iris-prod/1").predict(X.head(3)),
        jt.load_model("models:/iris/2").predict(X.head(3)),
    )


def test_promote_rollback_and_history(two_versions: tuple[object, object]) -> None:
    jt.set_registered_model_alias("iris", "champion", 1)
    jt.set_registered_model_alias("iris", "champion", 2)  # promote
    assert jt.load_model("models:/iris@champion").version == 2
    restored = jt.rollback_alias("iris", "champion")
    assert restored.version == 1
    assert jt.load_model("models:/iris@champion").version == 1
    history = jt.alias_history("iris", "champion")
    assert [(e.action, e.old_value, e.new_value) for e in history] == [
        ("set_alias", None, "1"),
        ("set_alias", "1", "2"),
        ("rollback_alias", "2", "1"),
    ]
    from jupyter_track import provenance

    user, _ = provenance.current_user()
    assert {e.actor for e in history} == {user}
    assert not any(e.actor_verified for e in history)  # kernel side: never verified
    with pytest.raises(AliasConflict, match="now points to version 1"):
        jt.set_registered_model_alias("iris", "champion", 2, expected_version=2)


def test_tags_descriptions_search_and_delete(two_versions: tuple[object, object]) -> None:
    jt.update_registered_model("iris", "Iris species classifier")
    jt.set_registered_model_tag("iris", "team", "botany")
    jt.update_model_version("iris", 1, "baseline")
    jt.set_model_version_tag("iris", 1, "validated", "yes")
    model = jt.get_registered_model("iris")
    assert (model.description, model.tags) == ("Iris species classifier", {"team": "botany"})
    assert jt.get_model_version("iris", 1).description == "baseline"
    assert [m.name for m in jt.search_registered_models(filter_string="tags.team = 'botany'")] == [
        "iris"
    ]
    assert [
        v.version for v in jt.search_model_versions(filter_string="tags.validated = 'yes'")
    ] == [1]
    assert [v.version for v in jt.search_model_versions(filter_string="name = 'iris'")] == [2, 1]
    jt.delete_model_version_tag("iris", 1, "validated")
    jt.delete_registered_model_tag("iris", "team")
    assert jt.get_registered_model("iris").tags == {}
    jt.set_registered_model_alias("iris", "champion", 2)
    jt.delete_registered_model_alias("iris", "champion")
    with pytest.raises(NotFound):
        jt.get_model_version_by_alias("iris", "champion")
    jt.delete_model_version("iris", 1)
    with pytest.raises(NotFound):
        jt.get_model_version("iris", 1)
    jt.delete_registered_model("iris")
    with pytest.raises(NotFound):
        jt.get_registered_model("iris")
    actions = [e.action for e in jt.registry_audit("iris")]
    assert actions[-1] == "delete_registered_model"
    assert "update_registered_model" in actions and "set_model_version_tag" in actions


def test_track_client_registry_methods(
    iris: tuple[pd.DataFrame, pd.Series], two_versions: tuple[object, object]
) -> None:
    X, _ = iris
    client = jt.TrackClient()
    with pytest.raises(Conflict):
        client.create_registered_model("iris")
    client.create_registered_model("other", tags={"k": "v"}, description="d")
    source = client.get_model_version("iris", 1).source
    run_id = client.get_model_version("iris", 1).run_id
    mv = client.create_model_version("other", source, run_id=run_id, description="copied")
    assert (mv.name, mv.version, mv.description) == ("other", 1, "copied")
    # any source string is kept and is the download URI (MLflow's); a folder inside the run's
    # artifacts (MLflow passes those) is also recorded as the version's folder
    v2_run = client.get_model_version("iris", 2).run_id
    assert client.get_model_version_download_uri("iris", 2) == f"runs:/{v2_run}/model"
    folder = str(client.store.artifact_dir(v2_run) / "model")
    mv2 = client.create_model_version("other", folder, run_id=v2_run)
    assert (mv2.source, mv2.artifact_path) == (folder, "model")
    assert client.get_model_version_download_uri("other", mv2.version) == folder
    client.load_model(f"models:/other/{mv2.version}").predict(X.head(2))
    with pytest.raises(NotFound, match="registered model 'ghost' does not exist"):
        client.create_model_version("ghost", source, run_id=run_id)
    client.set_registered_model_alias("other", "champion", 1)
    client.set_registered_model_alias("other", "champion", 2, expected_version=1)
    assert client.get_model_version_by_alias("other", "champion").version == 2
    assert client.rollback_alias("other", "champion").version == 1
    assert [e.action for e in client.alias_history("other", "champion")] == [
        "set_alias",
        "set_alias",
        "rollback_alias",
    ]
    page = client.search_registered_models(max_results=1)
    assert [m.name for m in page] == ["iris"]
    assert [m.name for m in client.search_registered_models(page_token=page.token)] == ["other"]
    assert client.get_latest_version("other").version == 2
    np.testing.assert_array_equal(
        client.load_model("models:/other@champion").predict(X.head(2)),
        jt.load_model("models:/iris/1").predict(X.head(2)),
    )
    client.delete_registered_model_alias("other", "champion")
    client.delete_registered_model("other")
    assert [m.name for m in client.search_registered_models()] == ["iris"]
