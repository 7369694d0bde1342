"""REST building blocks shared by every app's router: who the caller is, and CSRF for session callers."""

from __future__ import annotations

from typing import Any

from ninja.errors import HttpError
from ninja.security import SessionAuth
from ninja.utils import check_csrf

from core.permissions import auth_mode


class RequestAuth(SessionAuth):
    """The REST API's authentication: the caller the middleware found (API token or session user).

    Ninja's operations are CSRF-exempt for Django, so the check is made here, as ninja's own session
    auth does: a session caller needs the CSRF token; API-token requests (and, with `auth: {mode: none}`,
    cookieless clients sending no Origin) are exempt through `request._dont_enforce_csrf_checks`.
    """

    def __call__(self, request) -> Any:
        token = getattr(request, "orchestra_token", None)
        if token is not None:
            return token
        user = request.user
        if auth_mode() != "none" and not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: a request authenticated by the session cookie must send "
                                 "the X-CSRFToken header (API clients send `Authorization: Bearer <token>`).")
        return user if user.is_authenticated else True
