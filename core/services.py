"""State changes that belong to no single workflow app: the instance's first administrator."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import as_actor, bounded_details, clean_text
from core.exceptions import InvalidInput, NotFound
from core.models import ApiToken, AuditEntry
from core.permissions import Actor, Role


@transaction.atomic
def admin_user_ensure_first(*, username: str = "admin") -> str | None:
    """Create a superuser when the instance has none; answer its generated password, else None.

    The password is returned once so the caller can show it; it is stored only as a hash.
    """
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(username, "", password)
    return password


# --- the audit log ------------------------------------------------------------------------------


@transaction.atomic
def audit_record(*, actor: Any, action: str, target_type: str, target_id: Any, location_name: str | None = None,
                 details: Mapping[str, Any] | None = None) -> AuditEntry:
    """Record that `actor` did `action` (e.g. `run.launch`) to a target; call it inside the transaction
    of the change, so the change and its entry commit or roll back together.

    `actor` is an `Actor`, a user or None (the system). Text is stored as data (NUL and lone surrogates
    escaped, cut to the column) and `details` are bounded (`core.audit.bounded_details`).
    """
    who = as_actor(actor)
    return AuditEntry.objects.create(
        created_at=timezone.now(),
        actor_kind=clean_text(who.kind, 16),
        actor_name=clean_text(who.name),
        actor_user_id=who.user_id,
        actor_token_id=who.token_id,
        address=clean_text(who.address or "", 64),
        action=clean_text(action, 64),
        target_type=clean_text(target_type, 64),
        target_id=clean_text("" if target_id is None else target_id),
        location_name=clean_text(location_name or ""),
        details=bounded_details(details),
    )


def audit_purge(*, before: dt.datetime | None = None, actor: Any = None) -> int:
    """Delete audit entries older than `before` (default: the instance's `retention.audit.purge_after_days`
    ago; nothing when that is negative). Answers how many were deleted.

    Deleted in batches by id, so a purge of millions of rows never holds one long transaction.
    """
    if before is None:
        days = audit_retention_days()
        if days < 0:
            return 0
        before = timezone.now() - dt.timedelta(days=days)
    deleted = 0
    while True:
        ids = list(AuditEntry.objects.filter(created_at__lt=before).order_by("id").values_list("id", flat=True)[:5000])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += AuditEntry.objects.filter(id__in=ids)._raw_delete(AuditEntry.objects.db)


def audit_retention_days() -> int:
    """Days audit entries are kept: `retention: {audit: {purge_after_days: N}}` in orchestra.yaml (default 365)."""
    from django.conf import settings

    from core.instance_config import AUDIT_PURGE_AFTER_DAYS_DEFAULT

    instance = getattr(settings, "INSTANCE", None)
    if instance is None:
        return AUDIT_PURGE_AFTER_DAYS_DEFAULT
    return instance.config.retention.audit.purge_after_days


# --- users and roles: instance-wide roles are group memberships, per-location roles LocationRole rows ---


def _forget_roles(user) -> None:
    # core.permissions caches a user's grants on the user object; a changed grant must be re-read.
    try:
        del user._orchestra_roles
    except AttributeError:
        pass


@transaction.atomic
def user_create(*, username: str, password: str | None = None, email: str = "", actor: Any = None) -> tuple[Any, str]:
    """Create a user; answer it and its password (generated when none is given, to be shown once).

    Raises InvalidInput when the username is blank or taken.
    """
    username = username.strip()
    if not username:
        raise InvalidInput("username: must not be blank")
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise InvalidInput(f"username: user {username!r} already exists")
    password = password or secrets.token_urlsafe(12)
    user = users.objects.create_user(username, email, password)
    audit_record(actor=actor, action="user.create", target_type="user", target_id=username)
    return user, password


@transaction.atomic
def role_grant(*, user: Any, role: str | Role, location_name: str | None = None, actor: Any = None) -> None:
    """Give `user` the role `role` instance-wide (location_name None) or in one code location.

    A user holds one role per scope: the grant replaces the role they held there before. Instance-wide
    admins are staff too, so the admin site shows them its header links.
    """
    from django.contrib.auth.models import Group

    from core.models import LocationRole

    label = (role if isinstance(role, Role) else Role.parse(role)).label
    if location_name:
        LocationRole.objects.update_or_create(user=user, location_name=location_name, defaults={"role": label})
    else:
        user.groups.remove(*Group.objects.filter(name__in=[r.label for r in Role]).exclude(name=label))
        user.groups.add(Group.objects.get_or_create(name=label)[0])
        _staff_sync(user, is_admin=label == Role.ADMIN.label)
    _forget_roles(user)
    audit_record(actor=actor, action="role.grant", target_type="user", target_id=user.get_username(),
                 location_name=location_name, details={"role": label})


@transaction.atomic
def role_revoke(*, user: Any, location_name: str | None = None, actor: Any = None) -> bool:
    """Take away the role `user` holds instance-wide (location_name None) or in one code location.

    Answers whether there was one. Superusers stay admins: that flag is changed in the admin only.
    """
    from django.contrib.auth.models import Group

    from core.models import LocationRole

    if location_name:
        removed, _ = LocationRole.objects.filter(user=user, location_name=location_name).delete()
    else:
        held = list(Group.objects.filter(user=user, name__in=[r.label for r in Role]))
        user.groups.remove(*held)
        removed = len(held)
        _staff_sync(user, is_admin=False)
    _forget_roles(user)
    if removed:
        audit_record(actor=actor, action="role.revoke", target_type="user", target_id=user.get_username(),
                     location_name=location_name)
    return bool(removed)


def _staff_sync(user: Any, *, is_admin: bool) -> None:
    staff = is_admin or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


# --- API tokens -------------------------------------------------------------------------------------

# last_used_at is written at most once per this interval per token, not on every request.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@transaction.atomic
def token_create(
    *,
    user,
    role: Role | str,
    name: str,
    location_name: str | None = None,
    expires_at: dt.datetime | None = None,
    actor: Actor | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token acting as `user` with `role` (in `location_name`, or instance-wide).

    Answers the row and the plaintext `orc_<prefix>_<secret>`: the plaintext exists only in this
    answer (the row keeps its SHA-256), so the caller shows it once.
    """
    role = role if isinstance(role, Role) else _parse_role(role)
    name = name.strip()
    if not name:
        raise InvalidInput("a token needs a name")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(f"expiry {expires_at.isoformat()} is in the past")
    if not user.is_active:
        raise InvalidInput(f"user {user.get_username()!r} is inactive")
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    plaintext = f"{ApiToken.SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name, user=user, role=role.label, location_name=location_name or None, prefix=prefix,
        secret_hash=ApiToken.hash_plaintext(plaintext), expires_at=expires_at,
    )
    audit_record(
        actor=actor, action="token.create", target_type="token", target_id=prefix, location_name=location_name,
        details={"name": name, "user": user.get_username(), "role": role.label,
                 "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return token, plaintext


@transaction.atomic
def token_revoke(*, prefix: str, actor: Actor | None = None) -> ApiToken:
    """Revoke the token named by `prefix`; it is refused from then on. Revoking twice is a no-op."""
    try:
        token = ApiToken.objects.select_for_update().get(prefix=prefix)
    except ApiToken.DoesNotExist:
        raise NotFound("token", prefix) from None
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", target_type="token", target_id=prefix,
                     location_name=token.location_name, details={"name": token.name})
    return token


def token_touch(*, token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record that `token` was used: one UPDATE at most per TOKEN_TOUCH_INTERVAL, none in between.

    The UPDATE is conditional, so concurrent requests on several webservers write once between them.
    """
    now = now or timezone.now()
    last = token.last_used_at
    if last is not None and now - last < TOKEN_TOUCH_INTERVAL:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_INTERVAL)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def _parse_role(value: str) -> Role:
    try:
        return Role.parse(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


# --- single sign-on ----------------------------------------------------------------------------------


@transaction.atomic
def user_sso_sync(*, username: str, email: str = "", user=None, role: str | None = None,
                  location_roles: Mapping[str, str] | None = None, actor: Any = None):
    """Create (when `user` is None) or update the user a single sign-on login names, with its roles.

    `location_roles` None means the provider sent no role claim: grants are left as they are. Otherwise
    the claim is the source of truth: the user ends up with exactly `role` instance-wide (None: none)
    and `location_roles`; only what changes is granted or revoked (and audited). A created user has no
    usable password: they log in through the provider only.
    """
    from django.contrib.auth.models import Group

    from core.models import LocationRole

    if user is None:
        user = get_user_model().objects.create_user(username, email=email)  # no password: SSO only
        audit_record(actor=actor, action="user.create", target_type="user", target_id=username,
                     details={"via": "oidc"})
    if location_roles is None:
        return user
    labels = [r.label for r in Role]
    held = set(Group.objects.filter(user=user, name__in=labels).values_list("name", flat=True))
    if role is None and held:
        role_revoke(user=user, actor=actor)
    elif role is not None and held != {role}:
        role_grant(user=user, role=role, actor=actor)
    granted = dict(LocationRole.objects.filter(user=user).values_list("location_name", "role"))
    for location in granted.keys() - location_roles.keys():
        role_revoke(user=user, location_name=location, actor=actor)
    for location, location_role in location_roles.items():
        if granted.get(location) != location_role:
            role_grant(user=user, role=location_role, location_name=location, actor=actor)
    return user
