"""Config schemas as data: JSON Schema for the launchpad and a plain snapshot the server can rebuild.

`to_json_schema` lets any JSON Schema validator check run config. `config_type_snapshot` is a
JSON-able description of every type in a schema, keyed by type key; `config_type_from_snapshot`
rebuilds equivalent config types (enum python values become their config strings) so the server
can run Orchestra's own validator, with Dagster's messages, outside the user's process.
"""

from __future__ import annotations

from typing import Any

from orchestra._config.field import Field
from orchestra._config.sources import BoolSource, IntSource, StringSource
from orchestra._config.types import (
    Array,
    ConfigAnyInstance,
    ConfigBoolInstance,
    ConfigFloatInstance,
    ConfigIntInstance,
    ConfigScalarKind,
    ConfigStringInstance,
    ConfigType,
    ConfigTypeKind,
    Enum,
    EnumValue,
    Map,
    Noneable,
    Permissive,
    ScalarUnion,
    Selector,
    Shape,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_SCALAR_JSON_TYPES = {
    ConfigScalarKind.INT: "integer",
    ConfigScalarKind.STRING: "string",
    ConfigScalarKind.BOOL: "boolean",
    ConfigScalarKind.FLOAT: "number",
}


_PLAIN_LEAVES = frozenset({str, bool, int, type(None)})  # what `_plain` gives back as it is


def _plain(value: Any) -> Any:
    """A value from user code (a default, a description) as plain JSON; the rest of a schema already is."""
    if value is None or type(value) in (str, bool, int):
        return value
    from orchestra._core.snapshot.plain import to_plain

    return to_plain(value)


def _as_field(schema: object) -> Field:
    from orchestra._config.field import convert_potential_field

    if isinstance(schema, Field):
        return schema
    if isinstance(schema, ConfigType):
        return Field(schema)
    return convert_potential_field(schema)


def to_json_schema(schema: object, memo: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) accepting the run config `schema` accepts; plain JSON, as
    `orchestra._core.snapshot.plain.to_plain` would make it.

    `memo` (type key -> schema) lets several schemas share the work for the types they share, e.g.
    every job of a location; the schemas returned then share those parts, so treat them as read-only.
    Without it, types are still described once per call (a job's ops share their config types).

    Known looseness: JSON Schema counts 1.0 as an integer, and Map keys are strings in JSON, so
    non-string key types are checked only by pattern (Int) or not at all (Float, Bool).
    """
    field = _as_field(schema)
    out = {"$schema": JSON_SCHEMA_DIALECT, **_type_schema(field.config_type, {} if memo is None else memo)}
    if field.description:
        out["description"] = _plain(field.description)
    return out


def _type_schema(config_type: ConfigType, memo: dict[str, Any]) -> dict[str, Any]:
    # the key identifies a type by its structure (as `config_type_snapshot` keys its types)
    cached = memo.get(config_type.key)
    if cached is None:
        cached = memo[config_type.key] = _new_type_schema(config_type, memo)
    return cached


def _new_type_schema(config_type: ConfigType, memo: dict[str, Any]) -> dict[str, Any]:
    kind = config_type.kind
    if kind is ConfigTypeKind.ANY:
        return {}
    if kind is ConfigTypeKind.SCALAR:
        return {"type": _SCALAR_JSON_TYPES[config_type.scalar_kind]}  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.ENUM:
        return {"type": "string", "enum": _plain(list(config_type.config_values)), "title": _plain(config_type.given_name)}  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.NONEABLE:
        return {"anyOf": [{"type": "null"}, _type_schema(config_type.inner_type, memo)]}  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.ARRAY:
        return {"type": "array", "items": _type_schema(config_type.inner_type, memo)}  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.SCALAR_UNION:
        return {"anyOf": [_type_schema(config_type.scalar_type, memo), _type_schema(config_type.non_scalar_type, memo)]}  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.MAP:
        out: dict[str, Any] = {"type": "object", "additionalProperties": _type_schema(config_type.inner_type, memo)}  # type: ignore[attr-defined]
        key_kind = getattr(config_type.key_type, "scalar_kind", None)  # type: ignore[attr-defined]
        if key_kind is ConfigScalarKind.INT:
            out["propertyNames"] = {"pattern": "^-?[0-9]+$"}
        return out
    return _fields_schema(config_type, memo)


def _field_schema(field: Field, memo: dict[str, Any], selector_branch: bool = False) -> dict[str, Any]:
    inner = _type_schema(field.config_type, memo)
    if selector_branch and ConfigTypeKind.has_fields(field.config_type.kind):
        inner = {"anyOf": [{"type": "null"}, inner]}  # `filesystem:` with no value selects the branch
    if field.description:
        inner = {**inner, "description": _plain(field.description)}
    if field.default_provided:
        inner = {**inner, "default": _plain(field.default_value)}
    if field.is_secret:
        inner = {**inner, "writeOnly": True}
    return inner


def _fields_schema(config_type: ConfigType, memo: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Field] = config_type.fields  # type: ignore[attr-defined]
    is_selector = config_type.kind is ConfigTypeKind.SELECTOR
    out: dict[str, Any] = {
        "type": "object",
        "properties": {name: _field_schema(fld, memo, selector_branch=is_selector) for name, fld in fields.items()},
        "additionalProperties": config_type.kind is ConfigTypeKind.PERMISSIVE_SHAPE,
    }
    if config_type.description:
        out["description"] = _plain(config_type.description)
    if is_selector:
        out["maxProperties"] = 1
        only_optional = len(fields) == 1 and not next(iter(fields.values())).is_required
        if not only_optional:
            out["minProperties"] = 1
        return out
    aliases: dict[str, str] = getattr(config_type, "field_aliases", {}) or {}
    for name, alias in aliases.items():
        out["properties"][alias] = out["properties"][name]
    required = [name for name, fld in fields.items() if fld.is_required and name not in aliases]
    if required:
        out["required"] = required
    either = [{"anyOf": [{"required": [name]}, {"required": [aliases[name]]}]} for name in aliases if fields[name].is_required]
    if either:
        out["allOf"] = either
    return out


# --- snapshots -------------------------------------------------------------------------------------------


def config_type_snapshot(schema: object, memo: dict[str, Any] | None = None,
                         field_memo: dict[Any, Any] | None = None) -> dict[str, Any]:
    """`{"root": <type key>, "field": {...}, "types": {key: {...}}}`: every type reachable from `schema`,
    as plain JSON (as `orchestra._core.snapshot.plain.to_plain` would make it).

    `memo` (type key -> type snapshot) shares the descriptions of common types between calls, as
    `to_json_schema`'s does; the snapshots returned then share them, so treat them as read-only.
    `field_memo` (kept as long as `memo`) describes each Field object, and each dict in a default,
    once: the ops of a location's asset jobs mostly share one unconfigured op Field."""
    field = _as_field(schema)
    memo = {} if memo is None else memo
    field_memo = {} if field_memo is None else field_memo
    types: dict[str, Any] = {}
    # what `type_iterator()` yields, inner types first, without walking again below a key already
    # described: a key names a structure, so its inner types are described too (a job's ops share
    # their config types, and a 2,000-op job's walk repeated them thousands of times)
    pending: list[tuple[ConfigType, bool]] = [(field.config_type, False)]
    while pending:
        config_type, expanded = pending.pop()
        key = config_type.key
        if key in types:
            continue
        if not expanded:
            pending.append((config_type, True))
            pending.extend((inner, False) for inner in reversed(_inner_types(config_type)))
            continue
        snap = memo.get(key)
        if snap is None:
            snap = memo[key] = _type_snap(config_type, field_memo)
        types[key] = snap
    return {"root": field.config_type.key, "field": _field_snap("", field, field_memo), "types": types}


def _inner_types(config_type: ConfigType) -> list[ConfigType]:
    """The types `config_type.type_iterator()` walks before yielding `config_type` itself, each type
    object once (the 2,000 op fields of an `ops` shape mostly share one)."""
    if ConfigTypeKind.has_fields(config_type.kind):
        return list({id(f.config_type): f.config_type for f in config_type.fields.values()}.values())  # type: ignore[attr-defined]
    return list(config_type.type_params or ())


def _field_snap(name: str, field: Field, field_memo: dict[Any, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type_key": field.config_type.key,
        "is_required": field.is_required,
        "default_provided": field.default_provided,
        "default_value": _plain_default(field.default_value, {} if field_memo is None else field_memo)
        if field.default_provided else None,
        "description": _plain(field.description),
        "is_secret": bool(field.is_secret),
    }


def _plain_default(value: Any, field_memo: dict[Any, Any]) -> Any:
    """`_plain(value)` for a field's default, each dict in it made plain once per `field_memo`.

    A shape's implicit default holds its fields' defaults as they are: the run-config schema's root
    default holds its `ops` default, which holds the one default every unconfigured op shares; walking
    them again for each was a twentieth of a 2,000-op location's snapshot. A dict that is plain
    already (string keys, plain values: an `ops` default of 2,000 entries) is used as it is, not copied.
    """
    if type(value) is not dict:
        return _plain(value)
    if not value:  # plain as it is: every unconfigured op's `{}`
        return value
    entry = field_memo.get(("default", id(value)))
    if entry is None:  # the value kept alive so its id stays its own
        if all(type(k) is str for k in value):
            leaves = _PLAIN_LEAVES
            plain = {k: v if type(v) in leaves or (type(v) is dict and not v) else _plain_default(v, field_memo)
                     for k, v in value.items()}
            if all(plain[k] is v for k, v in value.items()):
                plain = value
        else:
            plain = _plain(value)
        entry = field_memo[("default", id(value))] = (value, plain)
    return entry[1]


def _named_field_snap(name: str, field: Field, field_memo: dict[Any, Any]) -> dict[str, Any]:
    """The snap of `field` under `name`, made once per pair: the jobs of a location share their ops'
    fields under the ops' names (an asset's op is in its group's job and in `__ASSET_JOB`)."""
    entry = field_memo.get(id(field))
    if entry is None:  # the Field kept alive so its id stays its own
        entry = field_memo[id(field)] = (field, _field_snap("", field, field_memo), {})
    named = entry[2]
    snap = named.get(name)
    if snap is None:
        snap = named[name] = entry[1].copy()
        snap["name"] = name
    return snap


def _type_snap(config_type: ConfigType, field_memo: dict[Any, Any] | None = None) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "key": config_type.key,
        "kind": config_type.kind.value,
        "given_name": _plain(config_type.given_name),
        "description": _plain(config_type.description),
        "type_param_keys": [t.key for t in config_type.type_params] if config_type.type_params else None,
        "scalar_kind": getattr(getattr(config_type, "scalar_kind", None), "value", None),
        "enum_values": None,
        "fields": None,
        "field_aliases": None,
    }
    if config_type.kind is ConfigTypeKind.ENUM:
        snap["enum_values"] = [
            {"value": _plain(ev.config_value), "description": _plain(ev.description)} for ev in config_type.enum_values  # type: ignore[attr-defined]
        ]
    if ConfigTypeKind.has_fields(config_type.kind):
        field_memo = {} if field_memo is None else field_memo
        fields = []
        for name, field in config_type.fields.items():  # type: ignore[attr-defined]
            entry = field_memo.get(id(field))  # (inlined: 2,000 ops' fields in a large job's `ops` shape)
            named = entry[2].get(name) if entry is not None else None
            fields.append(named if named is not None else _named_field_snap(name, field, field_memo))
        snap["fields"] = fields
        snap["field_aliases"] = dict(getattr(config_type, "field_aliases", {}) or {}) or None
    return snap


_BUILTIN_BY_KEY: dict[str, ConfigType] = {
    t.key: t
    for t in (
        ConfigAnyInstance,
        ConfigIntInstance,
        ConfigStringInstance,
        ConfigBoolInstance,
        ConfigFloatInstance,
        StringSource,
        IntSource,
        BoolSource,
    )
}


def config_type_from_snapshot(snapshot: dict[str, Any]) -> Field:
    """Rebuild the root Field of a `config_type_snapshot` (for validation away from user code)."""
    types = snapshot["types"]
    built: dict[str, ConfigType] = {}

    def build(key: str) -> ConfigType:
        if key in built:
            return built[key]
        if key in _BUILTIN_BY_KEY:
            return _BUILTIN_BY_KEY[key]
        snap = types[key]
        kind = ConfigTypeKind(snap["kind"])
        params = [build(k) for k in snap["type_param_keys"] or []]
        result: ConfigType
        if kind is ConfigTypeKind.ARRAY:
            result = Array(params[0])
        elif kind is ConfigTypeKind.NONEABLE:
            result = Noneable(params[0])
        elif kind is ConfigTypeKind.MAP:
            result = Map(params[0], params[1], key_label_name=snap["given_name"])
        elif kind is ConfigTypeKind.SCALAR_UNION:
            result = ScalarUnion(params[0], params[1], _key=key)
        elif kind is ConfigTypeKind.ENUM:
            result = Enum(snap["given_name"], [EnumValue(ev["value"], description=ev["description"]) for ev in snap["enum_values"]])
        elif ConfigTypeKind.has_fields(kind):
            fields = {f["name"]: _rebuild_field(f, build) for f in snap["fields"]}
            if kind is ConfigTypeKind.SELECTOR:
                result = Selector(fields, description=snap["description"])
            elif kind is ConfigTypeKind.PERMISSIVE_SHAPE:
                result = Permissive(fields, description=snap["description"])
            else:
                result = Shape(fields, description=snap["description"], field_aliases=snap["field_aliases"])
        else:
            raise ValueError(f"Cannot rebuild config type {key!r} of kind {kind.value}")
        built[key] = result
        return result

    return _rebuild_field(snapshot["field"], build)


def _rebuild_field(snap: dict[str, Any], build: Any) -> Field:
    config_type = build(snap["type_key"])
    if snap["default_provided"]:
        return Field(config_type, default_value=snap["default_value"], description=snap["description"], is_secret=snap["is_secret"])
    return Field(config_type, is_required=snap["is_required"], description=snap["description"], is_secret=snap["is_secret"])
