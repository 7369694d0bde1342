"""The audit log's rules: whom an `actor=` argument names, the launched-by run tags, bounded text and details.

Services call `core.services.audit_record`; this module holds what it and `runs.services.run_submit` share.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from core.permissions import SYSTEM, Actor

# Who launched a run: the actor's label ("user:alice", "token:ci", "schedule:daily", "sensor:s",
# "backfill:<id>", "system:orchestra"); set by the server on every submission, never taken from the caller.
LAUNCHED_BY_TAG = "orchestra/launched_by"
# Dagster+ tags a run a user launched with `dagster/user`; set here too, only for users.
DAGSTER_USER_TAG = "dagster/user"

ACTOR_KINDS = ("user", "token", "schedule", "sensor", "backfill", "system", "anonymous")
DETAILS_MAX_CHARS = 8_000
TEXT_MAX = 255


def as_actor(actor: Any) -> Actor:
    """The `Actor` an `actor=` argument names: an Actor as is, a Django user as that user, None as SYSTEM.

    Users are accepted so that a caller still passing `request.user` is recorded rightly.
    """
    if actor is None:
        return SYSTEM
    if isinstance(actor, Actor):
        return actor
    if getattr(actor, "is_authenticated", False) and hasattr(actor, "get_username"):
        return Actor(kind="user", name=actor.get_username(), user_id=actor.pk)
    if hasattr(actor, "is_authenticated"):
        return Actor(kind="anonymous", name="anonymous")
    raise TypeError(f"actor must be an Actor, a user or None, got {type(actor).__name__}")


def launched_by_tags(actor: Actor) -> dict[str, str]:
    """The run tags recording who launched a run."""
    tags = {LAUNCHED_BY_TAG: clean_text(actor.label, 600)}
    if actor.kind == "user":
        tags[DAGSTER_USER_TAG] = clean_text(actor.name, 600)
    return tags


def clean_text(value: Any, limit: int = TEXT_MAX) -> str:
    """`value` as text any database stores: NUL and lone surrogates backslash-escaped, cut to `limit`."""
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:limit]


def bounded_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """`details` as storable JSON of at most DETAILS_MAX_CHARS; larger details keep a truncated preview."""
    if not details:
        return {}
    clean = _clean_json(details)
    text = json.dumps(clean, ensure_ascii=False, default=str)
    if len(text) <= DETAILS_MAX_CHARS:
        return clean
    return {"truncated": True, "size": len(text), "preview": text[:DETAILS_MAX_CHARS - 200]}


def _clean_json(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return clean_text(repr(value), 200)
    if isinstance(value, Mapping):
        return {clean_text(k, 200): _clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean_json(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON (and jsonb) have no NaN or Infinity
    return clean_text(value, DETAILS_MAX_CHARS)


def cli_actor() -> Actor:
    """Who acts from a command line: the operating-system user running it."""
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container)
        return SYSTEM
    return Actor(kind="user", name=f"{name}")
