"""`orchestra user create|grant|revoke|list`: users and their roles, instance-wide or per code location.

Thin over `core.services` (user_create, role_grant, role_revoke) and `core.selectors.user_list`, so a
grant made here is the same as one made in the admin.
"""

from __future__ import annotations

import getpass

import click

from orchestra._cli import cli
from orchestra._cli.job import fail

ROLES = ("viewer", "launcher", "editor", "admin")


def _django() -> None:
    from orchestra._cli.server import setup_django

    setup_django()


def _cli_actor():
    from core.permissions import Actor

    return Actor(kind="system", name=f"cli:{getpass.getuser()}")


def _user(username: str):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        fail(f"no user named {username!r}", 1)
    return user


@cli.group(name="user")
def user_group() -> None:
    """Create users and grant or revoke their roles (viewer < launcher < editor < admin)."""


@user_group.command(name="create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES, case_sensitive=False), help="Grant this role as well.")
@click.option("--location", "location_name", help="Grant --role in this code location only (default: instance-wide).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (default: generate one, printed once).")
def create_command(username: str, role: str | None, location_name: str | None, password_stdin: bool) -> None:
    """Create a user; a generated password is printed once, alone on the last line."""
    if location_name and not role:
        raise click.UsageError("--location needs --role")
    _django()
    from django.db import transaction

    from core.exceptions import InvalidInput
    from core.services import role_grant, user_create

    given = click.get_text_stream("stdin").readline().rstrip("\n") if password_stdin else None
    try:
        with transaction.atomic():
            user, password = user_create(username=username, password=given or None, actor=_cli_actor())
            if role:
                role_grant(user=user, role=role, location_name=location_name, actor=_cli_actor())
    except InvalidInput as exc:
        fail(str(exc), 1)
    scope = f" in {location_name}" if location_name else (" (instance-wide)" if role else "")
    click.echo(f"Created user {user.get_username()}" + (f", {role.lower()}{scope}" if role else ", no role yet"))
    if not given:
        click.echo("Its password (shown once):")
        click.echo(password)


@user_group.command(name="grant")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES, case_sensitive=False))
@click.option("--location", "location_name", help="Grant in this code location only (default: instance-wide).")
def grant_command(username: str, role: str, location_name: str | None) -> None:
    """Give USERNAME the role ROLE, replacing the role they held in that scope."""
    _django()
    from core.services import role_grant

    role_grant(user=_user(username), role=role, location_name=location_name, actor=_cli_actor())
    click.echo(f"{username} is now {role.lower()} " + (f"in {location_name}" if location_name else "instance-wide"))


@user_group.command(name="revoke")
@click.argument("username")
@click.option("--location", "location_name", help="Revoke the role in this code location (default: instance-wide).")
def revoke_command(username: str, location_name: str | None) -> None:
    """Take away the role USERNAME holds instance-wide (or in --location)."""
    _django()
    from core.services import role_revoke

    scope = f"in {location_name}" if location_name else "instance-wide"
    if not role_revoke(user=_user(username), location_name=location_name, actor=_cli_actor()):
        fail(f"{username} holds no role {scope}", 1)
    click.echo(f"Revoked {username}'s role {scope}")


@user_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List users with their instance-wide role and their roles per code location."""
    _django()
    from core.selectors import user_list

    rows = user_list()
    if as_json:
        import json

        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'USER':<24} {'ROLE':<10} LOCATIONS")
    for row in rows:
        locations = ", ".join(f"{name}={role}" for name, role in row["locations"].items()) or "-"
        name = row["username"] + ("" if row["active"] else " (inactive)")
        click.echo(f"{name:<24} {row['role'] or '-':<10} {locations}")
