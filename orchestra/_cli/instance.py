"""`orchestra instance info|migrate`: inspect the resolved configuration and bring the schema up to date."""

from __future__ import annotations

import sys
from pathlib import Path

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
    described = resolved.describe()
    refused, described["security_warnings"] = _security_warnings()
    described["daemons"] = {"unavailable": refused} if refused else _daemon_health(resolved)
    click.echo(yaml.safe_dump(described, sort_keys=False, default_flow_style=False), nl=False)
    for warning in described["security_warnings"]:
        click.echo(f"Warning: {warning}", err=True)


def _security_warnings() -> tuple[str | None, list[str]]:
    """Why the web settings are refused (or None), and what is insecure in them (core.checks)."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        setup_django()
    except ImproperlyConfigured as exc:
        return f"settings refused: {exc}", [f"the webserver refuses these settings: {exc}"]
    from core.checks import security_warnings

    return None, security_warnings()


def _daemon_health(resolved) -> list[dict] | dict[str, str]:
    """Each daemon type's health and newest heartbeat (`runs.daemon_health`), or why it cannot be read."""
    database = resolved.database_settings()
    if database["ENGINE"].endswith("sqlite3") and not Path(database["NAME"]).exists():
        return {"unavailable": f"no database at {database['NAME']} yet; run `orchestra instance migrate`"}
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    setup_django()
    from django.conf import settings
    from django.db import DatabaseError

    settings.DATABASES["default"].setdefault("OPTIONS", {}).update(database.get("OPTIONS", {}))
    from runs.daemon_health import daemon_statuses, latest_heartbeats, required_daemon_types

    try:
        required = required_daemon_types()  # then any other type that has written a heartbeat
        types = required + sorted(set(latest_heartbeats()) - set(required))
        statuses = daemon_statuses(daemon_types=types)
    except DatabaseError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"unavailable": f"cannot read daemon heartbeats: {first_line}"}
    report = []
    for status in statuses:
        entry: dict = {"type": status.daemon_type, "required": status.required, "healthy": status.healthy}
        heartbeat = status.last_heartbeat
        entry["last_heartbeat"] = heartbeat.timestamp.isoformat() if heartbeat else None
        if heartbeat is not None:
            entry["daemon_id"] = heartbeat.daemon_id
            if heartbeat.errors:
                entry["errors"] = heartbeat.errors
        report.append(entry)
    return report


@instance.command()
def migrate() -> None:
    """Create or upgrade the database schema of the configured storage."""
    setup_django()
    run_system_checks()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
