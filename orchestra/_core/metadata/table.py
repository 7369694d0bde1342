"""Table descriptions for metadata: schemas, columns, constraints, records and column lineage."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from orchestra._errors import DagsterInvalidMetadata


def _check(value: Any, types: type | tuple[type, ...], param: str, optional: bool = False) -> Any:
    if (optional and value is None) or isinstance(value, types):
        return value
    names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
    raise TypeError(f'Param "{param}" is not a {names}. Got {value!r} which is type {type(value)}.')


def _asset_key_class() -> type | None:
    import orchestra

    if "AssetKey" not in orchestra._EXPORTS:
        return None
    try:
        return orchestra.AssetKey
    except (ImportError, AttributeError):
        return None


def _is_asset_key(value: object) -> bool:
    cls = _asset_key_class()
    if cls is not None:
        return isinstance(value, cls)
    return isinstance(value, _AssetKeyStandIn) or (type(value).__name__ == "AssetKey" and hasattr(value, "path"))


def _to_asset_key(value: Any) -> Any:
    """Coerce a string ("a/b"), a sequence of strings or an AssetKey to an AssetKey."""
    if _is_asset_key(value):
        return value
    cls = _asset_key_class()
    if cls is not None and hasattr(cls, "from_coercible"):
        return cls.from_coercible(value)
    path = value.split("/") if isinstance(value, str) else list(value)
    return (cls or _AssetKeyStandIn)(path)


@dataclasses.dataclass(frozen=True)
class _AssetKeyStandIn:
    """Used only until the assets module provides `AssetKey`."""

    path: list[str]

    def __repr__(self) -> str:
        return f"AssetKey({self.path!r})"

    def __hash__(self) -> int:
        return hash(tuple(self.path))

    def to_user_string(self) -> str:
        return "/".join(self.path)


# --- tables ----------------------------------------------------------------------------------

_RECORD_VALUE_TYPES = (str, int, float, bool, type(None))


@dataclasses.dataclass(frozen=True)
class TableRecord:
    """One row of a table: column name -> str, int, float, bool or None.

    Example:
        ```python
        dg.TableRecord(data={"code": "invalid-data-type", "row": 2})
        ```
    """

    data: Mapping[str, str | int | float | bool | None]

    def __post_init__(self) -> None:
        _check(self.data, Mapping, "data")
        for key, value in self.data.items():
            if not isinstance(value, _RECORD_VALUE_TYPES):
                raise TypeError(
                    f"Value in Mapping mismatches expected type for key {key}. Expected value of type "
                    f"{_RECORD_VALUE_TYPES}. Got value {value!r} of type {type(value)}."
                )


@dataclasses.dataclass(frozen=True)
class TableConstraints:
    """Table-level constraints, described as strings (e.g. "col_a > col_b")."""

    other: Sequence[str]


@dataclasses.dataclass(frozen=True, init=False)
class TableColumnConstraints:
    """Column constraints: `nullable` (default True), `unique` (default False) and free-form `other`."""

    nullable: bool
    unique: bool
    other: Sequence[str]

    def __init__(self, nullable: bool = True, unique: bool = False, other: Sequence[str] | None = None):
        object.__setattr__(self, "nullable", _check(nullable, bool, "nullable"))
        object.__setattr__(self, "unique", _check(unique, bool, "unique"))
        object.__setattr__(self, "other", list(other) if other is not None else [])


@dataclasses.dataclass(frozen=True, init=False)
class TableColumn:
    """A column of a table: `name`, `type` (default "string"), `description`, `constraints`, `tags`.

    Example:
        ```python
        dg.TableColumn("id", "int", constraints=dg.TableColumnConstraints(nullable=False, unique=True))
        ```
    """

    name: str
    type: str
    description: str | None
    constraints: TableColumnConstraints
    tags: Mapping[str, str]

    def __init__(
        self,
        name: str,
        type: str = "string",
        description: str | None = None,
        constraints: TableColumnConstraints | None = None,
        tags: Mapping[str, str] | None = None,
    ):
        object.__setattr__(self, "name", _check(name, str, "name"))
        object.__setattr__(self, "type", _check(type, str, "type"))
        object.__setattr__(self, "description", _check(description, str, "description", optional=True))
        object.__setattr__(self, "constraints", constraints if constraints is not None else TableColumnConstraints())
        object.__setattr__(self, "tags", dict(tags) if tags else {})


@dataclasses.dataclass(frozen=True, init=False)
class TableSchema:
    """The columns of a table and its table-level constraints.

    Example:
        ```python
        dg.TableSchema(columns=[dg.TableColumn("id", "int"), dg.TableColumn("name")])
        ```
    """

    columns: Sequence[TableColumn]
    constraints: TableConstraints

    def __init__(self, columns: Sequence[TableColumn], constraints: TableConstraints | None = None):
        for column in columns:
            _check(column, TableColumn, "columns")
        object.__setattr__(self, "columns", list(columns))
        object.__setattr__(self, "constraints", constraints if constraints is not None else TableConstraints(other=[]))

    @staticmethod
    def from_name_type_dict(name_type_dict: Mapping[str, str]) -> TableSchema:
        return TableSchema(columns=[TableColumn(name=name, type=kind) for name, kind in name_type_dict.items()])


@dataclasses.dataclass(frozen=True, init=False)
class TableColumnDep:
    """A column of an upstream asset that a column depends on."""

    asset_key: Any
    column_name: str

    def __init__(self, asset_key: Any, column_name: str):
        object.__setattr__(self, "asset_key", _to_asset_key(asset_key))
        object.__setattr__(self, "column_name", column_name)


def _key_path(asset_key: Any) -> tuple[str, ...]:
    return tuple(getattr(asset_key, "path", asset_key))


@dataclasses.dataclass(frozen=True, init=False)
class TableColumnLineage:
    """For each column of a table, the upstream columns it is computed from.

    Example:
        ```python
        dg.TableColumnLineage(deps_by_column={"total": [dg.TableColumnDep("orders", "amount")]})
        ```
    """

    deps_by_column: Mapping[str, Sequence[TableColumnDep]]

    def __init__(self, deps_by_column: Mapping[str, Sequence[TableColumnDep]]):
        _check(deps_by_column, Mapping, "deps_by_column")
        ordered = {}
        for column, deps in deps_by_column.items():
            _check(column, str, "deps_by_column")
            _check(deps, list, "deps_by_column")
            if len({(_key_path(d.asset_key), d.column_name) for d in deps}) != len(deps):
                raise DagsterInvalidMetadata(
                    f"The deps for column `{column}` must be unique by asset key and column name."
                )
            ordered[column] = sorted(deps, key=lambda dep: (_key_path(dep.asset_key), dep.column_name))
        object.__setattr__(self, "deps_by_column", ordered)
