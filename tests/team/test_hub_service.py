"""The team service behind a real JupyterHub: identity, access, the page, the route rules.

One hub (``hub`` fixture, session-wide: started once for every hub test module) configured by
``examples/jupyterhub/jupyterhub_config.py``; see ``hubtools.py``.
"""

from __future__ import annotations

import re

import httpx
import pytest

from jupyter_track.server.routes import ROUTES, methods
from jupyter_track.service.permissions import RULES


def test_every_route_has_a_permission_rule() -> None:
    served = {(template, method) for template, handler in ROUTES for method in methods(handler)}
    missing = served - set(RULES)
    assert not missing, f"routes without a rule in service/permissions.py: {sorted(missing)}"


def test_the_user_is_the_one_the_hub_names_for_the_token(hub) -> None:
    for user in ("alice", "bob", "admin"):
        r = hub.service("GET", "info", user)
        assert r.status_code == 200, r.text
        assert r.json()["user"] == user


def test_a_user_without_the_service_scope_gets_403_everywhere(hub) -> None:
    for template, handler in ROUTES:
        path = re.sub(r"\{(\w+)\}", "x", template)
        for method in methods(handler):
            r = hub.service(method.upper(), path, "carol")
            assert r.status_code == 403, (method, template, r.status_code, r.text)
            body = r.json()
            assert body["error"] == "forbidden"
            assert "access:services!service=jupyter-track" in body["message"]


@pytest.mark.parametrize("header", ["token not-a-token", "bearer x", ""])
def test_requests_without_a_valid_hub_token_get_403(hub, header: str) -> None:
    r = httpx.get(hub.service_url + "api/info", headers={"Authorization": header} if header else {})
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


def test_unknown_api_paths_are_404_in_the_error_shape(hub) -> None:
    r = hub.service("GET", "no/such/route", "alice")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_the_page_logs_in_through_the_hub_and_escapes_user_text(hub) -> None:
    anonymous = httpx.get(hub.service_url, follow_redirects=False)
    assert anonymous.status_code == 302
    assert "/hub/api/oauth2/authorize" in anonymous.headers["location"]

    name = "<img src=x onerror=alert(1)>fraud"
    created = hub.service("POST", "registry/models", "alice", json={"name": name})
    assert created.status_code in (200, 201), created.text

    browser = hub.login("alice")
    page = browser.get(hub.service_url)
    browser.close()
    assert page.status_code == 200, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Signed in as <b>alice</b>" in page.text
    assert name not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;fraud" in page.text
    assert "/hub/user-redirect/lab" in page.text


def test_carol_cannot_open_the_page(hub) -> None:
    browser = hub.login("carol")
    page = browser.get(hub.service_url)
    browser.close()
    assert page.status_code == 403
