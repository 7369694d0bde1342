"""`orchestra definitions validate`: load and snapshot code locations, printing each error with its file and line."""

from __future__ import annotations

import subprocess
import sys

import click

from orchestra._cli import cli


@cli.group()
def definitions() -> None:
    """Check definitions without starting anything."""


@definitions.command()
@click.option("-f", "--python-file", type=click.Path(dir_okay=False), help="Python file with the definitions.")
@click.option("-m", "--module-name", help="Module with the definitions.")
@click.option("--package-name", help="Package with the definitions.")
@click.option("-a", "--attribute", help="Attribute holding the Definitions.")
@click.option("-d", "--working-directory", type=click.Path(file_okay=False), help="Directory put first on sys.path.")
@click.option("--location-name", help="Name of the code location.")
@click.option("-w", "--workspace", "workspace_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Workspace file (repeatable): validate each of its locations in its own Python.")
def validate(python_file: str | None, module_name: str | None, package_name: str | None, attribute: str | None,
             working_directory: str | None, location_name: str | None, workspace_files: tuple[str, ...]) -> None:
    """Load the definitions and build their snapshot; exit with status 1 on any error."""
    pointers = [v for v in (python_file, module_name, package_name) if v]
    if bool(pointers) == bool(workspace_files) or len(pointers) > 1:
        raise click.UsageError("give exactly one of -f, -m, --package-name or -w")
    if workspace_files:
        sys.exit(_validate_workspace(workspace_files))
    from orchestra._code_server.location import CodePointer, LoadedLocation, user_code_position

    pointer = CodePointer(python_file=python_file, module_name=module_name, package_name=package_name,
                          attribute=attribute, working_directory=working_directory)
    location = LoadedLocation(pointer, location_name)
    if location.load_exception is None:
        click.echo(f"Validation successful for code location {location.location_name}.")
        return
    error = location.load_error or {}
    position = user_code_position(location.load_exception)
    where = f"{position[0]}:{position[1]}: " if position else ""
    root = error
    while root.get("cause"):
        root = root["cause"]
    click.echo(f"Validation failed for code location {location.location_name}:", err=True)
    click.echo(f"{where}{root.get('message', '').strip()}", err=True)
    if root is not error:
        click.echo(f"\n{error.get('message', '').strip()}", err=True)
    sys.exit(1)


def _validate_workspace(files: tuple[str, ...]) -> int:
    # Each location is validated by its own interpreter (`executable_path`), as it would be served.
    from workspace.config import WorkspaceConfigError, load_workspace_files

    try:
        entries = load_workspace_files(files)
    except WorkspaceConfigError as exc:
        click.echo(str(exc), err=True)
        return 1
    failed = 0
    for entry in entries:
        if not entry.is_local:
            click.echo(f"Skipping code location {entry.name}: a code_server run elsewhere.")
            continue
        command = [entry.python, "-m", "orchestra", "definitions", "validate", *entry.pointer_args()]
        try:
            failed += subprocess.run(command, cwd=entry.working_directory).returncode != 0
        except OSError as exc:
            click.echo(f"Validation failed for code location {entry.name}: cannot run {entry.python}: {exc}", err=True)
            failed += 1
    return 1 if failed else 0
