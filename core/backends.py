"""Authentication backend giving the admin role every Django model permission (what the admin site asks)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import BaseBackend

from core.permissions import Role, user_role


class RoleBackend(BaseBackend):
    """Answers Django's permission questions from Orchestra's roles; authenticates nobody itself."""

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return user_role(user_obj) is Role.ADMIN

    def has_module_perms(self, user_obj, app_label) -> bool:
        return user_role(user_obj) is Role.ADMIN


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for logins over HTTP (the login page, the admin's, OIDC).

    Authentication without a request (a management command, the test client's `login`) is not a web
    login to throttle; axes would refuse it, so it is passed on to the next backend instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
