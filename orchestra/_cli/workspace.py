"""`orchestra workspace load`: start the workspace's code servers and store and print every location's status."""

from __future__ import annotations

import sys

import click

from orchestra._cli import cli
from orchestra._cli.server import setup_django


@cli.group()
def workspace() -> None:
    """Code locations of the workspace (workspace.yaml or [tool.orchestra] in pyproject.toml)."""


@workspace.command()
@click.option("-w", "--workspace", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Workspace file (repeatable; default: found in the current directory).")
@click.option("--serve", is_flag=True, help="Keep the code servers running until interrupted.")
def load(files: tuple[str, ...], serve: bool) -> None:
    """Load every location into the instance's database and print its status (or its load error)."""
    setup_django()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("workspace_load", *[a for f in files for a in ("-w", f)], *(["--serve"] if serve else []))
    except CommandError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
