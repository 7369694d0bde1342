"""`{% config_schema_fields tree %}`: a job's run config schema (`workspace.config_types`) as nested,
collapsible lists — a field with fields below it is a `<details>`. Rendered here rather than by a template
including itself, which costs a template render per field (a 200-op job has over a thousand); every string
from the snapshot is escaped by `format_html`."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _head(field: dict[str, Any]) -> SafeString:
    return format_html(
        '<code class="cfg-name">{}</code>: <code class="cfg-type">{}</code>{}{}{}{}',
        field["name"],
        field["type"],
        mark_safe(' <span class="cfg-required">required</span>')
        if field["required"]
        else mark_safe(' <span class="cfg-optional">optional</span>'),
        format_html(' <span class="cfg-default">default <code>{}</code></span>', field["default"])
        if field["default"] is not None
        else "",
        mark_safe(' <span class="cfg-secret">secret</span>') if field["secret"] else "",
        format_html(' <span class="cfg-description">{}</span>', field["description"])
        if field["description"]
        else "",
    )


def _fields(fields: list[dict[str, Any]]) -> SafeString:
    items = []
    for field in fields:
        if field["fields"]:
            note = (
                "one of these"
                if field["selector"]
                else f"{field['count']} field{'s' if field['count'] != 1 else ''}"
            )
            items.append(
                format_html(
                    '<li><details{}><summary>{} <small class="cfg-count">{}</small></summary>{}</details></li>',
                    mark_safe(" open") if field["open"] else "",
                    _head(field),
                    note,
                    _fields(field["fields"]),
                )
            )
        else:
            items.append(format_html("<li>{}</li>", _head(field)))
    return format_html(
        '<ul class="cfg-fields">{}</ul>', format_html_join("", "{}", ((item,) for item in items))
    )


@register.simple_tag
def config_schema_fields(tree: list[dict[str, Any]]) -> SafeString:
    return _fields(tree) if tree else mark_safe('<p class="empty">This job takes no run config.</p>')
