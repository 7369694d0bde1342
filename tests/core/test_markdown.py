"""core.markdown: Markdown metadata rendered by markdown-it-py, then cleaned by nh3's allow-list."""

from __future__ import annotations

from html.parser import HTMLParser

from core.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    CACHE_MAX_CHARS,
    RENDER_MAX_CHARS,
    markdown_block,
    markdown_html,
    sanitize_html,
)

IMAGE_ATTRIBUTES = {"loading", "referrerpolicy"}  # set by the sanitizer on every image
LINK_ATTRIBUTES = {"rel"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def assert_only_allowed(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        extra = IMAGE_ATTRIBUTES if tag == "img" else LINK_ATTRIBUTES if tag == "a" else set()
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | extra, (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:text")), (tag, attrs)


def test_markdown_renders_emphasis_links_code_lists_and_tables():
    html = markdown_html(
        "# Orders\n\n**bold** and *italic* and `code` and ~~gone~~, see [docs](https://example.com/x).\n\n"
        "- one\n- two\n\n```\nrows = 3\n```\n\n| col | n |\n|-----|---|\n| a | 1 |\n"
    )
    assert "<h1>Orders</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html and "<code>code</code>" in html
    assert "<s>gone</s>" in html
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<ul>\n<li>one</li>" in html and "<pre><code>rows = 3\n</code></pre>" in html
    assert "<table>" in html and "<th>col</th>" in html and "<td>1</td>" in html
    assert_only_allowed(html)


def test_raw_html_in_markdown_is_shown_as_text_never_as_elements():
    hostile = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=1"><iframe src="https://e.com">'
    html = markdown_html(f"**note** {hostile}")
    assert [tag for tag, _ in elements(html)] == ["p", "strong"]
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html and "onerror=" in html  # as text


def test_javascript_and_data_links_are_not_links():
    html = markdown_html("[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](vbscript:x) [d](data:text/html,x)")
    assert [tag for tag, _ in elements(html)] == ["p"]


def test_images_load_only_from_http_or_an_inline_raster_and_without_a_referrer():
    html = markdown_html(
        "![plot](data:image/png;base64,iVBORw0KGgo=) ![remote](https://example.com/p.png) "
        "![svg](data:image/svg+xml;base64,PHN2Zz4=) ![local](file:///etc/passwd)"
    )
    images = [attrs for tag, attrs in elements(html) if tag == "img"]
    assert [image.get("src") for image in images] == ["data:image/png;base64,iVBORw0KGgo=", "https://example.com/p.png"]
    assert all(image["referrerpolicy"] == "no-referrer" for image in images)
    assert_only_allowed(html)


def test_the_sanitizer_strips_scripts_handlers_iframes_styles_and_bad_urls_from_any_html():
    html = sanitize_html(
        '<script>alert(1)</script><img src=x onerror="alert(1)"><a href="javascript:alert(1)">j</a>'
        '<iframe src="https://example.com"></iframe><p style="color:red" onclick="alert(1)" class="x">p</p>'
        '<style>body{}</style><a href="data:text/html,x">d</a><img src="data:image/svg+xml;base64,AA">'
        '<svg onload="alert(1)"></svg><form action="/x"><input name="a"></form><!-- hidden -->'
    )
    assert "alert" not in html and "script" not in html and "style" not in html and "hidden" not in html
    assert [tag for tag, _ in elements(html)] == ["img", "a", "p", "a", "img"]
    assert_only_allowed(html)
    assert all("src" not in attrs for tag, attrs in elements(html) if tag == "img")
    assert all("href" not in attrs for tag, attrs in elements(html) if tag == "a")


def test_large_texts_render_each_time_and_huge_ones_are_shown_escaped():
    long = "x" * (CACHE_MAX_CHARS + 1) + " **b**"
    assert "<strong>b</strong>" in markdown_html(long)
    huge = "<b>" + "y" * RENDER_MAX_CHARS
    assert str(markdown_html(huge)).startswith("<pre>&lt;b&gt;yyy")


def test_a_block_is_marked_safe_once_and_wraps_the_rendered_html():
    assert str(markdown_block("*hi*")) == '<div class="markdown"><p><em>hi</em></p>\n</div>'
