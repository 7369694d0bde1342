"""Request middleware of the security layer: API tokens sent as `Authorization: Bearer <token>`."""

from __future__ import annotations

from django.http import JsonResponse


class TokenAuthenticationMiddleware:
    """Authenticate a request that carries `Authorization: Bearer <token>` as the token's user.

    Placed right after Django's AuthenticationMiddleware: with a Bearer header the token alone decides
    (never the session cookie); `request.orchestra_token` is the `ApiToken` row, whose role and location
    scope `core.permissions.has_permission` applies. Token requests carry no ambient credential a
    browser could replay, so CSRF checks are off for them. A bad, expired or revoked token is answered
    401 at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer":
            return self.get_response(request)
        from core.selectors import TokenRefused, token_authenticate
        from core.services import token_touch

        try:
            token = token_authenticate(plaintext=presented.strip())
        except TokenRefused as exc:
            response = JsonResponse({"code": "invalid_token", "message": f"invalid API token: {exc}"}, status=401)
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        token_touch(token=token)
        request.user = token.user
        request.auser = _user_of(token)
        request.orchestra_token = token
        request._dont_enforce_csrf_checks = True
        return self.get_response(request)


def _user_of(token):
    async def auser():
        return token.user

    return auser


# Machine interfaces answer 401/403 JSON; pages redirect to the login page.
API_PREFIXES = ("/graphql", "/api/")


def is_api_path(path: str) -> bool:
    return path == "/graphql" or path.startswith(API_PREFIXES)


def _is_open_path(path: str) -> bool:
    """Anyone may reach health, logging in and out (single sign-on's /oidc/ too, mounted in mode oidc only),
    static files, and the admin (it asks for its own login, then for the admin role)."""
    from django.conf import settings

    static = "/" + settings.STATIC_URL.lstrip("/")
    return path in (settings.LOGIN_URL, "/logout/", "/health") or path.startswith(("/admin/", "/oidc/", static))


class LoginRequiredMiddleware:
    """Deny by default: every request needs a session user or an API token, except the open paths.

    Placed after AuthenticationMiddleware and TokenAuthenticationMiddleware (they say who the caller is).
    Unauthenticated pages redirect to the login page, `/graphql` and `/api/` answer 401 JSON; a caller
    holding no role anywhere is refused (403). With `auth: {mode: none}` every request passes as an
    anonymous admin, and `/graphql` and `/api/` clients that send no Origin header (not a browser) need
    no CSRF token.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.contrib.auth.views import redirect_to_login
        from django.http import HttpResponseForbidden

        from core.permissions import auth_mode, may_read

        if auth_mode() == "none":
            # Nobody logs in, so API clients hold no CSRF cookie (Dagster's GraphQL client sends none). A
            # browser sends Origin with every POST, so its API calls (the UI's own, or a cross-site page's)
            # still need the token; the UI's own pages always do.
            if is_api_path(request.path_info) and "HTTP_ORIGIN" not in request.META:
                request._dont_enforce_csrf_checks = True
            return self.get_response(request)
        path = request.path_info
        if _is_open_path(path):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(request, "orchestra_token", None) is None and not (user is not None and user.is_authenticated):
            if is_api_path(path):
                return JsonResponse({"code": "unauthenticated", "message": "Log in, or send an API token as "
                                     "`Authorization: Bearer <token>`."}, status=401)
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not may_read(request):
            message = "You hold no role in this instance: ask an administrator to grant you one."
            if is_api_path(path):
                return JsonResponse({"code": "forbidden", "message": message}, status=403)
            return HttpResponseForbidden(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
