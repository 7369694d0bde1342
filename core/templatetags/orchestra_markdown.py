"""`{{ entry|metadata_value }}`: a stored metadata entry (`{label, type, data}`) as a page shows it — Markdown
(`type` "md") rendered and sanitized by core.markdown, every other value as it is (escaped by the template)."""

from __future__ import annotations

from typing import Any

from django import template

from core.markdown import markdown_block

register = template.Library()


@register.filter
def metadata_value(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return ""
    data = entry.get("data")
    if entry.get("type") == "md" and isinstance(data, str):
        return markdown_block(data)
    return data
