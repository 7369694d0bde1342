"""Asset and asset-check identity: `AssetKey`, `AssetCheckKey` and the coercions Dagster accepts."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError

_NON_WORD = re.compile(r"[^A-Za-z0-9_]+")


class AssetKey(NamedTuple("_AssetKey", [("parts", tuple)])):
    """The hierarchical name of an asset: a list of strings, shown `/`-joined.

    A string is one path component (`AssetKey("a/b").path == ["a/b"]`); use
    `AssetKey.from_user_string("a/b")` to split on slashes.

    Example:
        >>> AssetKey(["warehouse", "orders"]).to_user_string()
        'warehouse/orders'
    """

    # The components are kept as a tuple (`parts`, as Dagster keeps them), so hashing, equality and
    # ordering are the tuple's own, in C: a large location hashes and compares each key hundreds of
    # times while it loads. `path` is the same components as a list, made once; do not change it.
    path: list[str]

    def __new__(cls, path: str | Sequence[str]) -> AssetKey:
        if isinstance(path, str):
            parts: tuple[str, ...] = (path,)
        elif isinstance(path, AssetKey):
            parts = path.parts
        else:
            parts = tuple(path)
            for part in parts:
                if not isinstance(part, str):
                    raise DagsterInvalidDefinitionError(
                        f"Asset key path components must be strings, got {part!r} in {path!r}."
                    )
        key = tuple.__new__(cls, (parts,))  # what the named tuple's own `__new__` does, one Python call less
        key.__dict__["path"] = list(parts)
        return key

    @classmethod
    def _make(cls, iterable: Any) -> AssetKey:
        # NamedTuple's `_make` (and `_replace`, which calls it) would skip `__new__` and leave no `path`.
        (parts,) = iterable
        return cls(parts)

    def __str__(self) -> str:
        return f"AssetKey({self.path})"

    def __repr__(self) -> str:
        return f"AssetKey({self.path})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self.path),))

    def to_string(self) -> str:
        """The JSON form used in storage: `'["a", "b"]'`."""
        return json.dumps(self.path)

    def to_user_string(self) -> str:
        """The `/`-joined form shown to people: `'a/b'`."""
        return "/".join(self.path)

    def to_escaped_user_string(self) -> str:
        return "/".join(part.replace("/", "\\/") for part in self.path)

    def to_python_identifier(self, suffix: str | None = None) -> str:
        """`a__b` for `["a", "b"]`, with characters that are not valid in identifiers replaced by `_`."""
        name = "__".join(self.path + ([suffix] if suffix else []))
        return name.replace("-", "_").replace(".", "_")

    def to_db_string(self) -> str:
        return self.to_string()

    @staticmethod
    def from_user_string(asset_key_string: str) -> AssetKey:
        return AssetKey(asset_key_string.split("/"))

    @staticmethod
    def from_escaped_user_string(asset_key_string: str) -> AssetKey:
        parts = re.split(r"(?<!\\)/", asset_key_string)
        return AssetKey([part.replace("\\/", "/") for part in parts])

    @staticmethod
    def from_db_string(asset_key_string: str | None) -> AssetKey | None:
        if not asset_key_string:
            return None
        if asset_key_string.startswith("["):
            return AssetKey(json.loads(asset_key_string))
        return AssetKey(asset_key_string.split("."))

    @staticmethod
    def get_db_prefix(path: list[str]) -> str:
        return json.dumps(path)[:-2]

    @staticmethod
    def from_graphql_input(graphql_input_asset_key: dict[str, Any]) -> AssetKey:
        return AssetKey(graphql_input_asset_key["path"])

    def to_graphql_input(self) -> dict[str, list[str]]:
        return {"path": list(self.path)}

    @staticmethod
    def from_coercible(arg: Any) -> AssetKey:
        return coerce_asset_key(arg)

    @staticmethod
    def from_coercible_or_definition(arg: Any) -> AssetKey:
        return key_from_coercible_or_definition(arg)

    def has_prefix(self, prefix: Sequence[str]) -> bool:
        return len(prefix) <= len(self.path) and self.path[: len(prefix)] == list(prefix)

    def with_prefix(self, prefix: str | Sequence[str] | AssetKey) -> AssetKey:
        if isinstance(prefix, AssetKey):
            prefix_parts = list(prefix.path)
        elif isinstance(prefix, str):
            prefix_parts = [prefix]
        else:
            prefix_parts = list(prefix)
        return AssetKey(prefix_parts + self.path)

    def get_ancestors(self) -> list[AssetKey]:
        return [AssetKey(self.path[:i]) for i in range(1, len(self.path))]


CoercibleToAssetKey = "AssetKey | str | Sequence[str]"


def coerce_asset_key(arg: Any) -> AssetKey:
    """`AssetKey` from an `AssetKey`, a string (one component) or a sequence of strings."""
    if isinstance(arg, AssetKey):
        return arg
    if isinstance(arg, str):
        return AssetKey([arg])
    if isinstance(arg, (list, tuple)):
        return AssetKey(list(arg))
    raise DagsterInvalidDefinitionError(
        f"Expected an AssetKey, a string or a list of strings, got {arg!r} of type {type(arg).__name__}."
    )


def event_asset_key(arg: Any) -> AssetKey:
    """Keys of materialization/observation events: a string is split on every non-word character."""
    if isinstance(arg, str):
        return AssetKey([part for part in _NON_WORD.split(arg) if part])
    return coerce_asset_key(arg)


def key_from_coercible_or_definition(arg: Any) -> AssetKey:
    """Also accepts an `AssetsDefinition` with one key, a `SourceAsset` or an `AssetSpec`."""
    key = getattr(arg, "key", None)
    if isinstance(key, AssetKey):
        return key
    return coerce_asset_key(arg)


def coerce_key_prefix(prefix: Any) -> list[str]:
    if prefix is None:
        return []
    if isinstance(prefix, str):
        return [prefix]
    return list(prefix)


class AssetCheckKey(NamedTuple("_AssetCheckKey", [("asset_key", AssetKey), ("name", str)])):
    """Identifies one check on one asset.

    Example:
        >>> AssetCheckKey(AssetKey("orders"), "non_empty").to_user_string()
        'orders:non_empty'
    """

    def __new__(cls, asset_key: Any, name: str) -> AssetCheckKey:
        return super().__new__(cls, coerce_asset_key(asset_key), name)

    def __repr__(self) -> str:
        return f"AssetCheckKey(asset_key={self.asset_key!r}, name={self.name!r})"

    def __hash__(self) -> int:
        return hash((tuple(self.asset_key.path), self.name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetCheckKey) and self.asset_key == other.asset_key and self.name == other.name

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, AssetCheckKey):
            return NotImplemented
        return (self.asset_key.path, self.name) < (other.asset_key.path, other.name)

    def to_user_string(self) -> str:
        return f"{self.asset_key.to_user_string()}:{self.name}"

    @staticmethod
    def from_user_string(user_string: str) -> AssetCheckKey:
        asset_part, name = user_string.rsplit(":", 1)
        return AssetCheckKey(AssetKey.from_user_string(asset_part), name)

    def with_asset_key_prefix(self, prefix: Any) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key.with_prefix(coerce_key_prefix(prefix)), self.name)


def check_output_name(check_key: AssetCheckKey) -> str:
    """Name of the op output that carries a check's result: `<asset path joined by _>_<check>`."""
    return "_".join(check_key.asset_key.path) + "_" + check_key.name
