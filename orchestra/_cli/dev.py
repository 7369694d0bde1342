"""`orchestra dev`: the whole deployment on one machine, as children of one command (Ctrl-C stops all)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import click

from orchestra._cli import cli
from orchestra._cli.server import run_system_checks, setup_django


@cli.command()
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address the webserver binds to.")
@click.option("-p", "--port", default=3000, show_default=True, type=int, help="Port of the webserver.")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), help="ORCHESTRA_HOME to use.")
@click.option("-w", "--workspace", "workspace_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Workspace file (repeatable). Default: workspace.yaml or pyproject.toml in the current "
                   "directory, else the bundled example.")
def dev(host: str, port: int, home: Path | None, workspace_files: tuple[str, ...]) -> None:
    """Run the webserver, the daemon (Celery beat and a worker) and the workspace's code servers."""
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
    workspace_args = " ".join(f"-w {shlex.quote(str(Path(f).resolve()))}" for f in _workspace_files(workspace_files, home_path))
    manager.add_process("code-servers", f"{python} -m orchestra workspace load --serve {workspace_args}", env=env)
    click.echo(f"Orchestra is starting at http://{host}:{port}/ (home: {home_path}). Ctrl-C stops everything.")
    manager.loop()
    sys.exit(manager.returncode)


def _workspace_files(given: tuple[str, ...], home: Path) -> list[str]:
    """The workspace files to serve: those given, the current directory's, or the bundled example's."""
    if given:
        return list(given)
    from workspace.config import find_workspace

    found = find_workspace(Path.cwd())
    if found is not None:
        return [str(found)]
    import importlib.util

    example_file = importlib.util.find_spec("orchestra._examples.quickstart").origin  # located, not imported
    example = home / "example-workspace.yaml"
    example.write_text(
        "# Written by `orchestra dev`: the bundled example, served when the current directory has no workspace.\n"
        "load_from:\n"
        f"  - python_file:\n      relative_path: {json.dumps(example_file)}\n      location_name: quickstart\n"
    )
    click.echo(f"No workspace.yaml or pyproject.toml here: serving the bundled example ({example_file}).")
    return [str(example)]


def _ensure_admin_user() -> None:
    """Create an `admin` superuser the first time, printing its generated password once."""
    from core.services import admin_user_ensure_first

    password = admin_user_ensure_first(username="admin")
    if password is not None:
        click.echo(f"Created the first admin user: admin / {password}  (shown once; change it in the admin)")
