"""Views every deployment needs regardless of app: the open health endpoint, the audit log page and
the API tokens page."""

import datetime as dt

from django.contrib import messages
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import InvalidInput
from core.permissions import Permission, Role, actor_from_request
from core.selectors import AuditFilter, audit_entries, token_list
from core.services import token_create, token_revoke
from core.ui import not_found_as_404, require_permission


@require_GET
def health(request):
    """Liveness and database reachability; says nothing sensitive."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded", "database": database}, status=status)


def csrf_failure(request, reason: str = ""):
    """A refused CSRF check: 403 JSON for `/graphql` and `/api/`, Django's own page elsewhere."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    from core.middleware import is_api_path

    if is_api_path(request.path_info):
        return JsonResponse({"code": "csrf_failed", "message": f"CSRF check failed: {reason}. A request "
                             "authenticated by the session cookie must send the X-CSRFToken header; "
                             "API clients authenticate with `Authorization: Bearer <token>` instead."},
                            status=403)
    return django_csrf_failure(request, reason=reason)


AUDIT_PAGE_SIZE = 50


@require_GET
def audit_log(request):
    """The audit log, newest first: filtered by actor, action, target, location and time range from the
    query string, paged by entry id (`cursor`); one query for the entries."""
    form = {key: request.GET.get(key, "").strip() for key in ("actor", "action", "target", "location", "since",
                                                              "until", "cursor")}
    entries, error = [], None
    try:
        entries = audit_entries(filters=_audit_filter(form),
                                before_id=_audit_cursor(form["cursor"]), limit=AUDIT_PAGE_SIZE)
    except InvalidInput as exc:
        error = str(exc)
    next_url = first_url = None
    if len(entries) == AUDIT_PAGE_SIZE:
        query = request.GET.copy()
        query["cursor"] = str(entries[-1].id)
        next_url = "?" + query.urlencode()
    if form["cursor"]:
        query = request.GET.copy()
        query.pop("cursor", None)
        first_url = "?" + query.urlencode()
    return render(request, "ui/audit.html", {"nav": "deployment", "entries": entries, "form": form, "error": error,
                                             "next_url": next_url, "first_url": first_url})


def _audit_filter(form: dict[str, str]) -> AuditFilter:
    target_type, _, target_id = form["target"].partition(":")
    times = {}
    for key in ("since", "until"):
        if form[key]:
            parsed = _parse_when(form[key])
            if parsed is None:
                raise InvalidInput(f"{key} must be a date and time like 2026-11-25T10:00, got {form[key]!r}")
            times[key] = parsed
    return AuditFilter(actor=form["actor"] or None, action=form["action"] or None, target_type=target_type or None,
                        target_id=target_id or None, location_name=form["location"] or None, **times)


def _audit_cursor(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"cursor {value!r} is not a cursor this page gave")
    return int(value)


def _parse_when(value: str):
    try:
        parsed = parse_datetime(value)
        if parsed is None and parse_date(value) is not None:
            parsed = parse_datetime(value + "T00:00")
    except ValueError:
        return None
    if parsed is None:
        return None
    return timezone.make_aware(parsed, timezone.get_current_timezone()) if timezone.is_naive(parsed) else parsed


# --- API tokens (admins only) ------------------------------------------------------------------------

TOKEN_EXPIRY_DAYS = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "never"))


@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request):
    """API tokens: the list, and a form creating one; its plaintext is shown once, in this answer only."""
    require_permission(request, Permission.MANAGE_USERS)
    defaults = {"name": "", "role": Role.VIEWER.label, "location": "", "expires": "90", "user": ""}
    form, created, error = dict(defaults), None, None
    if request.method == "POST":
        form.update({key: request.POST.get(key, "").strip() for key in defaults})
        try:
            token, plaintext = token_create(
                user=_token_owner(request, form["user"]), role=form["role"], name=form["name"],
                location_name=form["location"] or None, expires_at=_token_expiry(form["expires"]),
                actor=actor_from_request(request),
            )
            created, form = {"token": token, "plaintext": plaintext}, dict(defaults)
        except InvalidInput as exc:
            error = str(exc)
    return render(request, "ui/tokens.html", {
        "nav": "deployment", "tokens": token_list(), "now": timezone.now(), "form": form, "created": created,
        "error": error, "roles": [role.label for role in Role], "expiry_choices": TOKEN_EXPIRY_DAYS,
    }, status=400 if error else 200)


@require_POST
@not_found_as_404
def token_revoke_view(request, prefix: str):
    """Revoke one token; its clients are refused from the next request on."""
    require_permission(request, Permission.MANAGE_USERS)
    token = token_revoke(prefix=prefix, actor=actor_from_request(request))
    messages.success(request, f"Token {token.prefix} ({token.name}) revoked.")
    return redirect("tokens")


def _token_owner(request, username: str):
    """The user a new token acts as: the one named in the form, else the logged-in user."""
    from django.contrib.auth import get_user_model

    if username:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise InvalidInput(f"user: no user named {username!r}")
        return user
    if not request.user.is_authenticated:
        raise InvalidInput("user: name the user the token acts as (nobody is logged in)")
    return request.user


def _token_expiry(days: str):
    if not days:
        return None
    if days not in {value for value, _ in TOKEN_EXPIRY_DAYS}:
        raise InvalidInput(f"expires: {days!r} is not one of the offered choices")
    return timezone.now() + dt.timedelta(days=int(days))
