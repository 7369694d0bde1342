"""`{% event_rows rows %}`: the run page's event-log rows, built in one pass (a page is 500 rows, and a template
loop spent most of the page's time on them); an event's stored error and metadata still render through
`ui/_event_extra.html`. Every value from the run is escaped, but Markdown metadata, which is rendered and sanitized
by core.markdown (nh3's allow-list)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from runs.metadata_display import metadata_items

register = template.Library()


@register.filter
def shown_metadata(stored: Any) -> list[tuple[str, Any]]:
    """`{% for label, value in e.payload.metadata|shown_metadata %}`: as runs.metadata_display shows metadata."""
    return metadata_items(stored)


@register.simple_tag
def event_rows(rows: list[dict[str, Any]]) -> str:
    out = []
    extra = None
    for row in rows:
        event = row["event"]
        payload = event.payload if isinstance(event.payload, dict) else {}
        more = ""
        if payload.get("error") or payload.get("metadata"):
            extra = extra or get_template("ui/_event_extra.html")
            more = extra.render({"e": event})
        kind, step, level = (
            escape(event.event_type or "LOG"),
            escape(event.step_key or ""),
            escape(row["level"]),
        )
        at = timezone.localtime(event.timestamp).strftime("%H:%M:%S.%f")[:12] if event.timestamp else ""
        out.append(
            f'<div class="event lvl-{level.lower()}" role="row" id="event-{int(event.id)}" data-type="{kind}" '
            f'data-step="{step}" data-level="{level}"><span>{at}</span><span>{kind}</span><span>{step}</span>'
            f'<span>{level}</span><span class="msg">{escape(event.message or "")}{more}</span></div>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value from the run is escaped above
