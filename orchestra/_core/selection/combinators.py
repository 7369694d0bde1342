"""Selections built from other selections: graph position (upstream, downstream, roots, sinks,
required neighbours) and set algebra (`|`, `&`, `-`). `AssetSelection`'s methods construct these."""

from __future__ import annotations

from typing import Any

from orchestra._core.selection.asset_selection import AllSelection, AssetSelection
from orchestra._core.selection.graph import SelectionGraph
from orchestra._records import Record

# --- graph position ----------------------------------------------------------------------------------


class UpstreamAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()
    depth: int | None = None
    include_self: bool = True

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        selected = self.child.resolve_inner(graph, allow_missing)
        reached = graph.connected(selected, upstream=True, depth=self.depth)
        # as in Dagster, keys that cannot be materialized (external assets) are left out, even selected ones
        result = {k for k in reached if graph.nodes[k].is_materializable}
        return result if self.include_self else result - selected

    def to_selection_str(self) -> str:
        depth = "" if self.depth is None else str(self.depth)
        return f"{depth}+{self.child.operand_to_selection_str()}"


class DownstreamAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()
    depth: int | None = None
    include_self: bool = True

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        selected = self.child.resolve_inner(graph, allow_missing)
        reached = graph.connected(selected, upstream=False, depth=self.depth)
        return reached if self.include_self else reached - selected

    def to_selection_str(self) -> str:
        depth = "" if self.depth is None else str(self.depth)
        return f"{self.child.operand_to_selection_str()}+{depth}"


class RootsAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        selected = self.child.resolve_inner(graph, allow_missing)
        return {k for k in selected if not (graph.parents(k) & selected)}

    def to_selection_str(self) -> str:
        return f"roots({self.child.to_selection_str()})"


class SinksAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        selected = self.child.resolve_inner(graph, allow_missing)
        return {k for k in selected if not (graph.children(k) & selected)}

    def to_selection_str(self) -> str:
        return f"sinks({self.child.to_selection_str()})"


class RequiredNeighborsAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        selected = self.child.resolve_inner(graph, allow_missing)
        return {n for k in selected for n in graph.nodes[k].execution_set}


class ParentSourcesAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        selected = self.child.resolve_inner(graph, allow_missing)
        return {p for k in selected for p in graph.parents(k) if not graph.nodes[p].is_materializable}


class MaterializableAssetSelection(AssetSelection, Record):
    child: AssetSelection = AllSelection()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {k for k in self.child.resolve_inner(graph, allow_missing) if graph.nodes[k].is_materializable}


# --- set algebra ------------------------------------------------------------------------------------------


class OrAssetSelection(AssetSelection, Record):
    operands: tuple = ()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return set().union(*(o.resolve_inner(graph, allow_missing) for o in self.operands))

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return set().union(*(o.resolve_checks_inner(graph, allow_missing) for o in self.operands))

    def to_selection_str(self) -> str:
        return " or ".join(o.operand_to_selection_str() for o in self.operands)

    def needs_parentheses_when_operand(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"OrAssetSelection(operands={list(self.operands)!r})"


class AndAssetSelection(AssetSelection, Record):
    operands: tuple = ()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        results = [o.resolve_inner(graph, allow_missing) for o in self.operands]
        return set.intersection(*results) if results else set()

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        results = [o.resolve_checks_inner(graph, allow_missing) for o in self.operands]
        return set.intersection(*results) if results else set()

    def to_selection_str(self) -> str:
        return " and ".join(o.operand_to_selection_str() for o in self.operands)

    def needs_parentheses_when_operand(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"AndAssetSelection(operands={list(self.operands)!r})"


class SubtractAssetSelection(AssetSelection, Record):
    left: AssetSelection = AllSelection()
    right: AssetSelection = AllSelection()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return self.left.resolve_inner(graph, allow_missing) - self.right.resolve_inner(graph, allow_missing)

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return self.left.resolve_checks_inner(graph, allow_missing) - self.right.resolve_checks_inner(graph, allow_missing)

    def to_selection_str(self) -> str:
        if isinstance(self.left, AllSelection) and not self.left.include_sources:
            return f"not {self.right.operand_to_selection_str()}"
        return f"{self.left.operand_to_selection_str()} and not {self.right.operand_to_selection_str()}"

    def needs_parentheses_when_operand(self) -> bool:
        return True
