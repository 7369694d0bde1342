"""Who may do what: the one permission map every edge (UI, GraphQL, REST, admin, CLI) asks.

The contract, shared by every edge and every service:
- `Permission` names the actions, as Dagster's `Permissions` so its UI checks map one to one.
- `Role` orders the roles (viewer < launcher < editor < admin); `ROLE_PERMISSIONS` is the one map from
  a role to what it may do. A grant gives a role instance-wide or in one code location.
- `has_permission(request, permission, location=None)` is the decision at the edge; `location` is the
  code location the action touches (None for instance-wide actions such as wiping assets).
- `Actor` says who acted, built once at the edge by `actor_from_request`, passed to services as
  `actor=` and recorded by them (audit log, the run's launched-by tag).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Permission(enum.StrEnum):
    """Actions that need permission, named as Dagster's `Permissions` so its UI's checks map one to one."""

    LAUNCH_PIPELINE_EXECUTION = "launch_pipeline_execution"
    LAUNCH_PIPELINE_REEXECUTION = "launch_pipeline_reexecution"
    START_SCHEDULE = "start_schedule"
    STOP_RUNNING_SCHEDULE = "stop_running_schedule"
    SCHEDULE_DRY_RUN = "schedule_dry_run"
    EDIT_SENSOR = "edit_sensor"
    SENSOR_DRY_RUN = "sensor_dry_run"
    UPDATE_SENSOR_CURSOR = "update_sensor_cursor"
    TERMINATE_PIPELINE_EXECUTION = "terminate_pipeline_execution"
    DELETE_PIPELINE_RUN = "delete_pipeline_run"
    RELOAD_REPOSITORY_LOCATION = "reload_repository_location"
    RELOAD_WORKSPACE = "reload_workspace"
    WIPE_ASSETS = "wipe_assets"
    REPORT_RUNLESS_ASSET_EVENTS = "report_runless_asset_events"
    LAUNCH_PARTITION_BACKFILL = "launch_partition_backfill"
    CANCEL_PARTITION_BACKFILL = "cancel_partition_backfill"
    EDIT_DYNAMIC_PARTITIONS = "edit_dynamic_partitions"
    TOGGLE_AUTO_MATERIALIZE = "toggle_auto_materialize"
    EDIT_CONCURRENCY_LIMIT = "edit_concurrency_limit"
    # Orchestra's own: users, roles, tokens and the admin site.
    MANAGE_USERS = "manage_users"


class Role(enum.IntEnum):
    """Roles in order: each may do everything the one below it may."""

    VIEWER = 1
    LAUNCHER = 2
    EDITOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            known = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown role {value!r}: expected one of {known}") from None


_LAUNCHER = frozenset({
    Permission.LAUNCH_PIPELINE_EXECUTION,
    Permission.LAUNCH_PIPELINE_REEXECUTION,
    Permission.TERMINATE_PIPELINE_EXECUTION,
    Permission.START_SCHEDULE,
    Permission.STOP_RUNNING_SCHEDULE,
    Permission.SCHEDULE_DRY_RUN,
    Permission.EDIT_SENSOR,
    Permission.SENSOR_DRY_RUN,
    Permission.REPORT_RUNLESS_ASSET_EVENTS,
})
_EDITOR = _LAUNCHER | {
    Permission.RELOAD_REPOSITORY_LOCATION,
    Permission.RELOAD_WORKSPACE,
    Permission.LAUNCH_PARTITION_BACKFILL,
    Permission.CANCEL_PARTITION_BACKFILL,
    Permission.UPDATE_SENSOR_CURSOR,
    Permission.DELETE_PIPELINE_RUN,
    Permission.WIPE_ASSETS,
    Permission.EDIT_DYNAMIC_PARTITIONS,
    Permission.TOGGLE_AUTO_MATERIALIZE,
    Permission.EDIT_CONCURRENCY_LIMIT,
}

# The one map from a role to what it may do. Viewers read everything and change nothing.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(),
    Role.LAUNCHER: _LAUNCHER,
    Role.EDITOR: frozenset(_EDITOR),
    Role.ADMIN: frozenset(Permission),
}


def least_role(permission: Permission) -> Role:
    """The lowest role that holds `permission` (what generated permission tests grant to pass)."""
    return next(role for role in Role if permission in ROLE_PERMISSIONS[role])


@dataclass(frozen=True)
class Actor:
    """Who acted: built at the edge, passed to services as `actor=`, recorded with what changed.

    `kind` is one of user, token, schedule, sensor, backfill, system, anonymous.
    """

    kind: str
    name: str
    user_id: int | None = None
    token_id: int | None = None
    address: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", name="orchestra")


def actor_from_request(request: Any) -> Actor:
    """The `Actor` behind an HTTP request (session user or API token), with the client address."""
    meta = getattr(request, "META", {}) or {}
    address = meta.get("REMOTE_ADDR")
    token = getattr(request, "orchestra_token", None)
    if token is not None:
        return Actor(kind="token", name=token.name, user_id=token.user_id, token_id=token.pk, address=address)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(kind="user", name=user.get_username(), user_id=user.pk, address=address)
    return Actor(kind="anonymous", name="anonymous", address=address)


def auth_mode() -> str:
    """`login` (every request needs a user or a token) or `none` (every request acts as an anonymous admin)."""
    from django.conf import settings

    return getattr(settings, "ORCHESTRA_AUTH_MODE", "login")


def _as_role(value: Any) -> Role | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Role) else Role.parse(str(value))


def _granted_roles(user: Any) -> tuple[Role | None, dict[str, Role]]:
    """The user's instance-wide role and roles per code location, read in one query and cached on `user`.

    `request.user` is loaded once per request, so the cache lives as long as the request; the role
    services drop it from the user object they change.
    """
    cached = getattr(user, "_orchestra_roles", None)
    if cached is not None:
        return cached
    from django.contrib.auth.models import Group
    from django.db.models import CharField, Value

    from core.models import LocationRole

    labels = [role.label for role in Role]
    groups = (Group.objects.filter(user=user, name__in=labels)
              .annotate(location=Value(None, output_field=CharField())).order_by().values_list("name", "location"))
    grants = LocationRole.objects.filter(user_id=user.pk).order_by().values_list("role", "location_name")
    instance: Role | None = None
    per_location: dict[str, Role] = {}
    for name, location in groups.union(grants, all=True):
        role = Role.parse(name)
        if location is None:
            instance = max(instance or role, role)
        else:
            per_location[location] = max(per_location.get(location, role), role)
    user._orchestra_roles = (instance, per_location)
    return user._orchestra_roles


def user_role(user: Any, location: str | None = None) -> Role | None:
    """The role a user holds in `location` (or instance-wide when None): the higher of both grants.

    Superusers are admins; inactive and anonymous users hold none.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    instance, per_location = _granted_roles(user)
    granted = [role for role in (instance, per_location.get(location) if location else None) if role]
    return max(granted, default=None)


def user_has_any_role(user: Any) -> bool:
    """Whether the user holds a role anywhere (instance-wide or in some code location): may read at all."""
    if user_role(user) is not None:
        return True
    return user is not None and user.is_authenticated and user.is_active and bool(_granted_roles(user)[1])


def role_for(request: Any, location: str | None = None) -> Role | None:
    """The role the caller of `request` acts with in `location` (None: instance-wide actions).

    An API token acts with its own role, and only in its own location when it is scoped to one:
    a token for location A holds nothing in B nor for instance-wide actions.
    """
    if auth_mode() == "none":
        return Role.ADMIN
    token = getattr(request, "orchestra_token", None)
    if token is not None:
        scope = getattr(token, "location_name", None)
        if scope and scope != location:
            return None
        return _as_role(token.role)
    return user_role(getattr(request, "user", None), location)


def may_read(request: Any) -> bool:
    """Whether the caller may see anything at all: holds a role somewhere (viewers read everything)."""
    if auth_mode() == "none":
        return True
    token = getattr(request, "orchestra_token", None)
    if token is not None:
        return _as_role(token.role) is not None
    return user_has_any_role(getattr(request, "user", None))


def has_permission(request: Any, permission: Permission, location: str | None = None) -> bool:
    """Whether the caller of `request` may perform `permission` (in code location `location`).

    The highest of the user's instance-wide role and their role in `location` decides; with an API
    token, the token's role and scope decide instead; with `auth: {mode: none}`, everyone may.
    """
    role = role_for(request, location)
    return role is not None and Permission(permission) in ROLE_PERMISSIONS[role]
