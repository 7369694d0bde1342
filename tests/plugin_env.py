"""Pytest plugin loaded before Django: gives the test session its own ORCHESTRA_HOME.

`ORCHESTRA_TEST_STORAGE=postgres` runs the suite on the machine's PostgreSQL (database `test`,
or `ORCHESTRA_TEST_PG_URL`) and `ORCHESTRA_TEST_BROKER=redis` on its Redis; the default is SQLite
with the embedded broker — what a new user gets. The test home is written through the real
orchestra.yaml loader, so the suite also exercises the configuration path users take.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PG_URL = os.environ.get("ORCHESTRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ORCHESTRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _worker_redis_url(url: str) -> str:
    """Under pytest-xdist each worker gets its own Redis database (the next numbers, modulo 16), so one
    worker's Celery processes never take another's messages. PostgreSQL test databases are already
    per worker (pytest-django suffixes them) and SQLite homes are per process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    return f"{base}/{(int(db or 0) + int(worker[2:])) % 16}"


def _configure() -> None:
    storage = os.environ.get("ORCHESTRA_TEST_STORAGE", "sqlite")
    broker = os.environ.get("ORCHESTRA_TEST_BROKER", "embedded")
    if storage not in ("sqlite", "postgres") or broker not in ("embedded", "redis"):
        raise SystemExit(f"ORCHESTRA_TEST_STORAGE={storage!r} / ORCHESTRA_TEST_BROKER={broker!r} not understood")
    home = Path(tempfile.mkdtemp(prefix="orchestra-test-home-"))
    (home / "static_root").mkdir()
    # The suite runs as an anonymous admin (`auth: {mode: none}`); security tests switch to login mode with
    # the `login_mode` / `login_as` fixtures (tests/conftest.py).
    lines = ["auth:\n  mode: none"]
    if storage == "postgres":
        lines.append(f"storage:\n  postgres:\n    postgres_url: {PG_URL}")
    if broker == "redis":
        lines.append(f"broker:\n  url: {_worker_redis_url(REDIS_URL)}")
    (home / "orchestra.yaml").write_text("\n".join(lines) + "\n")
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")


_configure()
