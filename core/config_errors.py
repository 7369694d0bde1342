"""Configuration errors worded for people: `{env: VAR}` resolution and pydantic errors as key-path lines.

Shared by the instance configuration (`orchestra.yaml`) and the workspace (`workspace.yaml`). Imports no
Django: both files are read before Django is set up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class YamlMappingError(ValueError):
    """A file is not valid YAML, or does not hold a mapping; the message is one problem line."""


def load_yaml_mapping(text: str, *, expected: str = "a mapping of keys") -> dict[str, Any]:
    """Parse YAML that must hold a mapping (an empty file is an empty mapping).

    Raises YamlMappingError with the line and column of a syntax error, or what was found instead.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlMappingError(f"{where}not valid YAML ({problem})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise YamlMappingError(f"the file must hold {expected}, got {type_name(raw)}")
    return raw


def resolve_env(value: Any, path: tuple[str, ...], environ: Mapping[str, str], problems: list[str]) -> Any:
    """Replace every `{env: VAR}` with the variable's value; a missing variable is a problem."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            var = value["env"]
            if not isinstance(var, str) or not var:
                problems.append(f"{dotted(path)}: 'env' must name an environment variable, got {var!r}")
                return None
            if var not in environ:
                problems.append(f"{dotted(path)}: environment variable {var} is not set")
                return None
            return environ[var]
        return {k: resolve_env(v, (*path, str(k)), environ, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env(v, (*path, str(i)), environ, problems) for i, v in enumerate(value)]
    return value


def describe_validation_error(
    exc: ValidationError, root: type[BaseModel], prefix: tuple[str, ...] = ()
) -> list[str]:
    """One line per error: the key path (under `prefix`), the bad value and what was expected."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        where = [*prefix, *loc]
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = allowed_keys(root, loc[:-1])
            hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
            problems.append(f"{dotted(where)}: unknown key{hint}")
            continue
        if kind == "missing":
            problems.append(f"{dotted(where)}: required key is missing")
            continue
        message = err["msg"]
        if kind == "value_error":
            message = message.removeprefix("Value error, ")
            problems.append(f"{dotted(where)}: {message}")
            continue
        problems.append(f"{dotted(where)}: got {show(err.get('input'))}; expected {_expected(err)}")
    return problems


def _expected(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    simple = {
        "int_parsing": "an integer",
        "int_type": "an integer",
        "int_from_float": "an integer",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "a string",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "list_type": "a list",
    }
    if kind in simple:
        return simple[kind]
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"a number >= {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"a number <= {ctx.get('le', ctx.get('lt'))}"
    return err["msg"][0].lower() + err["msg"][1:]


def allowed_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    """The keys the model at `loc` (a path of field names under `root`) accepts."""
    model: Any = root
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def dotted(path: list[str] | tuple[str, ...]) -> str:
    return ".".join(path) if path else "(top level)"


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def type_name(value: Any) -> str:
    return {list: "a list", str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
