"""`{{ value|when }}`: a timestamp as `<time datetime="…">` showing UTC, which static/ui/time.js turns into
the viewer's time zone with the relative time ("3 minutes ago") on hover. Empty for None, so
`|when|default:"—"` works."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if not isinstance(value, datetime):
        return ""
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return format_html('<time datetime="{}">{} UTC</time>', moment.isoformat(), moment.strftime(fmt))
