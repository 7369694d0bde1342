"""A job's run config schema as a tree a person can read, from the config types in its stored snapshot.

The snapshot keeps Dagster's config type snapshots (`run_config_schema.config_types`: a root field and
every type by key). `config_schema_tree` turns them into nested fields — name, a short type name in
Dagster's words (`Int`, `[String]`, `Int | None`, `{…}`), required, default, description, secret, and the
fields of shapes and selectors below it — without ever reading user code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

MAX_DEPTH = 40  # config types are not recursive; this only bounds a malformed snapshot


def _type_name(types: Mapping[str, Any], key: str) -> str:
    """A short, readable name of a config type."""
    kind_ = types.get(key) or {}
    kind = kind_.get("kind")
    params = kind_.get("type_param_keys") or []
    if kind in ("SCALAR", "ANY"):
        return kind_.get("given_name") or key
    if kind == "SCALAR_UNION":  # a scalar or {env: VAR}, as IntSource / StringSource
        return _type_name(types, params[0]) if params else key
    if kind == "NONEABLE":
        return f"{_type_name(types, params[0])} | None" if params else key
    if kind == "ARRAY":
        return f"[{_type_name(types, params[0])}]" if params else "[Any]"
    if kind == "MAP":
        return (
            f"{{{_type_name(types, params[0])}: {_type_name(types, params[1])}}}"
            if len(params) == 2
            else "{…}"
        )
    if kind == "ENUM":
        return " | ".join(str(v.get("value")) for v in kind_.get("enum_values") or []) or (
            kind_.get("given_name") or key
        )
    if kind == "SELECTOR":
        return "one of"
    if kind == "PERMISSIVE_SHAPE":
        return "{…, any key}"
    if kind == "STRICT_SHAPE":
        return "{…}"
    return kind_.get("given_name") or key


def _children_key(types: Mapping[str, Any], key: str) -> str | None:
    """The shape or selector whose fields a field of type `key` shows: through None-able, arrays and maps."""
    for _ in range(MAX_DEPTH):
        kind_ = types.get(key) or {}
        if kind_.get("fields") is not None:
            return key
        params = kind_.get("type_param_keys") or []
        if kind_.get("kind") in ("NONEABLE", "ARRAY") and params:
            key = params[0]
        elif kind_.get("kind") == "MAP" and len(params) == 2:
            key = params[1]
        else:
            return None
    return None


def _field(types: Mapping[str, Any], field: Mapping[str, Any], depth: int) -> dict[str, Any]:
    key = field.get("type_key") or ""
    children_key = _children_key(types, key) if depth < MAX_DEPTH else None
    children = [_field(types, sub, depth + 1) for sub in (types.get(children_key) or {}).get("fields") or []]
    default = None
    if field.get("default_provided"):
        default = field.get("default_value")
        default = json.dumps(default, sort_keys=True) if not isinstance(default, str) else json.dumps(default)
    required = bool(field.get("is_required"))
    return {
        "name": field.get("name") or "",
        "type": _type_name(types, key),
        "required": required,
        "default": default,
        "description": field.get("description") or (types.get(key) or {}).get("description") or "",
        "secret": bool(field.get("is_secret")),
        "fields": children,
        "selector": (types.get(children_key) or {}).get("kind") == "SELECTOR",
        # Open at first: the top level and every path to a field that must be given.
        "open": depth == 0 or (required and any(child["required"] for child in children)),
        "count": len(children),
    }


def config_schema_tree(run_config_schema: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The top-level fields of a job's run config (`ops`, `resources`, `execution`, `loggers`, …), each
    with its fields below it; empty when the snapshot has no config types."""
    config_types = (run_config_schema or {}).get("config_types") or {}
    types = config_types.get("types") or {}
    root = config_types.get("root")
    if not root or root not in types:
        return []
    return [_field(types, field, 0) for field in types[root].get("fields") or []]


def config_field_count(tree: list[dict[str, Any]]) -> int:
    """How many fields the tree holds, at every depth."""
    return sum(1 + config_field_count(field["fields"]) for field in tree)


# Kinds whose empty value `{}` is a value a user gave, not scaffolding (Dagster's snap_to_yaml keeps them).
_EMPTY_IS_A_VALUE = frozenset({"PERMISSIVE_SHAPE", "MAP", "NONEABLE"})
# The keys a default config opens with, as Dagster writes it.
_FIRST_KEYS = ("ops", "resources")


def config_default_values(run_config_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run config made of the schema's defaults (what Dagster serves as `rootDefaultYaml`): each field
    with a default takes it (secret ones masked as `********`), a field without one takes its own fields'
    defaults, and shapes left empty are dropped (an empty permissive shape, map or None-able stays).
    Keys come sorted at every depth after `ops` and `resources`, as Dagster's (its field snapshots and
    stored defaults are sorted), whatever order the stored document kept (PostgreSQL's jsonb has its own)."""
    config_types = (run_config_schema or {}).get("config_types") or {}
    types = config_types.get("types") or {}
    root = types.get(config_types.get("root"))
    if not root:
        return {}
    values = _sorted_keys(_defaults(types, root, 0), 0)
    return {key: values[key] for key in (*_FIRST_KEYS, *values) if key in values}


def _sorted_keys(value: Any, depth: int) -> Any:
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: _sorted_keys(value[key], depth + 1) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(item, depth + 1) for item in value]
    return value


def _defaults(types: Mapping[str, Any], type_snap: Mapping[str, Any], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in type_snap.get("fields") or []:
        sub = types.get(field.get("type_key") or "") or {}
        if field.get("default_provided"):
            value = "********" if field.get("is_secret") else _without_scaffolding(
                types, sub, _masked(types, sub, field.get("default_value"), depth), depth)
        elif sub.get("fields") and depth < MAX_DEPTH:
            value = _defaults(types, sub, depth + 1)
        else:
            continue
        if value is None or (value == {} and sub.get("kind") not in _EMPTY_IS_A_VALUE):
            continue
        out[field.get("name") or ""] = value
    return out


def _without_scaffolding(types: Mapping[str, Any], type_snap: Mapping[str, Any], value: Any, depth: int) -> Any:
    """A stored default with what Dagster's `rootDefaultYaml` leaves out of it, at every depth: None values,
    and empty dicts that are only structure (an unconfigured op's `{}` inside an `ops` default)."""
    if not isinstance(value, Mapping) or depth >= MAX_DEPTH:
        return value
    fields = {field.get("name"): field for field in type_snap.get("fields") or []}
    out = {}
    for key, item in value.items():
        field = fields.get(key)
        sub = (types.get(field.get("type_key") or "") or {}) if field is not None else {}
        item = _without_scaffolding(types, sub, item, depth + 1)
        if item is None or (item == {} and sub.get("kind") not in _EMPTY_IS_A_VALUE):
            continue
        out[key] = item
    return out


def _masked(types: Mapping[str, Any], type_snap: Mapping[str, Any], value: Any, depth: int) -> Any:
    """A default value with the secret fields inside it masked."""
    if not isinstance(value, Mapping) or not type_snap.get("fields") or depth >= MAX_DEPTH:
        return value
    fields = {field.get("name"): field for field in type_snap["fields"]}
    out = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is not None and field.get("is_secret"):
            out[key] = "********"
        elif field is not None:
            out[key] = _masked(types, types.get(field.get("type_key") or "") or {}, item, depth + 1)
        else:
            out[key] = item
    return out


class _DefaultsDumper(yaml.SafeDumper):
    """YAML as Dagster writes run config: date-like text is not quoted (its loader reads no timestamps), text
    with a leading zero is (so `0755` stays text), and non-ASCII text is written as is."""


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DefaultsDumper.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
_DefaultsDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="'" if value.startswith("0") else None))


def default_config_yaml(defaults: Mapping[str, Any]) -> str:
    """`config_default_values` as the YAML text of Dagster's `rootDefaultYaml` (`{}` when there is none)."""
    return yaml.dump(dict(defaults), Dumper=_DefaultsDumper, default_flow_style=False, allow_unicode=True,
                     sort_keys=False)
