"""Markdown metadata as HTML that is safe to insert in a page: markdown-it-py, then nh3's allow-list.

Markdown text comes from user code (`MetadataValue.md`), so it is untrusted. Two layers keep it inert:
markdown-it-py renders CommonMark (plus tables and strikethrough) with raw HTML *off*, so `<script>` in the
text is shown as text, and refuses `javascript:`/`vbscript:`/`file:` links; nh3 (the Ammonia sanitizer)
then keeps only the tags and attributes listed below, whatever the renderer produced. Links get
`rel="noopener noreferrer nofollow"`; images load only from http(s) or an inline raster `data:image/...`
(the way Dagster's examples embed plots), without a referrer. The SDK never imports this module.
"""

from __future__ import annotations

import functools
import re

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# What CommonMark, tables and strikethrough produce, and nothing else: no script, style, iframe, form, svg.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
})  # fmt: skip
# No event handlers, no `style` (so a table's column alignment is dropped), no `class`/`id` (the page's CSS
# and scripts select on those).
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "data"})  # `data:` is narrowed to raster images below
LINK_REL = "noopener noreferrer nofollow"
_RASTER_DATA = re.compile(r"data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)
_HTTP = re.compile(r"https?:", re.IGNORECASE)

# Texts up to this size are cached (a run page shows the same Markdown on many rows): at most
# CACHE_ENTRIES x (text + HTML), about 5 MB. Longer texts are rendered each time.
CACHE_ENTRIES = 256
CACHE_MAX_CHARS = 8_000
# Beyond this a text is shown escaped, unrendered: rendering is linear (about 5 ms per 1,000 characters of
# prose, 1 ms for a 20-row table), but a page must not wait a second on one value.
RENDER_MAX_CHARS = 50_000


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Narrow nh3's URL schemes per attribute: `data:` only as an inline raster image's `src`."""
    if tag == "img" and attribute == "src":
        return value if _HTTP.match(value) or _RASTER_DATA.match(value) else None
    if tag == "a" and attribute == "href" and value.lower().startswith("data:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """`html` with everything outside the allow-list removed (script and style elements with their text)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        attribute_filter=_attribute_filter,
        set_tag_attribute_values={"img": {"referrerpolicy": "no-referrer", "loading": "lazy"}},
        strip_comments=True,
    )


@functools.cache
def _renderer():
    # Built once per process (the parser's rule chains take milliseconds to set up).
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _render(text: str) -> str:
    return sanitize_html(_renderer().render(text))


_render_cached = functools.lru_cache(maxsize=CACHE_ENTRIES)(_render)


def markdown_html(text: str) -> SafeString:
    """Markdown `text` as sanitized HTML, ready for a template (`{{ value }}` does not escape it again)."""
    text = str(text)
    if len(text) > RENDER_MAX_CHARS:
        return mark_safe(f"<pre>{escape(text)}</pre>")  # noqa: S308 - escaped
    html = _render_cached(text) if len(text) <= CACHE_MAX_CHARS else _render(text)
    return mark_safe(html)  # noqa: S308 - sanitized by nh3's allow-list above


def markdown_block(text: str) -> SafeString:
    """`markdown_html(text)` in the `<div class="markdown">` the pages show it in (static/ui/run_live.js
    builds the same element around GraphQL's `mdHtml`)."""
    return mark_safe(f'<div class="markdown">{markdown_html(text)}</div>')  # noqa: S308 - sanitized
