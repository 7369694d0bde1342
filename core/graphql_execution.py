"""graphql-core's execution for a schema whose every resolver is synchronous, with less work per field.

graphql-core executes each field through a chain written for awaitable results (a check after every
resolver, every completion and every list item) and dispatches each value's completion through a
series of type predicates. Every resolver here is synchronous, and a 50-run `runsOrError` page
completes about 650 fields, so that machinery was half of the page's CPU. `SyncExecutionContext`
keeps graphql-core's semantics — the same resolvers, resolve info, argument coercion, null
propagation and located errors — and drops only what a synchronous schema never needs: awaitable
checks, argument coercion for fields that declare no arguments, type dispatch for leaf fields, and
the resolve info for leaves read by graphene's default resolver (which never looks at it). A
resolver that returns an awaitable is a bug here and fails its field with an error.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    ExecutionContext,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    located_error,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable

_NO_ARGS: dict[str, Any] = {}
_NON_NULL, _LEAF, _LIST, _OBJECT, _ABSTRACT, _OTHER = "non-null", "leaf", "list", "object", "abstract", "other"
# Kind of completion per class of output type (graphene's types subclass graphql-core's).
_KINDS: dict[type, str] = {}


def _kind(cls: type) -> str:
    for bases, kind in (((GraphQLNonNull,), _NON_NULL), ((GraphQLScalarType, GraphQLEnumType), _LEAF),
                        ((GraphQLList,), _LIST), ((GraphQLObjectType,), _OBJECT),
                        ((GraphQLInterfaceType, GraphQLUnionType), _ABSTRACT)):
        if issubclass(cls, bases):
            _KINDS[cls] = kind
            return kind
    _KINDS[cls] = _OTHER
    return _OTHER


class _Plan(NamedTuple):
    """What a field's execution can skip: its leaf type (or None), and for graphene's default
    resolver the attribute or key it reads (else None)."""

    leaf: Any
    non_null: bool
    attname: str | None
    default: Any
    field: Any  # the GraphQLField itself: kept alive, its id() cannot name another field


_PLANS: dict[int, _Plan] = {}  # by id() of the GraphQLField (graphql-core's fields are not hashable)


def _plan(field_def: Any) -> _Plan:
    return_type, non_null = field_def.type, False
    if isinstance(return_type, GraphQLNonNull):
        return_type, non_null = return_type.of_type, True
    leaf = return_type if isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)) else None
    resolve, attname, default = field_def.resolve, None, None
    if (leaf is not None and isinstance(resolve, partial) and resolve.func is dict_or_attr_resolver
            and len(resolve.args) == 2 and not resolve.keywords and not field_def.args):
        attname, default = resolve.args
    plan = _PLANS[id(field_def)] = _Plan(leaf, non_null, attname, default, field_def)
    return plan


def _complete_leaf(plan: _Plan, result: Any, type_name: str, field_name: str) -> Any:
    """`complete_value` for a (non-null) leaf: graphql-core's checks and messages, without its dispatch."""
    if isinstance(result, Exception):
        raise result
    if result is None or result is Undefined:
        if plan.non_null:
            raise TypeError(f"Cannot return null for non-nullable field {type_name}.{field_name}.")
        return None
    serialized = plan.leaf.serialize(result)
    if serialized is Undefined or serialized is None:
        raise TypeError(f"Expected `{inspect(plan.leaf)}.serialize({inspect(result)})` to return non-nullable "
                        f"value, returned: {inspect(serialized)}")
    return serialized


class SyncExecutionContext(ExecutionContext):
    """An ExecutionContext for schemas whose resolvers never return awaitables (see module docstring)."""

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       fields: dict[str, list[Any]]) -> dict[str, Any]:
        results = {}
        execute_field = self.execute_field
        type_name = parent_type.name
        for response_name, field_nodes in fields.items():
            result = execute_field(parent_type, source_value, field_nodes, Path(path, response_name, type_name))
            if result is not Undefined:
                results[response_name] = result
        return results

    def execute_field(self, parent_type: GraphQLObjectType, source: Any, field_nodes: list[Any],
                      path: Path) -> Any:
        node = field_nodes[0]
        name = node.name.value
        field_def = parent_type.fields.get(name) if not name.startswith("__") else None
        if field_def is None:
            return super().execute_field(parent_type, source, field_nodes, path)  # introspection, unknown
        return_type = field_def.type
        plan = _PLANS.get(id(field_def)) or _plan(field_def)
        if plan.attname is not None and not self.middleware_manager:
            # A leaf read by graphene's default resolver, which never looks at the resolve info.
            try:
                result = (source.get(plan.attname, plan.default) if isinstance(source, dict)
                          else getattr(source, plan.attname, plan.default))
                return _complete_leaf(plan, result, parent_type.name, name)
            except Exception as raw_error:
                error = located_error(raw_error, field_nodes, path.as_list())
                self.handle_field_error(error, return_type, path)
                return None
        resolve_fn = field_def.resolve or self.field_resolver
        if self.middleware_manager:
            resolve_fn = self.middleware_manager.get_field_resolver(resolve_fn)
        info = self.build_resolve_info(field_def, field_nodes, parent_type, path)
        try:
            if field_def.args or node.arguments:
                args = get_argument_values(field_def, node, self.variable_values)
            else:
                args = _NO_ARGS
            result = resolve_fn(source, info, **args)
            if plan.leaf is not None:
                return _complete_leaf(plan, result, parent_type.name, name)
            return self.complete_value(return_type, field_nodes, info, path, result)
        except Exception as raw_error:
            error = located_error(raw_error, field_nodes, path.as_list())
            self.handle_field_error(error, return_type, path)
            return None

    def complete_value(self, return_type: Any, field_nodes: list[Any], info: Any, path: Path, result: Any) -> Any:
        if isinstance(result, Exception):
            raise result
        kind = _KINDS.get(type(return_type)) or _kind(type(return_type))
        if kind is _NON_NULL:
            completed = self.complete_value(return_type.of_type, field_nodes, info, path, result)
            if completed is None:
                raise TypeError(f"Cannot return null for non-nullable field {info.parent_type.name}.{info.field_name}.")
            return completed
        if result is None or result is Undefined:
            return None
        if kind is _LEAF:
            return self.complete_leaf_value(return_type, result)
        if kind is _LIST:
            return self.complete_list_value(return_type, field_nodes, info, path, result)
        if kind is _OBJECT:
            return self.complete_object_value(return_type, field_nodes, info, path, result)
        if kind is _ABSTRACT:
            return self.complete_abstract_value(return_type, field_nodes, info, path, result)
        return super().complete_value(return_type, field_nodes, info, path, result)

    def complete_list_value(self, return_type: GraphQLList, field_nodes: list[Any], info: Any, path: Path,
                            result: Any) -> list[Any]:
        if not is_iterable(result):
            raise GraphQLError("Expected Iterable, but did not find one for field"
                               f" '{info.parent_type.name}.{info.field_name}'.")
        item_type = return_type.of_type
        complete_value = self.complete_value
        completed_results = []
        for index, item in enumerate(result):
            item_path = path.add_key(index, None)
            try:
                completed = complete_value(item_type, field_nodes, info, item_path, item)
            except Exception as raw_error:
                error = located_error(raw_error, field_nodes, item_path.as_list())
                self.handle_field_error(error, item_type, item_path)
                completed = None
            completed_results.append(completed)
        return completed_results

    def complete_object_value(self, return_type: GraphQLObjectType, field_nodes: list[Any], info: Any,
                              path: Path, result: Any) -> dict[str, Any]:
        sub_field_nodes = self.collect_subfields(return_type, field_nodes)
        if return_type.is_type_of and not return_type.is_type_of(result, info):
            return super().complete_object_value(return_type, field_nodes, info, path, result)  # its error
        return self.execute_fields(return_type, result, path, sub_field_nodes)
