"""`orchestra token create|list|revoke`: API tokens for clients that send `Authorization: Bearer <token>`.

Thin over `core.services` (token_create, token_revoke) and `core.selectors.token_list`, so a token made
here is the same as one made in the UI. `create` prints the plaintext once, alone on the last line.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re

import click

from orchestra._cli import cli
from orchestra._cli.job import fail

ROLES = ("viewer", "launcher", "editor", "admin")
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _django() -> None:
    from orchestra._cli.server import setup_django

    setup_django()


def _cli_actor():
    from core.permissions import Actor

    return Actor(kind="system", name=f"cli:{getpass.getuser()}")


def parse_expiry(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """`30d`, `12h`, `2w`, `90m` from `now`, or an ISO date (midnight UTC) or date-time (UTC if naive)."""
    if value is None:
        return None
    match = _DURATION.match(value.strip())
    if match:
        return now + dt.timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected a duration such as 30d, 12h, 2w, or an ISO date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _owner(username: str | None):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    if username:
        user = users.filter(username=username).first()
        if user is None:
            fail(f"no user named {username!r}", 1)
        return user
    user = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is None:
        fail("no administrator exists to own the token; pass --user or create a user first", 1)
    return user


@cli.group(name="token")
def token_group() -> None:
    """Create, list and revoke API tokens (sent as `Authorization: Bearer <token>`)."""


@token_group.command(name="create")
@click.option("--role", required=True, type=click.Choice(ROLES, case_sensitive=False), help="What the token may do.")
@click.option("--location", "location_name", help="Limit the token to one code location (default: instance-wide).")
@click.option("--expires", help="Expiry: a duration (30d, 12h, 2w) or an ISO date; default: never.")
@click.option("--name", default="cli", show_default=True, help="A name to recognise the token by in lists.")
@click.option("--user", "username", help="The user the token acts as (default: the first administrator).")
def create_command(role: str, location_name: str | None, expires: str | None, name: str, username: str | None) -> None:
    """Create a token and print it once, alone on the last line."""
    _django()
    from django.utils import timezone

    from core.exceptions import InvalidInput
    from core.services import token_create

    expires_at = parse_expiry(expires, timezone.now())
    user = _owner(username)
    try:
        token, plaintext = token_create(user=user, role=role, location_name=location_name, expires_at=expires_at,
                                        name=name, actor=_cli_actor())
    except InvalidInput as exc:
        fail(str(exc))
    scope = f"in location {token.location_name}" if token.location_name else "instance-wide"
    expiry = f"expires {token.expires_at.isoformat()}" if token.expires_at else "never expires"
    click.echo(f"Created token {token.prefix} ({token.name!r}) for user {user.get_username()}: "
               f"{token.role} {scope}, {expiry}.")
    click.echo("Store it now; it is not shown again:")
    click.echo(plaintext)


@token_group.command(name="list")
def list_command() -> None:
    """List tokens, newest first: prefix, name, user, role, location, expiry, last use and state."""
    _django()
    from django.utils import timezone

    from core.selectors import token_list

    now = timezone.now()
    rows = [("PREFIX", "NAME", "USER", "ROLE", "LOCATION", "EXPIRES", "LAST USED", "STATE")]
    for token in token_list():
        state = "revoked" if token.revoked_at else ("expired" if not token.is_active(now) else "active")
        rows.append((
            token.prefix, token.name, token.user.get_username(), token.role, token.location_name or "*",
            _when(token.expires_at), _when(token.last_used_at), state,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@token_group.command(name="revoke")
@click.argument("prefix")
def revoke_command(prefix: str) -> None:
    """Revoke the token with this prefix; clients using it are refused from then on."""
    _django()
    from core.exceptions import NotFound
    from core.services import token_revoke

    try:
        token = token_revoke(prefix=prefix, actor=_cli_actor())
    except NotFound:
        fail(f"no token with prefix {prefix!r}", 1)
    click.echo(f"Revoked token {token.prefix} ({token.name!r}).")


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
