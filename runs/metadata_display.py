"""Metadata shown one way everywhere: `metadata_items(stored)` turns a stored metadata list (`{label, type, data}`
entries, see orchestra/_core/metadata/json_form.py) into `(label, value shown)` pairs for the run page's event rows
and the asset page. The value is built from the very GraphQL entry `logsForRun` serves (runs.schema_metadata), so
static/ui/run_live.js (`metadataNode`) builds a live row's value as the same markup from the entry's fields:

- text, path, notebook, pool: the string; int: `intRepr`; float: `floatRepr` (Python's `str`: `0.5`, `nan`, `inf`);
  bool: `true`/`false`; null: `null`;
- url: a link (`rel="noopener noreferrer nofollow"`) when it starts with `http://` or `https://`, else the string;
- dagster_run, asset, job: a link to the run, asset (its path joined with "/") or job page, showing the run id, the
  asset's path or the job's name; no link when a part of the address could not name the page (empty, `.`, `..`,
  holding `/` or a lone surrogate). `link_templates()` gives run_live.js the same addresses;
- timestamp: ISO 8601 in UTC with milliseconds, as JavaScript's `toISOString` (`2024-05-01T12:00:00.000Z`),
  and `timestamp out of range` outside years 1-9999;
- table: a `<table>` of the first TABLE_ROWS records (`… N more rows` under it), the columns those of the
  schema, else the keys of the records shown, in the order JavaScript's `Object.keys` gives a parsed record; each
  cell as JavaScript's `String` shows the JSON value (`1.0` is `1`, `None` is `null`), empty when the key is absent;
- table_schema: a `<table>` of each column's name, type and description;
- json and every kind without a GraphQL type (column_lineage, code_references, ...), and malformed entries:
  `jsonString`, the stored data as JSON;
- md: rendered and sanitized by core.markdown (`<div class="markdown">`), as `mdHtml`.

Every value from the entry is escaped; the markup has no whitespace between elements, as the live page builds it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import re
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from core.markdown import markdown_block
from runs import schema_metadata as sm

TABLE_ROWS = 100  # a table shows this many records; static/ui/run_live.js has the same limit
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
_EXTERNAL_REL = "noopener noreferrer nofollow"
# The pages metadata links to: URL name, and the placeholders its address is reversed with.
_PAGES = {"run": ("run-detail", ["RUN_ID"]), "asset": ("asset-detail", ["ASSET_KEY"]),
          "job": ("job-detail", ["LOCATION_NAME", "JOB_NAME"])}
_PLACEHOLDERS = re.compile("RUN_ID|ASSET_KEY|LOCATION_NAME|JOB_NAME")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS_RANGE = range(-62135596800000, 253402300800000)  # 0001-01-01 .. 9999-12-31, as datetime can hold


def timestamp_text(seconds: float) -> str:
    """As `new Date(seconds * 1000).toISOString()`: the milliseconds truncated toward zero, as JavaScript's Date."""
    try:
        ms = int(seconds * 1000)
    except (OverflowError, ValueError):
        return "timestamp out of range"
    if ms not in _MS_RANGE:
        return "timestamp out of range"
    moment = _EPOCH + dt.timedelta(milliseconds=ms)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def link_templates() -> dict[str, list[str]]:
    """The addresses of the run, asset and job pages, as the literal parts that go around the values (each part of
    a value quoted by `_quoted`): `{"run": ["/runs/", "/"], ...}`. run_live.js builds its links from these."""
    return {kind: _link_template(kind) for kind in _PAGES}


def _link_template(kind: str) -> list[str]:
    return list(_reversed_template(kind, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF))


@functools.lru_cache(maxsize=64)
def _reversed_template(kind: str, prefix: str, urlconf: str) -> tuple[str, ...]:
    """Cached per script prefix and URLconf: `reverse` takes about 10 µs, and a page may show 500 rows of links."""
    url_name, placeholders = _PAGES[kind]
    return tuple(_PLACEHOLDERS.split(reverse(url_name, args=placeholders, urlconf=urlconf)))


def _quoted(part: str) -> str | None:
    """`part` percent-encoded but for RFC 3986's unreserved characters, as run_live.js's `quoted`; None when it
    cannot be one part of a page's address (a browser resolves `.` and `..`; `/` would split it)."""
    if part in ("", ".", "..") or "/" in part:
        return None
    try:
        return quote(part, safe="")
    except UnicodeEncodeError:  # a lone surrogate: encodeURIComponent throws on it too
        return None


def _page_link(kind: str, text: str, *values: list[str]) -> str | SafeString:
    """A link to a page (`kind` in link_templates) addressed by `values`, each a path of parts; else `text`."""
    quoted = [[_quoted(part) for part in path] for path in values]
    if any(not path or None in path for path in quoted):
        return text
    parts = _link_template(kind)
    href = parts[0] + "".join("/".join(path) + literal for path, literal in zip(quoted, parts[1:], strict=True))
    return format_html('<a href="{}">{}</a>', href, text)


def _url_link(url: str) -> str | SafeString:
    if not _WEB_URL.match(url):  # javascript:, data:, relative and other addresses stay text
        return url
    return format_html('<a href="{}" rel="{}">{}</a>', url, _EXTERNAL_REL, url)


def js_number(value: int | float) -> str:
    """As JavaScript's `String(n)` for the number `JSON.parse` reads from `value` written as JSON (a double:
    `1.0` is `1`, `1e21` is `1e+21`, `2**60` is `1152921504606847000`)."""
    try:
        number = float(value)
    except OverflowError:  # an int past the doubles: JSON.parse reads it as an infinity
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    # repr gives the shortest digits that read back as the number, as JavaScript does (ECMA-262 Number::toString).
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(number))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    k = len(digits)
    n = exponent + len(digit_tuple)  # the number is 0.<digits> * 10**n
    sign = "-" if number < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    power = f"{'+' if n > 0 else '-'}{abs(n - 1)}"
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + power


def cell_text(value: Any) -> str:
    """A table cell as JavaScript's `String` shows the value parsed from the record's JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return js_number(value)


def _is_array_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and key == str(int(key)) and int(key) < 2**32 - 1


def _record_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The keys of `rows` in first-seen order, each row's keys as `Object.keys` lists a parsed record: array
    indices ("0", "12") first in numeric order, then the other keys as written."""
    columns: dict[str, None] = {}
    for row in rows:
        indices = sorted((key for key in row if _is_array_index(key)), key=int)
        columns.update(dict.fromkeys(indices + [key for key in row if not _is_array_index(key)]))
    return list(columns)


def _table_html(headers: list[str], rows: list[list[str]], more: int) -> SafeString:
    """A table of text cells (with `… N more rows` under it when `more` are not shown), as run_live.js's
    `tableNode`."""
    head = "".join(f"<th>{escape(text)}</th>" for text in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(text)}</td>" for text in cells) + "</tr>" for cells in rows)
    note = format_html('<p class="metadata-more">… {} more {}</p>', more, "row" if more == 1 else "rows") if more else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return mark_safe(f'<div class="metadata-table">{table}{note}</div>')  # noqa: S308 - every text is escaped above


def _table(table: sm.Table) -> SafeString:
    shown = table.rows[:TABLE_ROWS]
    columns = [column.name for column in table.schema.columns] or _record_columns(shown)
    cells = [[cell_text(row[column]) if column in row else "" for column in columns] for row in shown]
    return _table_html(columns, cells, len(table.rows) - len(shown))


def _table_schema(schema: sm.TableSchema) -> SafeString:
    cells = [[column.name, column.type, column.description or ""] for column in schema.columns]
    return _table_html(["Column", "Type", "Description"], cells, 0)


def entry_text(entry: Any) -> str | SafeString:
    """The value shown for one GraphQL metadata entry (runs.schema_metadata's types): text, or safe HTML."""
    if isinstance(entry, sm.MarkdownMetadataEntry):
        return markdown_block(entry.mdStr)
    if isinstance(entry, sm.TextMetadataEntry):
        return entry.text
    if isinstance(entry, sm.UrlMetadataEntry):
        return _url_link(entry.url)
    if isinstance(entry, sm.TableMetadataEntry):
        return _table(entry.table)
    if isinstance(entry, sm.TableSchemaMetadataEntry):
        return _table_schema(entry.schema)
    if isinstance(entry, (sm.PathMetadataEntry, sm.NotebookMetadataEntry)):
        return entry.path
    if isinstance(entry, sm.JsonMetadataEntry):
        return entry.jsonString
    if isinstance(entry, sm.IntMetadataEntry):
        return entry.intRepr
    if isinstance(entry, sm.FloatMetadataEntry):
        return entry.floatRepr
    if isinstance(entry, sm.BoolMetadataEntry):
        return "true" if entry.boolValue else "false"
    if isinstance(entry, sm.TimestampMetadataEntry):
        return timestamp_text(entry.timestamp)
    if isinstance(entry, sm.PipelineRunMetadataEntry):
        return _page_link("run", entry.runId, [entry.runId])
    if isinstance(entry, sm.AssetMetadataEntry):
        return _page_link("asset", "/".join(entry.assetKey.path), entry.assetKey.path)
    if isinstance(entry, sm.JobMetadataEntry):
        return _page_link("job", entry.jobName, [entry.locationName], [entry.jobName])
    if isinstance(entry, sm.PoolMetadataEntry):
        return entry.pool
    return "null"  # NullMetadataEntry


def metadata_items(stored: Any) -> list[tuple[str, str | SafeString]]:
    """A stored metadata list as `(label, value shown)` pairs; a malformed entry is shown as JSON."""
    return [(entry.label, entry_text(entry)) for entry in sm.metadata_entries(stored)]
