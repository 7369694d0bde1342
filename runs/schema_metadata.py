"""GraphQL value types that events carry: asset keys, and metadata entries (Dagster's `MetadataEntry`).

The event sink stores metadata as a list of `{label, type, data}` entries in strict JSON, where
values JSON cannot hold are tagged (`{"__float__": "NaN"}`, `{"__bytes__": ...}`, `{"__items__": ...}`).
Kinds without a dedicated type here (column lineage, code references, ...), and malformed entries, are
served as `JsonMetadataEntry`, so no stored entry can fail a page.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import graphene

from core.graphql import AssetKey as AssetKey  # shared with the workspace's asset nodes
from core.markdown import markdown_html
from workspace.schema_definitions import DefinitionTag

INT32 = range(-(2**31), 2**31)


def decode_tagged(value: Any) -> Any:
    """A stored JSON value with its tagged forms read back (NaN/infinities, odd strings, odd dicts)."""
    if isinstance(value, list):
        return [decode_tagged(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, payload),) = value.items()
            if tag == "__float__":
                return float(str(payload).lower().replace("infinity", "inf"))
            if tag == "__bytes__":
                return base64.b64decode(payload).decode("utf-8", "surrogatepass")
            if tag == "__items__":
                return {str(decode_tagged(k)): decode_tagged(item) for k, item in payload}
        return {k: decode_tagged(item) for k, item in value.items()}
    return value


class MetadataEntry(graphene.Interface):
    label = graphene.NonNull(graphene.String)
    description = graphene.String()


class TextMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    text = graphene.NonNull(graphene.String)


class UrlMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    url = graphene.NonNull(graphene.String)


class MarkdownMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    mdStr = graphene.NonNull(graphene.String)
    mdHtml = graphene.NonNull(
        graphene.String,
        description="Orchestra's extension: `mdStr` rendered as HTML and sanitized (core.markdown's allow-list), "
        "as the server-rendered pages show it.",
    )

    def resolve_mdHtml(root, info) -> str:
        return str(markdown_html(root.mdStr))


class PathMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    path = graphene.NonNull(graphene.String)


class NotebookMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    path = graphene.NonNull(graphene.String)


class JsonMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    jsonString = graphene.NonNull(graphene.String)


class IntMetadataEntry(graphene.ObjectType):
    """`intValue` is null outside GraphQL's 32-bit Int; `intRepr` always holds the value."""

    class Meta:
        interfaces = (MetadataEntry,)

    intValue = graphene.Int()
    intRepr = graphene.NonNull(graphene.String)


class FloatMetadataEntry(graphene.ObjectType):
    """`floatValue` is null for NaN and infinities, which GraphQL's Float cannot carry."""

    class Meta:
        interfaces = (MetadataEntry,)

    floatValue = graphene.Float()
    floatRepr = graphene.NonNull(graphene.String)


class BoolMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    boolValue = graphene.Boolean()


class TimestampMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    timestamp = graphene.NonNull(graphene.Float)


class PipelineRunMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    runId = graphene.NonNull(graphene.String)


class AssetMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    assetKey = graphene.NonNull(AssetKey)


class JobMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    jobName = graphene.NonNull(graphene.String)
    repositoryName = graphene.String()
    locationName = graphene.NonNull(graphene.String)


class PoolMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    pool = graphene.NonNull(graphene.String)


class NullMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)


class TableConstraints(graphene.ObjectType):
    other = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


class TableColumnConstraints(graphene.ObjectType):
    nullable = graphene.NonNull(graphene.Boolean)
    unique = graphene.NonNull(graphene.Boolean)
    other = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


class TableColumn(graphene.ObjectType):
    name = graphene.NonNull(graphene.String)
    type = graphene.NonNull(graphene.String)
    description = graphene.String()
    constraints = graphene.NonNull(TableColumnConstraints)
    tags = graphene.NonNull(graphene.List(graphene.NonNull(DefinitionTag)))


class TableSchema(graphene.ObjectType):
    constraints = graphene.Field(TableConstraints)
    columns = graphene.NonNull(graphene.List(graphene.NonNull(TableColumn)))


class Table(graphene.ObjectType):
    """`records` are the rows, each as a JSON object; NaN and infinities, which JSON cannot hold, are written
    as the strings JavaScript shows for them ("NaN", "Infinity", "-Infinity")."""

    schema = graphene.NonNull(TableSchema)
    records = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))

    def __init__(self, schema: TableSchema, rows: list[dict[str, Any]]):
        super().__init__(schema=schema)
        self.rows = rows  # the decoded records: the pages show the first rows without parsing JSON back

    def resolve_records(root, info) -> list[str]:
        return [json.dumps({key: _json_cell(value) for key, value in row.items()}) for row in root.rows]


class TableMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    table = graphene.NonNull(Table)


class TableSchemaMetadataEntry(graphene.ObjectType):
    class Meta:
        interfaces = (MetadataEntry,)

    schema = graphene.NonNull(TableSchema)


def _int_entry(label: str, data: Any) -> IntMetadataEntry:
    return IntMetadataEntry(label=label, intValue=data if data in INT32 else None, intRepr=str(data))


def _float_entry(label: str, data: Any) -> FloatMetadataEntry:
    value = float(data)
    return FloatMetadataEntry(
        label=label, floatValue=value if math.isfinite(value) else None, floatRepr=str(value)
    )


def _timestamp_entry(label: str, data: Any) -> TimestampMetadataEntry | FloatMetadataEntry:
    value = float(data)
    # `timestamp` is a non-null Float, which GraphQL cannot carry as NaN or infinity: such a value (the SDK
    # accepts it, as Dagster's does) is served as a float entry whose `floatRepr` says what it was.
    if not math.isfinite(value):
        return _float_entry(label, value)
    return TimestampMetadataEntry(label=label, timestamp=value)


def _asset_entry(label: str, data: Any) -> AssetMetadataEntry:
    path = data.get("path", []) if isinstance(data, dict) else data
    return AssetMetadataEntry(label=label, assetKey=AssetKey(path=[str(p) for p in path]))


_NON_FINITE_TEXT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_CELL_TYPES = (str, int, float, bool, type(None))  # what a TableRecord holds


def _json_cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE_TEXT[str(value)]
    return value


def _checked(value: Any, kind: type, *, optional: bool = False) -> Any:
    """`value` when it is a `kind` (or None, if `optional`); a TypeError makes the entry fall back to JSON."""
    if isinstance(value, kind) or (optional and value is None):
        return value
    raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")


def _strings(value: Any) -> list[str]:
    return [_checked(item, str) for item in _checked(value, list)]


def _table_schema(data: Any) -> TableSchema:
    """A stored schema (the shape orchestra/_core/metadata/json_form.py writes, with its defaults)."""
    columns = []
    for column in _checked(data["columns"], list):
        constraints = _checked(column.get("constraints", {}), dict)
        columns.append(TableColumn(
            name=_checked(column["name"], str),
            type=_checked(column["type"], str),
            description=_checked(column.get("description"), str, optional=True),
            constraints=TableColumnConstraints(
                nullable=_checked(constraints.get("nullable", True), bool),
                unique=_checked(constraints.get("unique", False), bool),
                other=_strings(constraints.get("other", [])),
            ),
            tags=[DefinitionTag(key=key, value=_checked(value, str))
                  for key, value in _checked(column.get("tags") or {}, dict).items()],
        ))
    constraints = _checked(data.get("constraints", {}), dict)
    return TableSchema(columns=columns, constraints=TableConstraints(other=_strings(constraints.get("other", []))))


def _table_entry(label: str, data: Any) -> TableMetadataEntry:
    rows = _checked(data["records"], list)
    for row in rows:
        if not all(isinstance(value, _CELL_TYPES) for value in _checked(row, dict).values()):
            raise TypeError("a table cell holds a str, int, float, bool or None")
    return TableMetadataEntry(label=label, table=Table(schema=_table_schema(data["schema"]), rows=rows))


# Stored metadata kind -> how to build its entry from (label, decoded data).
ENTRY_BUILDERS: dict[str, Callable[[str, Any], graphene.ObjectType]] = {
    "text": lambda label, data: TextMetadataEntry(label=label, text=str(data)),
    "url": lambda label, data: UrlMetadataEntry(label=label, url=str(data)),
    "md": lambda label, data: MarkdownMetadataEntry(label=label, mdStr=str(data)),
    "path": lambda label, data: PathMetadataEntry(label=label, path=str(data)),
    "notebook": lambda label, data: NotebookMetadataEntry(label=label, path=str(data)),
    "json": lambda label, data: _json_entry(label, data),
    "int": _int_entry,
    "float": _float_entry,
    "bool": lambda label, data: BoolMetadataEntry(label=label, boolValue=bool(data)),
    "timestamp": _timestamp_entry,
    "dagster_run": lambda label, data: PipelineRunMetadataEntry(label=label, runId=str(data)),
    "asset": _asset_entry,
    "job": lambda label, data: JobMetadataEntry(
        label=label, jobName=str(data["job_name"]), locationName=str(data["location_name"]),
        repositoryName=None if data.get("repository_name") is None else str(data["repository_name"]),
    ),
    "pool": lambda label, data: PoolMetadataEntry(label=label, pool=str(data)),
    "null": lambda label, data: NullMetadataEntry(label=label),
    "table": _table_entry,
    "table_schema": lambda label, data: TableSchemaMetadataEntry(label=label, schema=_table_schema(data)),
}

METADATA_ENTRY_TYPES = (
    TextMetadataEntry,
    UrlMetadataEntry,
    MarkdownMetadataEntry,
    PathMetadataEntry,
    NotebookMetadataEntry,
    JsonMetadataEntry,
    IntMetadataEntry,
    FloatMetadataEntry,
    BoolMetadataEntry,
    TimestampMetadataEntry,
    PipelineRunMetadataEntry,
    AssetMetadataEntry,
    JobMetadataEntry,
    PoolMetadataEntry,
    NullMetadataEntry,
    TableMetadataEntry,
    TableSchemaMetadataEntry,
)


def metadata_entries(stored: Any) -> list[graphene.ObjectType]:
    """The entries of a payload's `metadata` list; a malformed entry is served as JSON, not an error."""
    entries = []
    for item in stored if isinstance(stored, list) else []:
        if not isinstance(item, dict):
            continue
        label = str(decode_tagged(item.get("label", "")))
        data = decode_tagged(item.get("data"))
        builder = ENTRY_BUILDERS.get(str(item.get("type")))
        try:
            entries.append(builder(label, data) if builder else _json_entry(label, data))
        except (TypeError, ValueError, AttributeError, KeyError):
            entries.append(_json_entry(label, data))
    return entries


def _json_entry(label: str, data: Any) -> JsonMetadataEntry:
    try:
        text = json.dumps(data, default=str, allow_nan=False)
    except ValueError:  # NaN or infinity somewhere inside: not JSON, so the whole value is shown as text
        text = json.dumps(str(data))
    return JsonMetadataEntry(label=label, jsonString=text)
