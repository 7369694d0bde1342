"""Shared fixtures: service requirements and child processes that share the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def services_required() -> bool:
    return os.environ.get("ORCHESTRA_REQUIRE_SERVICES") == "1"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a service is absent, unless ORCHESTRA_REQUIRE_SERVICES=1 makes that a failure."""
    if reachable(host, port):
        return
    if services_required():
        pytest.fail(f"{name} is required (ORCHESTRA_REQUIRE_SERVICES=1) but {host}:{port} is unreachable")
    pytest.skip(f"{name} not reachable at {host}:{port}")


@pytest.fixture
def child_home(tmp_path, settings):
    """An ORCHESTRA_HOME whose orchestra.yaml points child processes at the *test* database and broker."""
    return write_child_home(tmp_path / "child-home")


def write_child_home(home: Path) -> Path:
    """Create `home` with an orchestra.yaml naming the test database and broker (see `child_home`)."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    home.mkdir()
    if db["ENGINE"].endswith("sqlite3"):
        db_dir = Path(db["NAME"]).parent
        # The child's settings name the file orchestra.sqlite3 in base_dir: link the test DB there.
        (db_dir / "child").mkdir(exist_ok=True)
        target = db_dir / "child" / "orchestra.sqlite3"
        if not target.exists():
            target.symlink_to(db["NAME"])
        storage = f"storage:\n  sqlite:\n    base_dir: {db_dir / 'child'}\n"
    else:
        storage = (
            "storage:\n  postgres:\n    postgres_db:\n"
            f"      username: {db['USER'] or 'postgres'}\n      password: '{db['PASSWORD']}'\n"
            f"      hostname: {db['HOST']}\n      port: {db['PORT'] or 5432}\n      db_name: {db['NAME']}\n"
        )
    broker = f"broker:\n  url: {settings.CELERY_BROKER_URL}\n" if settings.CELERY_BROKER_URL.startswith("redis") else (
        f"broker:\n  embedded:\n    base_dir: {Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']).parent}\n"
    )
    # Child webservers bind loopback and serve the suite's clients as an anonymous admin, as the suite runs.
    (home / "orchestra.yaml").write_text(storage + broker + "auth:\n  mode: none\n")
    return home


def child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ORCHESTRA_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_child(home: Path, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=child_env(home), cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


# --- security (issue #11): the suite runs in `auth: {mode: none}`; these switch a test to login mode ---


@pytest.fixture
def login_mode(settings):
    """Login mode for this test: every request needs a session user or an API token (deny by default)."""
    settings.ORCHESTRA_AUTH_MODE = "login"


@pytest.fixture
def login_as(client, login_mode, db):
    """`login_as(role, location=None, *, username=None, client=None) -> User`: log a user in with a role.

    Switches the test to login mode, creates the user (default name: `<role>-<location or all>`), grants
    `role` ("viewer", "launcher", "editor", "admin"; None for no role at all) instance-wide, or in code
    location `location` when given, through the real services, and logs it in on `client` (the pytest-django
    `client` fixture unless another Client is given, e.g. `Client(enforce_csrf_checks=True)`). Calling it
    again logs the client in as the new user.
    """
    from django.contrib.auth import get_user_model

    from core.permissions import SYSTEM
    from core.services import role_grant

    def _login_as(role: str | None, location: str | None = None, *, username: str | None = None,
                  client=client):
        name = username or f"{role or 'norole'}-{location or 'all'}"
        user, _ = get_user_model().objects.get_or_create(username=name)
        if role is not None:
            role_grant(user=user, role=role, location_name=location, actor=SYSTEM)
        client.force_login(user)
        return user

    return _login_as
