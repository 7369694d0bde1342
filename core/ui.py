"""What every server-rendered page view shares: permission checks and domain errors as HTTP answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

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
