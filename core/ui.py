"""What every server-rendered page view shares: permission checks and domain errors as HTTP answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.exceptions import NotFound
from core.guards import denied_message
from core.permissions import Permission, has_permission


def require_permission(request: HttpRequest, permission: Permission, location: str | None = None) -> None:
    """Refuse (403) a state change the caller may not make (in code location `location`)."""
    if not has_permission(request, permission, location):
        raise PermissionDenied(denied_message(permission, location))


def not_found_as_404(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 404 when the view's selectors or services raise NotFound."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from None

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to the form's `next` (a path on this site only), else to the URL named `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse(default))
