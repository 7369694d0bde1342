"""`orchestra api ...`: commands other Orchestra processes start (run launchers start `execute-run`)."""

from __future__ import annotations

import sys

import click

from orchestra._cli import cli
from orchestra._cli.server import setup_django_worker


@cli.group()
def api() -> None:
    """Commands for Orchestra's own processes (not for everyday use)."""


@api.command("execute-run")
@click.argument("run_id")
def execute_run(run_id: str) -> None:
    """Execute the stored run RUN_ID in this process (the run worker).

    Exits 0 when the run succeeded, 1 when it failed or was canceled, 2 when it was refused (unknown,
    already finished or canceled, or claimed by another worker).
    """
    setup_django_worker()
    from runs.worker import run_worker_execute

    sys.exit(run_worker_execute(run_id=run_id))


@api.command("run-worker-server")
def run_worker_server() -> None:
    """Fork run workers on request from a warm process (started by `orchestra dev`).

    Serves the launchers of this ORCHESTRA_HOME on this host until SIGTERM or until its parent exits.
    """
    setup_django_worker()
    from django.conf import settings

    from runs.run_worker_server import serve

    serve(str(settings.ORCHESTRA_HOME))
