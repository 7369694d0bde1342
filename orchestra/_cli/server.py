"""Start-up of the Django side for CLI commands: configuration errors become clean exits."""

from __future__ import annotations

import os
import sys

import click


def setup_django() -> None:
    """Configure Django from ORCHESTRA_HOME; exit with the configuration problems if it is invalid."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    from core.instance_config import InstanceConfigError, instance_home

    (instance_home() / "static_root").mkdir(parents=True, exist_ok=True)
    try:
        import django

        django.setup()
    except InstanceConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def run_system_checks() -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
