"""Wiring between nodes: `DependencyDefinition`, `MultiDependencyDefinition`, `NodeInvocation`, `NodeHandle`."""

from __future__ import annotations

from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError


class NodeHandle:
    """The path of a node inside nested graphs; `str(handle)` is `outer.inner.op`."""

    __slots__ = ("name", "parent", "_path")

    def __init__(self, name: str, parent: NodeHandle | None):
        self.name = name
        self.parent = parent
        self._path = f"{parent._path}.{name}" if parent is not None else name

    def __str__(self) -> str:
        return self._path

    def __repr__(self) -> str:
        return f"NodeHandle(name={self.name!r}, parent={self.parent!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeHandle) and self._path == other._path

    def __hash__(self) -> int:
        return hash(self._path)

    @property
    def path(self) -> list[str]:
        return self._path.split(".")

    def to_string(self) -> str:
        return self._path

    @classmethod
    def from_string(cls, handle_str: str) -> NodeHandle:
        handle: NodeHandle | None = None
        for part in handle_str.split("."):
            handle = NodeHandle(part, handle)
        assert handle is not None
        return handle


class DependencyDefinition(NamedTuple("_DependencyDefinition", [("node", Any), ("output", str), ("description", Any)])):
    """Says that an input takes the value of `output` of `node`.

    Example:
        >>> GraphDefinition(name="g", node_defs=[a, b], dependencies={"b": {"x": DependencyDefinition("a")}})
    """

    def __new__(cls, node: str | None = None, output: str = "result", description: str | None = None):
        if node is None:
            raise DagsterInvalidDefinitionError("DependencyDefinition requires a node name.")
        return super().__new__(cls, node, output, description)

    def is_fan_in(self) -> bool:
        return False

    def get_node_dependencies(self) -> list[DependencyDefinition]:
        return [self]


class MappedInputPlaceholder:
    """Stands in a MultiDependencyDefinition for the element a graph input maps to."""


class MultiDependencyDefinition(NamedTuple("_MultiDependencyDefinition", [("dependencies", list)])):
    """Fan-in: an input receives the list of several outputs.

    Example:
        >>> {"sum_all": {"xs": MultiDependencyDefinition([DependencyDefinition("a"), DependencyDefinition("b")])}}
    """

    def __new__(cls, dependencies: list[Any]):
        for dep in dependencies:
            if not isinstance(dep, DependencyDefinition) and dep is not MappedInputPlaceholder:
                raise DagsterInvalidDefinitionError(
                    f"Invalid item in MultiDependencyDefinition: {dep!r}. Expected DependencyDefinition."
                )
        return super().__new__(cls, list(dependencies))

    def is_fan_in(self) -> bool:
        return True

    def get_node_dependencies(self) -> list[DependencyDefinition]:
        return [d for d in self.dependencies if isinstance(d, DependencyDefinition)]

    def get_dependencies_and_mappings(self) -> list[Any]:
        return list(self.dependencies)


class DynamicCollectingDependencyDefinition(NamedTuple):
    """An input that gathers every mapped copy of a dynamic output into a list (from `.collect()`)."""

    node_name: str
    output_name: str

    def is_fan_in(self) -> bool:
        return False

    def get_node_dependencies(self) -> list[DependencyDefinition]:
        return [DependencyDefinition(self.node_name, self.output_name)]


class NodeInvocation(NamedTuple("_NodeInvocation", [("name", str), ("alias", Any), ("tags", Any), ("hook_defs", Any), ("retry_policy", Any)])):
    """A use of a node definition under an alias, with tags/hooks/retry policy, as a dependencies key."""

    def __new__(cls, name: str, alias: str | None = None, tags: dict[str, Any] | None = None, hook_defs: Any = None, retry_policy: Any = None):
        return super().__new__(cls, name, alias, dict(tags or {}), frozenset(hook_defs or ()), retry_policy)

    def __hash__(self) -> int:
        return hash((self.name, self.alias))


class InputMapping(NamedTuple):
    """A graph input feeding an input of one of its nodes (`fan_in_index` for a slot of a fan-in)."""

    graph_input_name: str
    mapped_node_name: str
    mapped_node_input_name: str
    fan_in_index: int | None = None
    graph_input_description: str | None = None
    dagster_type: Any = None


class OutputMapping(NamedTuple):
    """A graph output taken from an output of one of its nodes."""

    graph_output_name: str
    mapped_node_name: str
    mapped_node_output_name: str
    graph_output_description: str | None = None
    dagster_type: Any = None
    from_dynamic_mapping: bool = False
