"""Reads of core's own rows: the audit log, filtered and paged newest first by id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.exceptions import InvalidInput
from core.models import ApiToken, AuditEntry
from core.permissions import Permission, Role, has_permission

AUDIT_PAGE_MAX = 500


@dataclass(frozen=True)
class AuditFilter:
    """Every given field must match. `actor` is a label ("user:alice") or a kind alone ("schedule")."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    location_name: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_entries(*, filters: AuditFilter | None = None, before_id: int | None = None, limit: int = 50
                  ) -> list[AuditEntry]:
    """Audit entries matching `filters`, newest first, older than entry `before_id` (the cursor).

    One query whatever the page size or filters.
    """
    if limit < 1 or limit > AUDIT_PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {AUDIT_PAGE_MAX}, got {limit}")
    qs = AuditEntry.objects.all()
    f = filters or AuditFilter()
    if f.actor:
        kind, sep, name = f.actor.partition(":")
        qs = qs.filter(actor_kind=kind, actor_name=name) if sep else qs.filter(actor_kind=kind)
    if f.action:
        # "run." selects every run action; anything else is one action.
        qs = qs.filter(action__startswith=f.action) if f.action.endswith(".") else qs.filter(action=f.action)
    if f.target_type:
        qs = qs.filter(target_type=f.target_type)
    if f.target_id:
        qs = qs.filter(target_id=f.target_id)
    if f.location_name:
        qs = qs.filter(location_name=f.location_name)
    if f.since is not None:
        qs = qs.filter(created_at__gte=f.since)
    if f.until is not None:
        qs = qs.filter(created_at__lt=f.until)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    return list(qs.order_by("-id")[:limit])


class TokenRefused(Exception):
    """A presented API token is unknown, malformed, revoked, expired or its user inactive."""


def token_authenticate(*, plaintext: str) -> ApiToken:
    """The active `ApiToken` (with its user) whose secret is `plaintext`, else TokenRefused saying why.

    The row is found by its public prefix and the secret checked by a constant-time compare of hashes.
    """
    import hmac

    from django.utils import timezone

    scheme, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != ApiToken.SCHEME or not prefix or not secret:
        raise TokenRefused("malformed token")
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, ApiToken.hash_plaintext(plaintext)):
        raise TokenRefused("unknown token")
    if token.revoked_at is not None:
        raise TokenRefused("token revoked")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise TokenRefused("token expired")
    if not token.user.is_active:
        raise TokenRefused("the token's user is inactive")
    return token


def token_list(*, user=None) -> list[ApiToken]:
    """API tokens, newest first, with their users (one query); only `user`'s when given."""
    tokens = ApiToken.objects.select_related("user")
    if user is not None:
        tokens = tokens.filter(user=user)
    return list(tokens)


# --- roles: what the caller may do, who holds which role ---


def permissions_for(*, request: Any, location: str | None = None) -> dict[Permission, bool]:
    """Every permission and whether the caller of `request` holds it (in `location`, else instance-wide).

    Keys are Dagster's permission names, so GraphQL `permissions` can answer them as they are.
    """
    return {permission: has_permission(request, permission, location) for permission in Permission}


def user_list() -> list[dict[str, Any]]:
    """Users with their instance-wide role and roles per code location (three queries)."""
    from django.contrib.auth import get_user_model

    labels = [role.label for role in Role]
    users = get_user_model().objects.order_by("username").prefetch_related("groups", "location_roles")
    rows = []
    for user in users:
        held = [Role.parse(g.name) for g in user.groups.all() if g.name in labels]
        instance = Role.ADMIN if user.is_superuser else max(held, default=None)
        rows.append({
            "username": user.username,
            "active": user.is_active,
            "role": instance.label if instance else None,
            "locations": {grant.location_name: grant.role for grant in user.location_roles.all()},
        })
    return rows
