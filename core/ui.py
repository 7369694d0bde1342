"""What every server-rendered page view shares: permission checks and domain errors as HTTP answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from core.exceptions import NotFound
from core.permissions import Permission, has_permission


def require_permission(request: HttpRequest, permission: Permission) -> None:
    """Refuse (403) a state change the caller may not make."""
    if not has_permission(request, permission):
        raise PermissionDenied(f"you may not {permission.value.replace('_', ' ')}")


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
