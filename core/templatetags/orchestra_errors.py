"""Template filters for errors stored as `{message, stack, cls_name, cause, context}` (Dagster's
SerializableErrorInfo as JSON): the line a user reads first, from the innermost cause."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def error_headline(error: Any) -> str:
    """The first line of the innermost cause's message: what went wrong in user code, not the wrapper."""
    while isinstance(error, dict) and isinstance(error.get("cause"), dict):
        error = error["cause"]
    if not isinstance(error, dict):
        return ""
    lines = [line.strip() for line in str(error.get("message") or "").splitlines() if line.strip()]
    cls_name = str(error.get("cls_name") or "")
    if not lines:
        return cls_name or "error"
    # Messages made by Python's traceback module start with the (qualified) class name; others do not.
    return lines[0] if not cls_name or cls_name in lines[0] else f"{cls_name}: {lines[0]}"
