"""A one-node JupyterHub with the jupyter-track team service (docs/deployment.md walks through it).

Start it with ``jupyterhub -f examples/jupyterhub/jupyterhub_config.py``. The hub tests load this
same file and override only ports and folders (tests/hub/hub_test_config.py).

What it sets up:

* the team service ``jupyter-track``, hub-managed: the hub starts ``jupyter-track service`` and
  proxies it at ``/services/jupyter-track/``; its store is a SQLite file in the service's own
  folder (``JUPYTER_TRACK_SERVICE_DIR``, default ``/srv/jupyter-track``) -- point
  ``JUPYTER_TRACK_SERVICE_STORE`` at ``postgresql://...`` for a multi-node hub;
* who may use it: the role ``jupyter-track-users`` grants ``access:services!service=jupyter-track``
  to alice and to the group ``ml-team`` (bob); carol has no access; ``admin`` is a hub admin;
  ``custom:jupyter-track:admin`` lets its holders manage every experiment and model;
* what single-user servers may do with it: their API token (which kernels inherit) and the
  OAuth tokens of visiting browsers carry the service access scope, so the kernel and the
  sidebar reach the service as the user the hub says they are.

Replace the dummy authenticator and the simple spawner with your own (they are for trying
this out on one machine: every user runs as the hub's OS user).
"""

import os
import sys

c = get_config()  # type: ignore[name-defined]  # noqa: F821

SERVICE = "jupyter-track"
ADMIN_SCOPE = "custom:jupyter-track:admin"
SERVICE_PORT = int(os.environ.get("JUPYTER_TRACK_SERVICE_PORT", "10101"))
SERVICE_DIR = os.environ.get("JUPYTER_TRACK_SERVICE_DIR", "/srv/jupyter-track")

# --------------------------------------------------------------------------- users and login
c.JupyterHub.authenticator_class = "dummy"
# one shared password for every user of this demo hub (tests set their own)
c.DummyAuthenticator.password = os.environ.get("JUPYTERHUB_DUMMY_PASSWORD", "")
c.Authenticator.allowed_users = {"alice", "bob", "carol"}
c.Authenticator.admin_users = {"admin"}
c.JupyterHub.load_groups = {"ml-team": {"users": ["bob"]}}

# ------------------------------------------------------------------------- single-user servers
c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner: demo and tests only
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # kernels and the sidebar use the team service (personal store: unset it)
    "JUPYTER_TRACK_URI": "jupyterhub",
}
# $JUPYTERHUB_API_TOKEN (kernels inherit it) may call the service; the hub grants a scope only
# to users who hold it themselves, so carol's server token cannot reach the service
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={SERVICE}",
    f"read:services!service={SERVICE}",  # kernels look up the service's URL
    ADMIN_SCOPE,
]
# tokens of browsers visiting a server: the sidebar forwards the *visitor's* token
c.Spawner.oauth_client_allowed_scopes = [f"access:services!service={SERVICE}", ADMIN_SCOPE]

# ---------------------------------------------------------------------------- the service
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": [sys.executable, "-m", "jupyter_track", "service"],
        "cwd": SERVICE_DIR,
        "environment": {
            # any store URI: a SQLite file on the service's own disk, or postgresql://... (run
            # `jupyter-track db upgrade URI` once first; the password may live in ~/.pgpass)
            "JUPYTER_TRACK_SERVICE_STORE": os.environ.get(
                "JUPYTER_TRACK_SERVICE_STORE", f"sqlite:///{SERVICE_DIR}/track.db"
            ),
            # where uploaded artifacts and models are kept (the service's disk, whatever the
            # store's engine; users' pods never need it)
            "JUPYTER_TRACK_ARTIFACTS": f"{SERVICE_DIR}/track-artifacts",
            # largest artifact upload (bytes); larger ones are refused with 413
            "JUPYTER_TRACK_SERVICE_MAX_ARTIFACT_BYTES": os.environ.get(
                "JUPYTER_TRACK_SERVICE_MAX_ARTIFACT_BYTES", str(1 << 30)
            ),
        },
        "oauth_no_confirm": True,
    }
]
c.JupyterHub.custom_scopes = {
    ADMIN_SCOPE: {"description": "Manage every experiment and model in the jupyter-track service"},
}
c.JupyterHub.load_roles = [
    {
        "name": "jupyter-track-users",
        "description": "Use the team's jupyter-track service",
        "scopes": [f"access:services!service={SERVICE}", f"read:services!service={SERVICE}"],
        "users": ["alice"],
        "groups": ["ml-team"],
    },
    {
        "name": "jupyter-track-admins",
        "description": "Manage everything in the team's jupyter-track service",
        "scopes": [
            f"access:services!service={SERVICE}",
            f"read:services!service={SERVICE}",
            ADMIN_SCOPE,
        ],
        "users": ["admin"],
    },
    {
        # the service reads who is in which group and who is a hub admin
        "name": "jupyter-track-service",
        "scopes": ["read:users", "read:groups"],
        "services": [SERVICE],
    },
]
