"""Single sign-on through OpenID Connect (`auth: {mode: oidc}`): mozilla-django-oidc's backend, with users
named by a claim and roles mapped from another (`core.instance_config.OidcConfig`).

Imported only when that mode is configured (settings name the backend by dotted path).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from core.instance_config import OidcConfig
from core.permissions import Actor, Role

OIDC_ACTOR = Actor(kind="system", name="oidc")


def roles_from_claims(config: OidcConfig, claims: dict[str, Any]) -> tuple[str | None, dict[str, str]] | None:
    """The instance-wide role and the roles per code location that `claims` map to, or None when the
    provider sent no `roles_claim` (then the user's grants are left as they are).

    The claim may be a list of values (groups) or one string. Several values mapping to roles give the
    highest; values mapping to nothing give `default_role` instance-wide.
    """
    if config.roles_claim not in claims:
        return None
    raw = claims[config.roles_claim]
    values = [raw] if isinstance(raw, str) else [str(value) for value in raw or []]
    instance = [Role.parse(config.roles[value]) for value in values if value in config.roles]
    per_location: dict[str, Role] = {}
    for value in values:
        for location, label in config.location_roles.get(value, {}).items():
            per_location[location] = max(per_location.get(location, Role.VIEWER), Role.parse(label))
    role = max(instance, default=None)
    if role is None and not per_location and config.default_role:
        role = Role.parse(config.default_role)
    return (role.label if role else None), {location: r.label for location, r in sorted(per_location.items())}


class OidcRoleBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend: finds the user by `username_claim`, creates them on first login
    (unless `create_users` is off), and sets their roles from `roles_claim` at every login."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config: OidcConfig = settings.INSTANCE.config.auth.oidc

    def username_of(self, claims: dict[str, Any]) -> str:
        return str(claims.get(self.config.username_claim) or "").strip()

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return super().verify_claims(claims) and bool(self.username_of(claims))

    def filter_users_by_claims(self, claims: dict[str, Any]):
        username = self.username_of(claims)
        if not username:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(username=username)

    def create_user(self, claims: dict[str, Any]):
        from core.services import user_sso_sync

        return user_sso_sync(username=self.username_of(claims), email=claims.get("email") or "",
                             **self._roles(claims), actor=OIDC_ACTOR)

    def update_user(self, user, claims: dict[str, Any]):
        from core.services import user_sso_sync

        return user_sso_sync(username=user.get_username(), user=user, **self._roles(claims), actor=OIDC_ACTOR)

    def _roles(self, claims: dict[str, Any]) -> dict[str, Any]:
        mapped = roles_from_claims(self.config, claims)
        if mapped is None:
            return {"location_roles": None}
        role, location_roles = mapped
        return {"role": role, "location_roles": location_roles}
