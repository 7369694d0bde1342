"""What several benchmarks share: free ports, stopping a server's process group, and filling a database
with finished runs the way the UI and API benchmarks need them (Django set up by the caller)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group of `proc` (started with start_new_session), SIGKILL it after `grace` s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def fill_runs(count: int, *, job_name: str = "three_ops", location_name: str = "bench", ago_seconds: int = 0,
              seed: int = 3) -> None:
    """`count` finished runs (SUCCESS or FAILURE), 10 s apart, the newest `ago_seconds` old, each with three
    tags (code location, one of five teams, from_ui), written in batches of 1,000."""
    import datetime
    import random
    import uuid

    from django.db import transaction

    from runs.models import Run, RunStatus, RunTag

    now = datetime.datetime.now(datetime.UTC)
    rng = random.Random(seed)
    with transaction.atomic():
        for start in range(0, count, 1000):
            batch = []
            for i in range(start, min(count, start + 1000)):
                begin = now - datetime.timedelta(seconds=(count - i) * 10 + ago_seconds)
                batch.append(Run(run_id=str(uuid.uuid4()), job_name=job_name, location_name=location_name,
                                 status=rng.choice([RunStatus.SUCCESS, RunStatus.FAILURE]), created_at=begin,
                                 updated_at=begin, started_at=begin, ended_at=begin + datetime.timedelta(seconds=3)))
            Run.objects.bulk_create(batch)
            tags = []
            for run in Run.objects.filter(run_id__in=[r.run_id for r in batch]):
                tags += [RunTag(run=run, key="dagster/code_location", value=location_name),
                         RunTag(run=run, key="team", value=f"team-{rng.randrange(5)}"),
                         RunTag(run=run, key="dagster/from_ui", value="true")]
            RunTag.objects.bulk_create(tags)


def run_child_in_fresh_home(script: str, child_args: list[str], *, pg_url: str | None, prefix: str) -> None:
    """Run `script --child <child_args>` in a new ORCHESTRA_HOME (auth none, so the pages render as the server
    serves them without a session) on SQLite, or on a PostgreSQL database `pg_url` created for it and dropped
    afterwards."""
    import sys
    import tempfile
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        home = Path(work)
        (home / "orchestra.yaml").write_text(
            "auth:\n  mode: none\n"
            + (f"storage:\n  postgres:\n    postgres_url: {pg_url}\n" if pg_url else "")
        )
        if pg_url:
            recreate_database(pg_url)
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(
            ORCHESTRA_HOME=str(home), DJANGO_SETTINGS_MODULE="orchestra_site.settings", PYTHONPATH=str(repo)
        )
        try:
            subprocess.run([sys.executable, script, "--child", *child_args], env=env, check=True, cwd=repo)
        finally:
            if pg_url:
                drop_database(pg_url)


def _admin_url_and_name(pg_url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def recreate_database(pg_url: str) -> None:
    """Drop (if there) and create the PostgreSQL database `pg_url` names, through the server's `postgres` db."""
    import psycopg

    admin, name = _admin_url_and_name(pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(pg_url: str) -> None:
    import psycopg

    admin, name = _admin_url_and_name(pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
