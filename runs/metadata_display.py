"""Metadata shown one way everywhere: `metadata_items(stored)` turns a stored metadata list (`{label, type, data}`
entries, see orchestra/_core/metadata/json_form.py) into `(label, value shown)` pairs for the run page's event rows
and the asset page. The value is built from the very GraphQL entry `logsForRun` serves (runs.schema_metadata), so
static/ui/run_live.js (`metadataValue`) shows a live row the same way from the entry's fields:

- text, url, path, notebook, pool, dagster_run: the string; asset: the key's path joined with "/"; job: its name;
- int: `intRepr`; float: `floatRepr` (Python's `str`: `0.5`, `nan`, `inf`); bool: `true`/`false`; null: `null`;
- timestamp: ISO 8601 in UTC with milliseconds, as JavaScript's `toISOString` (`2024-05-01T12:00:00.000Z`),
  and `timestamp out of range` outside years 1-9999;
- json and every kind without a GraphQL type (table, table_schema, column_lineage, code_references, ...):
  `jsonString`, the stored data as JSON;
- md: rendered and sanitized by core.markdown (`<div class="markdown">`), as `mdHtml`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.safestring import SafeString

from core.markdown import markdown_block
from runs import schema_metadata as sm

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


def entry_text(entry: Any) -> str | SafeString:
    """The value shown for one GraphQL metadata entry (runs.schema_metadata's types)."""
    if isinstance(entry, sm.MarkdownMetadataEntry):
        return markdown_block(entry.mdStr)
    if isinstance(entry, sm.TextMetadataEntry):
        return entry.text
    if isinstance(entry, sm.UrlMetadataEntry):
        return entry.url
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
        return entry.runId
    if isinstance(entry, sm.AssetMetadataEntry):
        return "/".join(entry.assetKey.path)
    if isinstance(entry, sm.JobMetadataEntry):
        return entry.jobName
    if isinstance(entry, sm.PoolMetadataEntry):
        return entry.pool
    return "null"  # NullMetadataEntry


def metadata_items(stored: Any) -> list[tuple[str, str | SafeString]]:
    """A stored metadata list as `(label, value shown)` pairs; a malformed entry is shown as JSON."""
    return [(entry.label, entry_text(entry)) for entry in sm.metadata_entries(stored)]
