"""Strict, deterministic JSON from definition values, and the hash that identifies a snapshot."""

from __future__ import annotations

import enum
import hashlib
import json
import math
from typing import Any


def to_plain(value: Any) -> Any:
    """`value` as JSON-native data that survives `json.loads(json.dumps(...))` unchanged.

    Tuples and sets become lists (sets sorted), dict keys become strings, non-finite floats and
    unknown objects become their text.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, dict):
        return {_key(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    path = getattr(value, "path", None)  # an AssetKey
    if isinstance(path, list) and all(isinstance(p, str) for p in path):
        return list(path)
    return repr(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    path = getattr(key, "path", None)
    if isinstance(path, list):
        return "/".join(path)
    return str(key)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def snapshot_hash(value: Any) -> str:
    """A stable id for plain JSON `value` (same content, same id, whatever the dict order)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8", "surrogatepass")).hexdigest()
