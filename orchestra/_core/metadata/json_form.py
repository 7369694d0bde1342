"""Metadata to and from strict JSON, for the event log.

The output passes `json.dumps(..., allow_nan=False)` and is safe for PostgreSQL `jsonb`: NaN and
infinities, strings holding NUL or lone surrogates, and dicts with such keys are written as tagged
objects (`{"__float__": "NaN"}`, `{"__bytes__": <base64>}`, `{"__items__": [[k, v], ...]}`). A user
dict that itself uses a tag name as a key is always written in the `__items__` form, so reading
back is unambiguous.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from typing import Any

from orchestra._core.metadata import code_references as cr
from orchestra._core.metadata import table as t
from orchestra._core.metadata import values as v
from orchestra._errors import DagsterInvalidMetadata

_TAGS = ("__float__", "__bytes__", "__items__")
_UNSAFE_CHAR = re.compile("[\x00\ud800-\udfff]")  # NUL or a lone surrogate: not storable in jsonb


def _is_safe_str(text: str) -> bool:
    return _UNSAFE_CHAR.search(text) is None


def encode_json_value(value: Any) -> Any:
    """A strict-JSON encoding of a python JSON-like value (see the module docstring)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, str):
        if _is_safe_str(value):
            return value
        return {"__bytes__": base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii")}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and _is_safe_str(k) and k not in _TAGS for k in value):
            return {k: encode_json_value(item) for k, item in value.items()}
        return {"__items__": [[encode_json_value(k), encode_json_value(item)] for k, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [encode_json_value(item) for item in value]
    return value


def decode_json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_json_value(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, payload), = value.items()
            if tag == "__float__":
                return float(payload.lower().replace("infinity", "inf"))
            if tag == "__bytes__":
                return base64.b64decode(payload).decode("utf-8", "surrogatepass")
            if tag == "__items__":
                return {decode_json_value(k): decode_json_value(item) for k, item in payload}
        return {k: decode_json_value(item) for k, item in value.items()}
    return value


# --- per-type payloads -----------------------------------------------------------------------------------


def _asset_key_to_json(asset_key: Any) -> list[str]:
    return list(asset_key.path)


def _asset_key_from_json(path: list[str]) -> Any:
    return t._to_asset_key(list(path))


def _schema_to_json(schema: t.TableSchema) -> dict[str, Any]:
    return {
        "columns": [
            {
                "name": c.name,
                "type": c.type,
                "description": c.description,
                "constraints": {
                    "nullable": c.constraints.nullable,
                    "unique": c.constraints.unique,
                    "other": list(c.constraints.other),
                },
                "tags": dict(c.tags),
            }
            for c in schema.columns
        ],
        "constraints": {"other": list(schema.constraints.other)},
    }


def _schema_from_json(data: Mapping[str, Any]) -> t.TableSchema:
    return t.TableSchema(
        columns=[
            t.TableColumn(
                name=c["name"],
                type=c["type"],
                description=c.get("description"),
                constraints=t.TableColumnConstraints(**c.get("constraints", {})),
                tags=c.get("tags") or {},
            )
            for c in data["columns"]
        ],
        constraints=t.TableConstraints(other=list(data.get("constraints", {}).get("other", []))),
    )


def _lineage_to_json(lineage: t.TableColumnLineage) -> dict[str, Any]:
    return {
        column: [{"asset_key": _asset_key_to_json(d.asset_key), "column_name": d.column_name} for d in deps]
        for column, deps in lineage.deps_by_column.items()
    }


def _lineage_from_json(data: Mapping[str, Any]) -> t.TableColumnLineage:
    return t.TableColumnLineage(
        deps_by_column={
            column: [t.TableColumnDep(_asset_key_from_json(d["asset_key"]), d["column_name"]) for d in deps]
            for column, deps in data.items()
        }
    )


def _payload(value: v.MetadataValue) -> Any:
    if isinstance(value, (v.TextMetadataValue, v.UrlMetadataValue, v.MarkdownMetadataValue)):
        return value.value
    if isinstance(value, (v.PathMetadataValue, v.NotebookMetadataValue)):
        return value.fspath
    if isinstance(value, v.JsonMetadataValue):
        return value.data
    if isinstance(value, (v.FloatMetadataValue, v.IntMetadataValue, v.BoolMetadataValue, v.TimestampMetadataValue)):
        return value.value
    if isinstance(value, v.PythonArtifactMetadataValue):
        return {"module": value.module, "name": value.name}
    if isinstance(value, v.DagsterRunMetadataValue):
        return value.run_id
    if isinstance(value, v.DagsterJobMetadataValue):
        return {"job_name": value.job_name, "location_name": value.location_name, "repository_name": value.repository_name}
    if isinstance(value, v.DagsterAssetMetadataValue):
        return _asset_key_to_json(value.asset_key)
    if isinstance(value, v.TableMetadataValue):
        return {"records": [dict(r.data) for r in value.records], "schema": _schema_to_json(value.schema)}
    if isinstance(value, v.TableSchemaMetadataValue):
        return _schema_to_json(value.schema)
    if isinstance(value, v.TableColumnLineageMetadataValue):
        return _lineage_to_json(value.lineage)
    if isinstance(value, v.NullMetadataValue):
        return None
    if isinstance(value, (v.CodeLocationReconstructionMetadataValue,)):
        return value.data
    if isinstance(value, v.PoolMetadataValue):
        return value.name
    if isinstance(value, cr.CodeReferencesMetadataValue):
        return [
            {"url": ref.url, "label": ref.label}
            if isinstance(ref, cr.UrlCodeReference)
            else {"file_path": ref.file_path, "line_number": ref.line_number, "label": ref.label}
            for ref in value.code_references
        ]
    raise DagsterInvalidMetadata(f"Metadata value of type {type(value).__name__} cannot be stored.")


def _from_payload(kind: str, data: Any) -> v.MetadataValue:
    simple = {
        "text": v.TextMetadataValue,
        "url": v.UrlMetadataValue,
        "md": v.MarkdownMetadataValue,
        "path": v.PathMetadataValue,
        "notebook": v.NotebookMetadataValue,
        "json": v.JsonMetadataValue,
        "float": v.FloatMetadataValue,
        "int": v.IntMetadataValue,
        "bool": v.BoolMetadataValue,
        "timestamp": v.TimestampMetadataValue,
        "dagster_run": v.DagsterRunMetadataValue,
        "code_location_reconstruction": v.CodeLocationReconstructionMetadataValue,
        "pool": v.PoolMetadataValue,
    }
    if kind in simple:
        if kind in ("float", "timestamp") and isinstance(data, int) and not isinstance(data, bool):
            data = float(data)  # JSON writers may drop ".0"
        return simple[kind](data)
    if kind == "python_artifact":
        return v.PythonArtifactMetadataValue(data["module"], data["name"])
    if kind == "job":
        return v.DagsterJobMetadataValue(data["job_name"], data["location_name"], data.get("repository_name"))
    if kind == "asset":
        return v.DagsterAssetMetadataValue(_asset_key_from_json(data))
    if kind == "table":
        return v.TableMetadataValue([t.TableRecord(dict(r)) for r in data["records"]], _schema_from_json(data["schema"]))
    if kind == "table_schema":
        return v.TableSchemaMetadataValue(_schema_from_json(data))
    if kind == "column_lineage":
        return v.TableColumnLineageMetadataValue(_lineage_from_json(data))
    if kind == "null":
        return v.NullMetadataValue()
    if kind == "code_references":
        return cr.CodeReferencesMetadataValue(
            code_references=[
                cr.UrlCodeReference(**ref) if "url" in ref else cr.LocalFileCodeReference(**ref) for ref in data
            ]
        )
    raise DagsterInvalidMetadata(f"Unknown stored metadata type {kind!r}.")


# Plain values of exactly these types normalize to the metadata type named here and are their own
# payload: definition metadata (a location's 2,000 assets) is mostly such values.
_PLAIN_KINDS = {str: "text", int: "int", bool: "bool", float: "float"}


def metadata_to_json(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Metadata (plain values are normalized first) as a strict-JSON list of `{label, type, data}` entries."""
    kinds = _PLAIN_KINDS
    if all(type(raw) in kinds for raw in metadata.values()):  # same entries as the general path, built directly
        return [
            {"label": encode_json_value(label), "type": kinds[type(raw)], "data": encode_json_value(raw)}
            for label, raw in metadata.items()
        ]
    return [
        {"label": encode_json_value(label), "type": value.kind, "data": encode_json_value(_payload(value))}
        for label, value in v.normalize_metadata(metadata).items()
    ]


def metadata_from_json(entries: list[Mapping[str, Any]]) -> dict[str, v.MetadataValue]:
    """The metadata dict `metadata_to_json` was given, with every value a MetadataValue."""
    return {
        decode_json_value(entry["label"]): _from_payload(entry["type"], decode_json_value(entry["data"]))
        for entry in entries
    }
