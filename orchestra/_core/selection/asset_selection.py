"""`AssetSelection`: a lazy description of a set of assets (and asset checks), resolved against a graph.

Each selection resolves to asset keys (`resolve_inner`) and to asset check keys
(`resolve_checks_inner`); by default a selection's checks are the checks on its assets.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from orchestra._core.selection.graph import SelectionGraph, coerce_selection_graph
from orchestra._errors import DagsterError, DagsterInvalidSubsetError
from orchestra._records import Record

if TYPE_CHECKING:
    from orchestra._core.selection.combinators import (
        AndAssetSelection,
        DownstreamAssetSelection,
        MaterializableAssetSelection,
        OrAssetSelection,
        ParentSourcesAssetSelection,
        RequiredNeighborsAssetSelection,
        RootsAssetSelection,
        SinksAssetSelection,
        SubtractAssetSelection,
        UpstreamAssetSelection,
    )


class DagsterInvalidAssetSelectionError(DagsterError):
    """A selection string could not be parsed."""


def _combinators() -> Any:
    from orchestra._core.selection import combinators

    return combinators


def _asset_key_class() -> Any:
    from orchestra._core.assets.keys import AssetKey

    return AssetKey


def _key_from_user_input(value: Any) -> Any:
    """`AssetKey` from an AssetKey, a `/`-separated string or a sequence of strings."""
    asset_key = _asset_key_class()
    if isinstance(value, asset_key):
        return value
    if isinstance(value, str):
        return asset_key(value.split("/"))
    if isinstance(value, Sequence):
        return asset_key(list(value))
    raise DagsterInvalidSubsetError(f"Cannot select asset key from {value!r}")


def _keys_of_definition(value: Any) -> list[Any]:
    keys = getattr(value, "keys", None)
    if keys is not None and not isinstance(value, dict):
        keys = keys() if callable(keys) else keys
        return list(keys)
    key = getattr(value, "key", None)
    if key is not None:
        return [key]
    return [_key_from_user_input(value)]


def _user_string(key: Any) -> str:
    return "/".join(key.path)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


class AssetSelection:
    """A set of assets chosen by key, group, tag, kind, owner or graph position, with set algebra.

    Example:
        >>> selection = AssetSelection.groups("marketing").downstream() - AssetSelection.keys("raw")
        >>> selection.resolve([raw, clean, report])
        {AssetKey(['clean']), AssetKey(['report'])}
    """

    # --- constructors ----------------------------------------------------------------------

    @staticmethod
    def all(include_sources: bool = False) -> AllSelection:
        """Every materializable asset (and every external asset when `include_sources`)."""
        return AllSelection(include_sources=include_sources)

    @staticmethod
    def all_asset_checks() -> AllAssetCheckSelection:
        return AllAssetCheckSelection()

    @staticmethod
    def assets(*assets_defs: Any) -> KeysAssetSelection:
        """The keys of the given asset definitions, specs, keys or key strings."""
        keys: list[Any] = []
        for value in assets_defs:
            keys.extend(_keys_of_definition(value))
        return KeysAssetSelection(selected_keys=tuple(keys))

    @staticmethod
    def keys(*asset_keys: Any) -> KeysAssetSelection:
        """Exactly these keys (`"a/b"` strings are split on `/`); resolving fails for unknown keys."""
        return KeysAssetSelection(selected_keys=tuple(_key_from_user_input(k) for k in asset_keys))

    @staticmethod
    def key_prefixes(*key_prefixes: Any, include_sources: bool = False) -> KeyPrefixesAssetSelection:
        prefixes = tuple(tuple([p]) if isinstance(p, str) else tuple(p) for p in key_prefixes)
        return KeyPrefixesAssetSelection(selected_key_prefixes=prefixes, include_sources=include_sources)

    @staticmethod
    def key_substring(key_substring: str, include_sources: bool = False) -> KeySubstringAssetSelection:
        return KeySubstringAssetSelection(selected_key_substring=key_substring, include_sources=include_sources)

    @staticmethod
    def groups(*group_strs: str, include_sources: bool = False) -> GroupsAssetSelection:
        if any(not isinstance(g, str) for g in group_strs):
            raise DagsterInvalidSubsetError(f"group_strs must be strings, got {group_strs!r}")
        return GroupsAssetSelection(selected_groups=tuple(group_strs), include_sources=include_sources)

    @staticmethod
    def tag(key: str, value: str, include_sources: bool = False) -> TagAssetSelection:
        return TagAssetSelection(key=key, value=value, include_sources=include_sources)

    @staticmethod
    def tag_string(string: str, include_sources: bool = False) -> TagAssetSelection:
        key, _, value = string.partition("=")
        return TagAssetSelection(key=key, value=value, include_sources=include_sources)

    @staticmethod
    def kind(kind: str | None, include_sources: bool = False) -> KindAssetSelection:
        return KindAssetSelection(kind_str=kind, include_sources=include_sources)

    @staticmethod
    def owner(owner: str | None) -> OwnerAssetSelection:
        return OwnerAssetSelection(selected_owner=owner)

    @staticmethod
    def checks_for_assets(*assets_defs: Any) -> AssetChecksForAssetKeysSelection:
        """The checks on these assets (and none of the assets themselves)."""
        keys: list[Any] = []
        for value in assets_defs:
            keys.extend(_keys_of_definition(value))
        return AssetChecksForAssetKeysSelection(selected_asset_keys=tuple(keys))

    @staticmethod
    def checks(*assets_defs_or_check_keys: Any) -> AssetCheckKeysSelection:
        """These checks, given as `AssetCheckKey`s or as check definitions."""
        check_keys: list[Any] = []
        for value in assets_defs_or_check_keys:
            if hasattr(value, "asset_key") and hasattr(value, "name") and not hasattr(value, "check_keys"):
                check_keys.append(value)
            else:
                found = getattr(value, "check_keys", ())
                check_keys.extend(found() if callable(found) else found)
        return AssetCheckKeysSelection(selected_asset_check_keys=tuple(check_keys))

    @staticmethod
    def from_string(string: str, include_sources: bool = False) -> AssetSelection:
        """Parse Dagster's selection syntax, e.g. `'+key:"raw/orders" or (group:sales and not kind:dbt)'`."""
        from orchestra._core.selection.syntax import parse_selection

        return parse_selection(string, include_sources=include_sources)

    @staticmethod
    def from_coercible(selection: Any) -> AssetSelection:
        """A selection from a selection, a selection string, or a list of keys, strings or definitions."""
        if isinstance(selection, AssetSelection):
            return selection
        if isinstance(selection, str):
            return AssetSelection.from_string(selection)
        if isinstance(selection, Sequence) and all(isinstance(s, str) for s in selection):
            return KeysAssetSelection(selected_keys=tuple(_key_from_user_input(s) for s in selection))
        if isinstance(selection, Sequence) and all(isinstance(s, _asset_key_class()) for s in selection):
            return KeysAssetSelection(selected_keys=tuple(selection))
        if isinstance(selection, Sequence) and not isinstance(selection, str):
            keys: list[Any] = []
            checks: list[Any] = []
            for item in selection:
                item_keys = getattr(item, "keys", None)
                if item_keys is not None or hasattr(item, "key"):
                    keys.extend(_keys_of_definition(item))
                    found = getattr(item, "check_keys", ())
                    checks.extend(found() if callable(found) else found)
                else:
                    raise DagsterInvalidSubsetError(
                        f"selection argument must be one of str, Sequence[str], Sequence[AssetKey], "
                        f"Sequence[AssetsDefinition], Sequence[SourceAsset], AssetSelection. Was {type(item)}."
                    )
            result: AssetSelection = KeysAssetSelection(selected_keys=tuple(keys))
            if checks:
                result = result | AssetCheckKeysSelection(selected_asset_check_keys=tuple(checks))
            return result
        if hasattr(selection, "keys") or hasattr(selection, "key"):
            return KeysAssetSelection(selected_keys=tuple(_keys_of_definition(selection)))
        raise DagsterInvalidSubsetError(
            "selection argument must be one of str, Sequence[str], Sequence[AssetKey], Sequence[AssetsDefinition], "
            f"Sequence[SourceAsset], AssetSelection. Was {type(selection)}."
        )

    # --- combinators ---------------------------------------------------------------------------

    def upstream(self, depth: int | None = None, include_self: bool = True) -> UpstreamAssetSelection:
        """This selection plus its ancestors (materializable ones), `depth` levels up (all when None)."""
        return _combinators().UpstreamAssetSelection(child=self, depth=depth, include_self=include_self)

    def downstream(self, depth: int | None = None, include_self: bool = True) -> DownstreamAssetSelection:
        """This selection plus its descendants, `depth` levels down (all when None)."""
        return _combinators().DownstreamAssetSelection(child=self, depth=depth, include_self=include_self)

    def roots(self) -> RootsAssetSelection:
        """The assets of this selection with no parent inside the selection."""
        return _combinators().RootsAssetSelection(child=self)

    sources = roots

    def sinks(self) -> SinksAssetSelection:
        """The assets of this selection with no child inside the selection."""
        return _combinators().SinksAssetSelection(child=self)

    def required_multi_asset_neighbors(self) -> RequiredNeighborsAssetSelection:
        """This selection plus the assets that must materialize with it (non-subsettable multi-assets)."""
        return _combinators().RequiredNeighborsAssetSelection(child=self)

    def upstream_source_assets(self) -> ParentSourcesAssetSelection:
        return _combinators().ParentSourcesAssetSelection(child=self)

    def materializable(self) -> MaterializableAssetSelection:
        return _combinators().MaterializableAssetSelection(child=self)

    def without_checks(self) -> AssetSelection:
        return self - AllAssetCheckSelection()

    def __or__(self, other: AssetSelection) -> OrAssetSelection:
        _check_operand(other)
        left = self.operands if isinstance(self, _combinators().OrAssetSelection) else (self,)
        right = other.operands if isinstance(other, _combinators().OrAssetSelection) else (other,)
        return _combinators().OrAssetSelection(operands=(*left, *right))

    def __and__(self, other: AssetSelection) -> AndAssetSelection:
        _check_operand(other)
        left = self.operands if isinstance(self, _combinators().AndAssetSelection) else (self,)
        right = other.operands if isinstance(other, _combinators().AndAssetSelection) else (other,)
        return _combinators().AndAssetSelection(operands=(*left, *right))

    def __sub__(self, other: AssetSelection) -> SubtractAssetSelection:
        _check_operand(other)
        return _combinators().SubtractAssetSelection(left=self, right=other)

    # --- resolution ----------------------------------------------------------------------------

    def resolve(self, all_assets: Any, allow_missing: bool = False) -> set[Any]:
        """The asset keys this selection means among `all_assets` (definitions, a graph, or a Definitions)."""
        graph = coerce_selection_graph(all_assets)
        return set(self.resolve_inner(graph, allow_missing=allow_missing))

    def resolve_checks(self, asset_graph: Any, allow_missing: bool = False) -> set[Any]:
        """The asset check keys this selection means."""
        graph = coerce_selection_graph(asset_graph)
        return set(self.resolve_checks_inner(graph, allow_missing=allow_missing))

    def resolve_with_checks(self, all_assets: Any, allow_missing: bool = False) -> tuple[set[Any], set[Any]]:
        """`(self.resolve(all_assets), self.resolve_checks(all_assets))`, what an asset job asks for, with the
        selection resolved once when its checks are the checks on its assets."""
        graph = coerce_selection_graph(all_assets)
        keys = set(self.resolve_inner(graph, allow_missing=allow_missing))
        if type(self).resolve_checks_inner is AssetSelection.resolve_checks_inner:
            return keys, _checks_on(graph, keys)
        return keys, set(self.resolve_checks_inner(graph, allow_missing=allow_missing))

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        raise NotImplementedError

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return _checks_on(graph, self.resolve_inner(graph, allow_missing))

    # --- text ----------------------------------------------------------------------------------

    def to_selection_str(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} has no selection string form.")

    def needs_parentheses_when_operand(self) -> bool:
        return False

    def operand_to_selection_str(self) -> str:
        text = self.to_selection_str()
        return f"({text})" if self.needs_parentheses_when_operand() else text

    def __str__(self) -> str:
        try:
            return self.to_selection_str()
        except NotImplementedError:
            return repr(self)


def _checks_on(graph: SelectionGraph, keys: Iterable[Any]) -> set[Any]:
    """The checks of the graph on any of `keys`."""
    checks_by_asset = graph.checks_by_asset
    if not checks_by_asset:  # no check in the graph: no walk over the keys
        return set()
    return {c for key in keys for c in checks_by_asset.get(key, ())}


def _check_operand(other: Any) -> None:
    if not isinstance(other, AssetSelection):
        raise DagsterInvalidSubsetError(f"Operand must be an AssetSelection, got {other!r}")


def _filtered(graph: SelectionGraph, include_sources: bool) -> Iterable[Any]:
    return graph.nodes.values() if include_sources else (n for n in graph.nodes.values() if n.is_materializable)


# --- leaves ----------------------------------------------------------------------------------------


class AllSelection(AssetSelection, Record):
    include_sources: bool = False

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {n.key for n in _filtered(graph, self.include_sources)}

    def to_selection_str(self) -> str:
        return "*"


class AllAssetCheckSelection(AssetSelection, Record):
    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return set()

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return set(graph.check_keys)


class KeysAssetSelection(AssetSelection, Record):
    selected_keys: tuple = ()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        missing = [k for k in self.selected_keys if k not in graph.nodes]
        if missing and not allow_missing:
            raise DagsterInvalidSubsetError(
                f"AssetKey(s) {[_user_string(k) for k in missing]} were selected, but no AssetsDefinition objects "
                "supply these keys. Make sure all keys are spelled correctly, and all AssetsDefinitions are "
                "correctly added to the `Definitions`."
            )
        return {k for k in self.selected_keys if k in graph.nodes}

    def to_selection_str(self) -> str:
        return " or ".join(f"key:{_quote(_user_string(k))}" for k in self.selected_keys)

    def needs_parentheses_when_operand(self) -> bool:
        return len(self.selected_keys) > 1

    def __repr__(self) -> str:
        return f"KeysAssetSelection(selected_keys={list(self.selected_keys)!r})"


class KeyPrefixesAssetSelection(AssetSelection, Record):
    selected_key_prefixes: tuple = ()
    include_sources: bool = False

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {
            n.key for n in _filtered(graph, self.include_sources)
            if any(n.key.path[: len(p)] == list(p) for p in self.selected_key_prefixes)
        }

    def __repr__(self) -> str:
        prefixes = [list(p) for p in self.selected_key_prefixes]
        return f"KeyPrefixesAssetSelection(selected_key_prefixes={prefixes!r}, include_sources={self.include_sources})"


class KeySubstringAssetSelection(AssetSelection, Record):
    selected_key_substring: str = ""
    include_sources: bool = False

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {n.key for n in _filtered(graph, self.include_sources) if self.selected_key_substring in _user_string(n.key)}

    def to_selection_str(self) -> str:
        return f"key_substring:{_quote(self.selected_key_substring)}"


class KeyWildcardAssetSelection(AssetSelection, Record):
    """`key:<pattern>` from a selection string: `*` matches any run of characters."""

    selected_key_wildcard: str = ""

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        pattern = self.selected_key_wildcard
        if "*" not in pattern:
            return {k for k in graph.nodes if _user_string(k) == pattern}
        compiled = re.compile(fnmatch.translate(pattern.replace("[", "[[]").replace("?", "[?]")))
        return {k for k in graph.nodes if compiled.match(_user_string(k))}

    def to_selection_str(self) -> str:
        return f"key:{_quote(self.selected_key_wildcard)}"


class GroupsAssetSelection(AssetSelection, Record):
    selected_groups: tuple = ()
    include_sources: bool = False

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        by_group = graph.nodes_by_group()
        include_sources = self.include_sources
        return {n.key for group in set(self.selected_groups) for n in by_group.get(group, ())
                if include_sources or n.is_materializable}

    def to_selection_str(self) -> str:
        return " or ".join(f"group:{_quote(g)}" for g in self.selected_groups)

    def needs_parentheses_when_operand(self) -> bool:
        return len(self.selected_groups) > 1

    def __repr__(self) -> str:
        return f"GroupsAssetSelection(selected_groups={list(self.selected_groups)!r}, include_sources={self.include_sources})"


class TagAssetSelection(AssetSelection, Record):
    key: str = ""
    value: str = ""
    include_sources: bool = False

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {
            n.key for n in _filtered(graph, self.include_sources)
            if self.key in n.tags and n.tags[self.key] == self.value
        }

    def to_selection_str(self) -> str:
        return f"tag:{_quote(self.key)}" + (f"={_quote(self.value)}" if self.value else "")


class KindAssetSelection(AssetSelection, Record):
    include_sources: bool = False
    kind_str: str | None = None

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        if self.kind_str is None:
            return {n.key for n in _filtered(graph, self.include_sources) if not n.kinds}
        return {n.key for n in _filtered(graph, self.include_sources) if self.kind_str in n.kinds}

    def to_selection_str(self) -> str:
        return f"kind:{_quote(self.kind_str or '')}"


class OwnerAssetSelection(AssetSelection, Record):
    selected_owner: str | None = None

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {n.key for n in graph.nodes.values() if self.selected_owner in n.owners}

    def to_selection_str(self) -> str:
        return f"owner:{_quote(self.selected_owner or '')}"


class AssetChecksForAssetKeysSelection(AssetSelection, Record):
    selected_asset_keys: tuple = ()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return set()

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return {c for key in self.selected_asset_keys for c in graph.checks_by_asset.get(key, ())}


class AssetCheckKeysSelection(AssetSelection, Record):
    selected_asset_check_keys: tuple = ()

    def resolve_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        return set()

    def resolve_checks_inner(self, graph: SelectionGraph, allow_missing: bool) -> set[Any]:
        missing = [c for c in self.selected_asset_check_keys if c not in graph.check_keys]
        if missing and not allow_missing:
            raise DagsterInvalidSubsetError(
                f"AssetCheckKey(s) {[c.to_user_string() for c in missing]} were selected, but no definitions "
                "supply these keys. Make sure all keys are spelled correctly, and all AssetChecksDefinitions are "
                "correctly added to the `Definitions`."
            )
        return {c for c in self.selected_asset_check_keys if c in graph.check_keys}


CoercibleToAssetSelection = Any
