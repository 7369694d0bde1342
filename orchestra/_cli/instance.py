"""`orchestra instance info|migrate`: inspect the resolved configuration and bring the schema up to date."""

from __future__ import annotations

import sys

import click

from orchestra._cli import cli
from orchestra._cli.server import run_system_checks, setup_django


@cli.group()
def instance() -> None:
    """Inspect and maintain the instance in $ORCHESTRA_HOME."""


@instance.command()
def info() -> None:
    """Print the resolved instance configuration (secrets masked)."""
    import yaml

    from core.instance_config import InstanceConfigError, load_instance

    try:
        resolved = load_instance()
    except InstanceConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(yaml.safe_dump(resolved.describe(), sort_keys=False, default_flow_style=False), nl=False)


@instance.command()
def migrate() -> None:
    """Create or upgrade the database schema of the configured storage."""
    setup_django()
    run_system_checks()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
