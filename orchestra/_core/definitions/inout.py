"""Op and graph IO specs: `In`, `Out`, `DynamicOut`, `GraphIn`, `GraphOut`, and the resolved input/output definitions."""

from __future__ import annotations

from typing import Any

from orchestra._core.types import AnyType, DagsterType, resolve_dagster_type

NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "<no value>", "__bool__": lambda self: False})()


class In:
    """Declares an op input.

    Example:
        >>> @op(ins={"n": In(int, default_value=1)})
        ... def inc(n): return n + 1
    """

    def __init__(
        self,
        dagster_type: Any = NO_VALUE,
        description: str | None = None,
        default_value: Any = NO_VALUE,
        metadata: dict[str, Any] | None = None,
        asset_key: Any = None,
        asset_partitions: Any = None,
        input_manager_key: str | None = None,
    ):
        self.dagster_type = dagster_type
        self.description = description
        self.default_value = default_value
        self.metadata = dict(metadata) if metadata else {}  # (one `In` per dep of every asset)
        self.asset_key = asset_key
        self.asset_partitions = asset_partitions
        self.input_manager_key = input_manager_key

    def __repr__(self) -> str:
        return f"In(dagster_type={self.dagster_type!r})"


class Out:
    """Declares an op output.

    Example:
        >>> @op(out={"a": Out(int), "b": Out(str, is_required=False)})
        ... def two(): ...
    """

    def __init__(
        self,
        dagster_type: Any = NO_VALUE,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: dict[str, Any] | None = None,
        code_version: str | None = None,
    ):
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key or "io_manager"
        self.metadata = dict(metadata or {})
        self.code_version = code_version

    @property
    def is_dynamic(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dagster_type={self.dagster_type!r})"


class DynamicOut(Out):
    """An output yielded several times as `DynamicOutput`s, one per mapping key.

    Example:
        >>> @op(out=DynamicOut())
        ... def files():
        ...     for name in ["a", "b"]:
        ...         yield DynamicOutput(name, mapping_key=name)
    """

    @property
    def is_dynamic(self) -> bool:
        return True


class GraphIn:
    """Describes a graph input (its type comes from the ops it feeds)."""

    def __init__(self, description: str | None = None):
        self.description = description


class GraphOut:
    """Describes a graph output (its type comes from the op output it maps)."""

    def __init__(self, description: str | None = None):
        self.description = description


def _dagster_type(given: Any) -> DagsterType:
    if isinstance(given, DagsterType):  # already resolved (e.g. the Nothing of every asset dep)
        return given
    return AnyType if given is NO_VALUE else resolve_dagster_type(given)


class InputDefinition:
    """An input as the core sees it: a name, a resolved DagsterType, an optional default."""

    __slots__ = ("name", "dagster_type", "description", "default_value", "metadata", "input_manager_key", "asset_key")

    def __init__(
        self,
        name: str,
        dagster_type: Any = NO_VALUE,
        description: str | None = None,
        default_value: Any = NO_VALUE,
        metadata: dict[str, Any] | None = None,
        input_manager_key: str | None = None,
        asset_key: Any = None,
    ):
        self.name = name
        self.dagster_type: DagsterType = _dagster_type(dagster_type)
        self.description = description
        self.default_value = default_value
        self.metadata = metadata or {}
        self.input_manager_key = input_manager_key
        self.asset_key = asset_key

    @property
    def has_default_value(self) -> bool:
        return self.default_value is not NO_VALUE

    @property
    def is_nothing(self) -> bool:
        return self.dagster_type.is_nothing

    def __repr__(self) -> str:
        return f"InputDefinition({self.name!r}, {self.dagster_type.display_name})"


class OutputDefinition:
    """An output as the core sees it: name, type, required-ness, dynamic-ness, IO manager key."""

    __slots__ = ("name", "dagster_type", "description", "is_required", "io_manager_key", "metadata", "is_dynamic", "code_version")

    def __init__(
        self,
        name: str = "result",
        dagster_type: Any = NO_VALUE,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str = "io_manager",
        metadata: dict[str, Any] | None = None,
        is_dynamic: bool = False,
        code_version: str | None = None,
    ):
        self.name = name
        self.dagster_type: DagsterType = _dagster_type(dagster_type)
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key
        self.metadata = metadata or {}
        self.is_dynamic = is_dynamic
        self.code_version = code_version

    @property
    def optional(self) -> bool:
        return not self.is_required

    def __repr__(self) -> str:
        return f"OutputDefinition({self.name!r}, {self.dagster_type.display_name})"


def output_definition_from_out(name: str, out: Out, inferred_type: Any = NO_VALUE) -> OutputDefinition:
    dagster_type = out.dagster_type if out.dagster_type is not NO_VALUE else inferred_type
    return OutputDefinition(
        name, dagster_type, out.description, out.is_required, out.io_manager_key, out.metadata,
        out.is_dynamic, out.code_version,
    )


def input_definition_from_in(name: str, spec: In, inferred_type: Any = NO_VALUE, default: Any = NO_VALUE) -> InputDefinition:
    dagster_type = spec.dagster_type if spec.dagster_type is not NO_VALUE else inferred_type
    default_value = spec.default_value if spec.default_value is not NO_VALUE else default
    return InputDefinition(
        name, dagster_type, spec.description, default_value, spec.metadata, spec.input_manager_key, spec.asset_key
    )
