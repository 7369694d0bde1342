"""`{% permitted "launch_pipeline_execution" location as can_launch %}`: whether the page's user may act.

Pages hide the buttons of actions the user may not take (the views refuse them anyway). Answers are
cached on the request, so a list page asks once per (permission, location), never once per row.
"""

from __future__ import annotations

from django import template

from core.permissions import Permission, has_permission

register = template.Library()


@register.simple_tag(takes_context=True)
def permitted(context: template.Context, permission: str, location: str | None = None) -> bool:
    request = context.get("request")
    if request is None:
        return False
    cache = request.__dict__.setdefault("_orchestra_permitted", {})
    key = (permission, location or None)
    if key not in cache:
        cache[key] = has_permission(request, Permission(permission), location or None)
    return cache[key]
