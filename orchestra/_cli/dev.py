"""`orchestra dev`: the whole deployment on one machine, as children of one command (Ctrl-C stops all)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from orchestra._cli import cli
from orchestra._cli.server import run_system_checks, setup_django


@cli.command()
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address the webserver binds to.")
@click.option("-p", "--port", default=3000, show_default=True, type=int, help="Port of the webserver.")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), help="ORCHESTRA_HOME to use.")
def dev(host: str, port: int, home: Path | None) -> None:
    """Run the webserver, the daemon (Celery beat and a worker) on SQLite and the embedded broker."""
    if home is not None:
        os.environ["ORCHESTRA_HOME"] = str(home.resolve())
    from core.instance_config import instance_home

    home_path = instance_home()
    os.environ["ORCHESTRA_HOME"] = str(home_path)
    setup_django()
    run_system_checks()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _ensure_admin_user()

    from honcho.manager import Manager

    python = sys.executable
    env = dict(os.environ)
    manager = Manager()
    manager.add_process(
        "webserver",
        f"{python} -m uvicorn orchestra_site.asgi:application --host {host} --port {port} --log-level warning",
        env=env,
    )
    manager.add_process(
        "worker",
        f"{python} -m celery -A orchestra_site -q worker -Q daemon,runs,steps,celery -c 2 -l warning -n dev@%h",
        env=env,
    )
    manager.add_process("beat", f"{python} -m celery -A orchestra_site -q beat -l warning", env=env)
    click.echo(f"Orchestra is starting at http://{host}:{port}/ (home: {home_path}). Ctrl-C stops everything.")
    manager.loop()
    sys.exit(manager.returncode)


def _ensure_admin_user() -> None:
    """Create an `admin` superuser the first time, printing its generated password once."""
    import secrets

    from django.contrib.auth import get_user_model

    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser("admin", "", password)
    click.echo(f"Created the first admin user: admin / {password}  (shown once; change it in the admin)")
