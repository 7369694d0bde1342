"""`orchestra dev`: the whole deployment on one machine, as children of one command (Ctrl-C stops all)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from orchestra._cli import cli
from orchestra._cli.daemon import (
    KNOWN_QUEUES,
    celery_worker_command,
    supervise_in_lean_process,
)
from orchestra._cli.server import (
    is_loopback_host,
    refuse_open_mode_off_loopback,
    run_system_checks,
    setup_django,
)
from orchestra._cli.webserver import quiet_static_warning

DEV_HOME = ".orchestra"
DEV_WORKSPACE_ENV = "ORCHESTRA_DEV_WORKSPACE_FILES"  # read by orchestra_site.asgi.dev_application


@cli.command()
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address the webserver binds to.")
@click.option("-p", "--port", default=3000, show_default=True, type=int, help="Port of the webserver.")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              help="ORCHESTRA_HOME to use. Default: $ORCHESTRA_HOME, else ./.orchestra (kept between runs).")
@click.option("-w", "--workspace", "workspace_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Workspace file (repeatable). Default: workspace.yaml or pyproject.toml in the current "
                   "directory, else the bundled example.")
@click.option("-f", "--python-file", "python_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Python file with the definitions (repeatable; one code location each).")
@click.option("-m", "--module-name", "module_names", multiple=True,
              help="Module with the definitions (repeatable; one code location each).")
@click.option("-a", "--attribute", help="Attribute holding the Definitions, with -f or -m.")
@click.option("-d", "--working-directory", type=click.Path(exists=True, file_okay=False),
              help="Directory put first on sys.path for -f/-m (default: the current directory).")
def dev(host: str, port: int, home: Path | None, workspace_files: tuple[str, ...], python_files: tuple[str, ...],
        module_names: tuple[str, ...], attribute: str | None, working_directory: str | None) -> None:
    """Run the webserver (which also supervises the code servers), the daemon (Celery beat and a worker) and the
    run-worker server."""
    if sum(bool(given) for given in (workspace_files, python_files or module_names)) > 1:
        raise click.UsageError("give either -w/--workspace files or -f/-m code locations, not both")
    if home is not None:
        os.environ["ORCHESTRA_HOME"] = str(home.resolve())
    elif not os.environ.get("ORCHESTRA_HOME"):
        os.environ["ORCHESTRA_HOME"] = str((Path.cwd() / DEV_HOME).resolve())
    from core.instance_config import instance_home

    home_path = instance_home()
    home_path.mkdir(parents=True, exist_ok=True)
    os.environ["ORCHESTRA_HOME"] = str(home_path)
    os.environ["ORCHESTRA_ENV"] = "dev"  # a developer's machine: plain-HTTP cookies, no HSTS (orchestra_site.settings)
    setup_django()
    run_system_checks()
    auth_mode = _auth_mode(host)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _ensure_admin_user()

    if python_files or module_names:
        files = [_code_workspace(home_path, python_files, module_names, attribute, working_directory)]
    else:
        files = _workspace_files(workspace_files, home_path)
    quiet_static_warning()
    # The webserver also supervises the code servers (orchestra_site.asgi.dev_application): one Django
    # process fewer than a separate `orchestra workspace load --serve`.
    os.environ[DEV_WORKSPACE_ENV] = json.dumps([str(Path(f).resolve()) for f in files])
    processes = {
        "webserver": [sys.executable, "-m", "uvicorn", "orchestra_site.asgi:dev_application", "--host", host,
                      "--port", str(port), "--log-level", "warning", "--lifespan", "on"],
        # Beat runs inside the worker (one daemon on one machine), and one pool process serves the daemon's
        # duties (short tasks; run workers are not Celery tasks here): each a Django process fewer (~45 MiB
        # PSS). Steps of a Celery-executor job share that process; `orchestra daemon --no-beat -Q steps` adds more.
        "worker": celery_worker_command(queues=KNOWN_QUEUES, concurrency=1, name="dev", embedded_beat=True),
        # Forks run workers from a warm process (runs/run_worker_server.py); launchers fall back to a
        # subprocess per run whenever it is not there.
        "run-workers": [sys.executable, "-m", "orchestra", "api", "run-worker-server"],
    }
    click.echo(f"Orchestra is starting at http://{host}:{port}/ (home: {home_path}). Ctrl-C stops everything.")
    if auth_mode == "none":
        click.echo(f"No login needed: auth mode none, served on loopback ({host}) only.")
    else:
        click.echo(f"Log in at http://{host}:{port}/login/ (auth mode login).")
    supervise_in_lean_process(processes, os.environ)


def _code_workspace(home: Path, python_files: tuple[str, ...], module_names: tuple[str, ...],
                    attribute: str | None, working_directory: str | None) -> str:
    """A workspace file in the home naming the -f/-m code locations (rewritten on every start)."""
    directory = str(Path(working_directory or Path.cwd()).resolve())
    lines = ["# Written by `orchestra dev` from its -f/-m options; rewritten on every start.", "load_from:"]
    for kind, key, values in (("python_file", "relative_path", [str(Path(f).resolve()) for f in python_files]),
                              ("python_module", "module_name", list(module_names))):
        for value in values:
            lines.append(f"  - {kind}:")
            lines.append(f"      {key}: {json.dumps(value)}")
            lines.append(f"      working_directory: {json.dumps(directory)}")
            if attribute:
                lines.append(f"      attribute: {json.dumps(attribute)}")
    path = home / "dev-workspace.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


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


def _auth_mode(host: str) -> str:
    """The webserver's auth mode, handed to it as ORCHESTRA_AUTH_MODE (read by orchestra_site.settings).

    On loopback: none, unless ORCHESTRA_AUTH_MODE or orchestra.yaml's `auth: {mode: login}` asks for
    login. Elsewhere: login; an explicit `mode: none` is refused.
    """
    from django.conf import settings

    configured = settings.INSTANCE.config.auth
    explicit = os.environ.get("ORCHESTRA_AUTH_MODE") or ("mode" in configured.model_fields_set and configured.mode)
    if is_loopback_host(host):
        mode = explicit or "none"
    else:
        refuse_open_mode_off_loopback(host)
        mode = "login"
    os.environ["ORCHESTRA_AUTH_MODE"] = settings.ORCHESTRA_AUTH_MODE = mode
    return mode


def _ensure_admin_user() -> None:
    """Create an `admin` superuser the first time, printing its generated password once."""
    from core.services import admin_user_ensure_first

    password = admin_user_ensure_first(username="admin")
    if password is not None:
        click.echo(f"Created the first admin user: admin / {password}  (shown once; change it in the admin)")
