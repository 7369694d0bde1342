"""Typed metadata values (`MetadataValue` and its concrete classes) and coercion of plain values."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from orchestra._core.metadata.table import (
    TableColumn,
    TableColumnLineage,
    TableRecord,
    TableSchema,
    _check,
    _is_asset_key,
)
from orchestra._errors import DagsterInvalidMetadata

# --- metadata values -------------------------------------------------------------------------------------


class MetadataValue:
    """Base of typed metadata values; build them with the static constructors.

    Every value has `.value`; the concrete classes also keep Dagster's attribute names
    (`TextMetadataValue.text`, `UrlMetadataValue.url`, `JsonMetadataValue.data`, ...).

    Example:
        ```python
        yield dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(10),
                                             "dashboard": dg.MetadataValue.url("http://...")})
        ```
    """

    kind: ClassVar[str]  # the type name in the stored JSON form

    def __class_getitem__(cls, item: Any) -> type:
        return cls  # `MetadataValue[str]` in annotations, as Dagster's generic class allows

    @staticmethod
    def text(text: str) -> TextMetadataValue:
        return TextMetadataValue(text)

    @staticmethod
    def url(url: str) -> UrlMetadataValue:
        return UrlMetadataValue(url)

    @staticmethod
    def path(path: str | os.PathLike) -> PathMetadataValue:
        return PathMetadataValue(path)

    @staticmethod
    def notebook(path: str | os.PathLike) -> NotebookMetadataValue:
        return NotebookMetadataValue(path)

    @staticmethod
    def json(data: Sequence[Any] | Mapping[str, Any]) -> JsonMetadataValue:
        return JsonMetadataValue(data)

    @staticmethod
    def md(data: str) -> MarkdownMetadataValue:
        return MarkdownMetadataValue(data)

    @staticmethod
    def python_artifact(python_artifact: Callable[..., Any]) -> PythonArtifactMetadataValue:
        if not callable(python_artifact):
            raise TypeError(f'Param "python_artifact" is not callable. Got {python_artifact!r}.')
        return PythonArtifactMetadataValue(python_artifact.__module__, python_artifact.__name__)

    @staticmethod
    def float(value: float) -> FloatMetadataValue:
        return FloatMetadataValue(value)

    @staticmethod
    def int(value: int) -> IntMetadataValue:
        return IntMetadataValue(value)

    @staticmethod
    def bool(value: bool) -> BoolMetadataValue:
        return BoolMetadataValue(value)

    @staticmethod
    def timestamp(value: float | datetime) -> TimestampMetadataValue:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise DagsterInvalidMetadata(
                    "Datetime values provided to MetadataValue.timestamp must have timezones, but "
                    f"{value.isoformat()} does not"
                )
            return TimestampMetadataValue(value.timestamp())
        if isinstance(value, float):
            return TimestampMetadataValue(value)
        raise DagsterInvalidMetadata(f"Expected either a float or a datetime, but received a {type(value)}")

    @staticmethod
    def dagster_run(run_id: str) -> DagsterRunMetadataValue:
        return DagsterRunMetadataValue(run_id)

    @staticmethod
    def asset(asset_key: Any) -> DagsterAssetMetadataValue:
        if not _is_asset_key(asset_key):
            raise TypeError(f'Param "asset_key" is not a AssetKey. Got {asset_key!r} which is type {type(asset_key)}.')
        return DagsterAssetMetadataValue(asset_key)

    @staticmethod
    def job(job_name: str, location_name: str, *, repository_name: str | None = None) -> DagsterJobMetadataValue:
        return DagsterJobMetadataValue(job_name, location_name, repository_name)

    @staticmethod
    def table(records: Sequence[TableRecord], schema: TableSchema | None = None) -> TableMetadataValue:
        return TableMetadataValue(records, schema)

    @staticmethod
    def table_schema(schema: TableSchema) -> TableSchemaMetadataValue:
        return TableSchemaMetadataValue(schema)

    @staticmethod
    def column_lineage(lineage: TableColumnLineage) -> TableColumnLineageMetadataValue:
        return TableColumnLineageMetadataValue(lineage)

    @staticmethod
    def null() -> NullMetadataValue:
        return NullMetadataValue()

    @staticmethod
    def code_location_reconstruction(data: str) -> CodeLocationReconstructionMetadataValue:
        return CodeLocationReconstructionMetadataValue(data)

    @staticmethod
    def pool(pool: str) -> PoolMetadataValue:
        return PoolMetadataValue(pool)


def _frozen(cls: type) -> type:
    return dataclasses.dataclass(frozen=True)(cls)


@_frozen
class TextMetadataValue(MetadataValue):
    kind = "text"
    text: str | None = ""

    def __post_init__(self) -> None:
        _check(self.text, str, "text", optional=True)

    @property
    def value(self) -> str:
        return self.text if self.text is not None else ""


@_frozen
class UrlMetadataValue(MetadataValue):
    kind = "url"
    url: str | None = ""

    def __post_init__(self) -> None:
        _check(self.url, str, "url", optional=True)

    @property
    def value(self) -> str:
        return self.url if self.url is not None else ""


@_frozen
class MarkdownMetadataValue(MetadataValue):
    kind = "md"
    md_str: str | None = ""

    def __post_init__(self) -> None:
        _check(self.md_str, str, "md_str", optional=True)

    @property
    def value(self) -> str:
        return self.md_str if self.md_str is not None else ""


class _FsPathValue(MetadataValue):
    fspath: str

    def __init__(self, path: str | os.PathLike | None):
        _check(path, (str, os.PathLike), "path", optional=True)
        object.__setattr__(self, "fspath", os.fspath(path) if path is not None else "")

    @property
    def value(self) -> str:
        return self.fspath

    @property
    def path(self) -> str:  # type: ignore[override]
        return self.fspath


@dataclasses.dataclass(frozen=True, init=False)
class PathMetadataValue(_FsPathValue):
    kind = "path"
    fspath: str


@dataclasses.dataclass(frozen=True, init=False)
class NotebookMetadataValue(_FsPathValue):
    kind = "notebook"
    fspath: str


@dataclasses.dataclass(frozen=True, init=False)
class JsonMetadataValue(MetadataValue):
    kind = "json"
    data: Any

    def __init__(self, data: Sequence[Any] | Mapping[str, Any] | None):
        try:
            data = json.loads(json.dumps(data))  # a private copy with JSON's key and value rules
        except (TypeError, ValueError):
            raise DagsterInvalidMetadata("Value is not JSON serializable.") from None
        object.__setattr__(self, "data", data)

    @property
    def value(self) -> Any:
        return self.data


@_frozen
class PythonArtifactMetadataValue(MetadataValue):
    kind = "python_artifact"
    module: str
    name: str

    @property
    def value(self) -> PythonArtifactMetadataValue:
        return self


@_frozen
class FloatMetadataValue(MetadataValue):
    kind = "float"
    value: float | None

    def __post_init__(self) -> None:
        _check(self.value, float, "value", optional=True)


@_frozen
class IntMetadataValue(MetadataValue):
    kind = "int"
    value: int | None

    def __post_init__(self) -> None:
        _check(self.value, int, "value", optional=True)


@_frozen
class BoolMetadataValue(MetadataValue):
    kind = "bool"
    value: bool | None

    def __post_init__(self) -> None:
        _check(self.value, bool, "value", optional=True)


@_frozen
class TimestampMetadataValue(MetadataValue):
    kind = "timestamp"
    value: float

    def __post_init__(self) -> None:
        _check(self.value, float, "value")


@_frozen
class DagsterRunMetadataValue(MetadataValue):
    kind = "dagster_run"
    run_id: str

    @property
    def value(self) -> str:
        return self.run_id


@_frozen
class DagsterJobMetadataValue(MetadataValue):
    kind = "job"
    job_name: str
    location_name: str
    repository_name: str | None = None

    def __post_init__(self) -> None:
        _check(self.job_name, str, "job_name")
        _check(self.location_name, str, "location_name")
        _check(self.repository_name, str, "repository_name", optional=True)

    @property
    def value(self) -> DagsterJobMetadataValue:
        return self


@_frozen
class DagsterAssetMetadataValue(MetadataValue):
    kind = "asset"
    asset_key: Any

    @property
    def value(self) -> Any:
        return self.asset_key


def _infer_column_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string"


@dataclasses.dataclass(frozen=True, init=False)
class TableMetadataValue(MetadataValue):
    kind = "table"
    records: Sequence[TableRecord]
    schema: TableSchema

    infer_column_type = staticmethod(_infer_column_type)

    def __init__(self, records: Sequence[TableRecord], schema: TableSchema | None = None):
        for record in records:
            _check(record, TableRecord, "records")
        _check(schema, TableSchema, "schema", optional=True)
        if not records:
            if schema is None:
                raise DagsterInvalidMetadata("schema must be provided if records is empty")
        else:
            columns = set(records[0].data)
            if any(set(record.data) != columns for record in records[1:]):
                raise DagsterInvalidMetadata("All records must have the same fields")
            if schema is None:
                schema = TableSchema(
                    columns=[TableColumn(name=k, type=_infer_column_type(v)) for k, v in records[0].data.items()]
                )
        object.__setattr__(self, "records", list(records))
        object.__setattr__(self, "schema", schema)

    @property
    def value(self) -> TableMetadataValue:
        return self


@_frozen
class TableSchemaMetadataValue(MetadataValue):
    kind = "table_schema"
    schema: TableSchema

    def __post_init__(self) -> None:
        _check(self.schema, TableSchema, "schema")

    @property
    def value(self) -> TableSchema:
        return self.schema


@dataclasses.dataclass(frozen=True, init=False)
class TableColumnLineageMetadataValue(MetadataValue):
    kind = "column_lineage"
    lineage: TableColumnLineage

    def __init__(self, column_lineage: TableColumnLineage):
        object.__setattr__(self, "lineage", _check(column_lineage, TableColumnLineage, "column_lineage"))

    @property
    def value(self) -> TableColumnLineage:
        return self.lineage

    @property
    def column_lineage(self) -> TableColumnLineage:  # type: ignore[override]
        return self.lineage


@_frozen
class NullMetadataValue(MetadataValue):
    kind = "null"

    @property
    def value(self) -> None:
        return None


@_frozen
class CodeLocationReconstructionMetadataValue(MetadataValue):
    kind = "code_location_reconstruction"
    data: str

    @property
    def value(self) -> str:
        return self.data


@dataclasses.dataclass(frozen=True, init=False)
class PoolMetadataValue(MetadataValue):
    kind = "pool"
    name: str

    def __init__(self, pool: str):
        object.__setattr__(self, "name", _check(pool, str, "pool"))

    @property
    def value(self) -> str:
        return self.name

    @property
    def pool(self) -> str:  # type: ignore[override]
        return self.name


# --- coercion --------------------------------------------------------------------------------------------


def normalize_metadata_value(raw: Any) -> MetadataValue:
    """The MetadataValue for one plain value, as Dagster coerces it."""
    if isinstance(raw, MetadataValue):
        return raw
    if isinstance(raw, str):
        return TextMetadataValue(raw)
    if isinstance(raw, float):
        return FloatMetadataValue(raw)
    if isinstance(raw, bool):
        return BoolMetadataValue(raw)
    if isinstance(raw, int):
        return IntMetadataValue(raw)
    if isinstance(raw, (list, dict)):
        return JsonMetadataValue(raw)
    if isinstance(raw, os.PathLike):
        return PathMetadataValue(raw)
    if _is_asset_key(raw):
        return DagsterAssetMetadataValue(raw)
    if isinstance(raw, TableSchema):
        return TableSchemaMetadataValue(raw)
    if isinstance(raw, TableColumnLineage):
        return TableColumnLineageMetadataValue(raw)
    if raw is None:
        return NullMetadataValue()
    raise DagsterInvalidMetadata(
        f"Its type was {type(raw)}. Consider wrapping the value with the appropriate MetadataValue type."
    )


def normalize_metadata(metadata: Mapping[str, Any] | None, allow_invalid: bool = False) -> dict[str, MetadataValue]:
    """Coerce every value of user metadata to a MetadataValue (str -> text, int -> int, dict -> json, ...).

    Raises DagsterInvalidMetadata naming the key of a value that has no metadata type, unless
    `allow_invalid`, which records it as text "[<Type>] (unserializable)".
    """
    normalized: dict[str, MetadataValue] = {}
    for key, raw in (metadata or {}).items():
        try:
            normalized[key] = normalize_metadata_value(raw)
        except DagsterInvalidMetadata as exc:
            if not allow_invalid:
                raise DagsterInvalidMetadata(
                    f'Could not resolve the metadata value for "{key}" to a known type. {exc}'
                ) from None
            normalized[key] = TextMetadataValue(f"[{type(raw).__name__}] (unserializable)")
    return normalized
