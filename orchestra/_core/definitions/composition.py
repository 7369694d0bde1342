"""Composition: what calling ops and graphs inside a `@graph`/`@job` body records.

A composition function runs once, at definition time. Each node call records an invocation with
its input bindings and returns handles standing for its outputs; `GraphDefinition` is then built
from the recorded invocations.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class InvokedOutput:
    """An output of a node invocation, passed to later invocations to declare a dependency."""

    __slots__ = ("node_name", "output_name", "node_def")

    def __init__(self, node_name: str, output_name: str, node_def: Any):
        self.node_name = node_name
        self.output_name = output_name
        self.node_def = node_def

    def __iter__(self):
        raise DagsterInvariantViolationError(
            f"Attempted to iterate over an InvokedNodeOutputHandle. This object represents the output "
            f'"{self.output_name}" from the op/graph "{self.node_name}". Consider defining multiple Outs if '
            "you seek to pass different parts of this output to different op/graph."
        )

    def alias(self, _: str) -> None:
        raise DagsterInvariantViolationError("In a composition function, call alias on the op, not on its output.")

    def __repr__(self) -> str:
        return f"InvokedOutput({self.node_name}.{self.output_name})"


class DynamicHandle:
    """A dynamic output (or the outputs of a mapped node); use `.map(fn)` or `.collect()`."""

    __slots__ = ("node_name", "output_name", "node_def")

    def __init__(self, node_name: str, output_name: str, node_def: Any):
        self.node_name = node_name
        self.output_name = output_name
        self.node_def = node_def

    def map(self, fn: Callable[..., Any]) -> Any:
        result = fn(InvokedOutput(self.node_name, self.output_name, self.node_def))
        return _as_dynamic(result)

    def collect(self) -> CollectHandle:
        return CollectHandle(self.node_name, self.output_name)

    def __iter__(self):
        raise DagsterInvariantViolationError(
            f'Attempted to iterate over the dynamic output "{self.output_name}" of "{self.node_name}". '
            "Use .map() or .collect()."
        )

    def __repr__(self) -> str:
        return f"DynamicHandle({self.node_name}.{self.output_name})"


def _as_dynamic(result: Any) -> Any:
    if isinstance(result, InvokedOutput):
        return DynamicHandle(result.node_name, result.output_name, result.node_def)
    if isinstance(result, tuple):
        wrapped = [_as_dynamic(r) for r in result]
        if hasattr(result, "_fields"):
            return type(result)(*wrapped)
        return tuple(wrapped)
    if isinstance(result, dict):
        return {k: _as_dynamic(v) for k, v in result.items()}
    return result


class CollectHandle:
    """Every mapped copy of an output, gathered into one list input."""

    __slots__ = ("node_name", "output_name")

    def __init__(self, node_name: str, output_name: str):
        self.node_name = node_name
        self.output_name = output_name


class GraphInputHandle:
    """A parameter of a graph's composition function: the graph input of that name."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class Invocation:
    """One recorded node call inside a composition function."""

    __slots__ = ("node_name", "node_def", "tags", "hook_defs", "retry_policy", "bindings")

    def __init__(self, node_name: str, node_def: Any, tags: dict, hook_defs: frozenset, retry_policy: Any, bindings: dict):
        self.node_name = node_name
        self.node_def = node_def
        self.tags = tags
        self.hook_defs = hook_defs
        self.retry_policy = retry_policy
        self.bindings = bindings


class CompositionContext:
    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind  # "@graph" or "@job"
        self.invocations: dict[str, Invocation] = {}

    def unique_name(self, base: str, explicit: bool) -> str:
        if explicit:
            if base in self.invocations:
                raise DagsterInvalidDefinitionError(
                    f"{self.kind} {self.name} invoked the same node ({base}) twice without aliasing."
                )
            return base
        if base not in self.invocations:
            return base
        index = 2
        while f"{base}_{index}" in self.invocations:
            index += 1
        return f"{base}_{index}"


_STACK: list[CompositionContext] = []


def in_composition() -> bool:
    return bool(_STACK)


def run_composition(name: str, kind: str, fn: Callable[..., Any], args: dict[str, Any]) -> tuple[CompositionContext, Any]:
    context = CompositionContext(name, kind)
    _STACK.append(context)
    try:
        result = fn(**args)
    finally:
        _STACK.pop()
    return context, result


def record_invocation(node_def: Any, alias: str | None, tags: dict | None, hook_defs: frozenset | None,
                      retry_policy: Any, args: tuple, kwargs: dict) -> Any:
    """Record a node call made inside a composition function and return handles for its outputs."""
    context = _STACK[-1]
    node_name = context.unique_name(alias or node_def.name, alias is not None)
    input_defs = list(node_def.input_defs)
    if len(args) > len(input_defs):
        raise DagsterInvalidDefinitionError(
            f"In {context.kind} {context.name}, received too many inputs for invocation "
            f"{node_name}. Only {len(input_defs)} defined, received {len(args)}"
        )
    bindings: dict[str, Any] = {}
    for index, value in enumerate(args):
        name = input_defs[index].name
        bindings[name] = _check_binding(context, node_def, node_name, name, value, f"(at position {index})")
    known = {d.name for d in input_defs}
    for name, value in kwargs.items():
        if name not in known:
            raise DagsterInvalidDefinitionError(
                f'Invalid dependencies: {node_def.node_type_str} "{node_name}" does not have input "{name}". '
                f"Available inputs: {[d.name for d in input_defs]}"
            )
        bindings[name] = _check_binding(context, node_def, node_name, name, value, "(passed by keyword)")
    context.invocations[node_name] = Invocation(
        node_name, node_def, dict(tags or {}), frozenset(hook_defs or ()), retry_policy, bindings
    )
    outputs = list(node_def.output_defs)
    handles = [
        DynamicHandle(node_name, o.name, node_def) if o.is_dynamic else InvokedOutput(node_name, o.name, node_def)
        for o in outputs
    ]
    if not handles:
        return None
    if len(handles) == 1:
        return handles[0]
    tuple_type = namedtuple(f"{node_name}_outputs", [o.name for o in outputs], rename=True)  # noqa: PYI024
    return tuple_type(*handles)


def _check_binding(context: CompositionContext, node_def: Any, node_name: str, input_name: str, value: Any, where: str) -> Any:
    if isinstance(value, (InvokedOutput, CollectHandle, GraphInputHandle)):
        return value
    if isinstance(value, DynamicHandle):
        raise DagsterInvalidDefinitionError(
            f'In {context.kind} {context.name}, received a dynamic output "{value.output_name}" of '
            f'"{value.node_name}" for input "{input_name}" {where} in {node_def.node_type_str} invocation '
            f'"{node_name}". Use .map() to run the node once per value, or .collect() to pass them all as a list.'
        )
    if isinstance(value, tuple) and hasattr(value, "_fields") and value and all(
        isinstance(v, (InvokedOutput, DynamicHandle)) for v in value
    ):
        raise DagsterInvalidDefinitionError(
            f'In {context.kind} {context.name}, received a tuple of multiple outputs for input "{input_name}" {where} '
            f"in {node_def.node_type_str} invocation {node_name}. Must pass individual output, available from tuple: "
            f"{tuple(value._fields)}"
        )
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(v, (InvokedOutput, GraphInputHandle, CollectHandle)) for v in value
    ):
        return list(value)
    raise DagsterInvalidDefinitionError(
        f'In {context.kind} {context.name}, received invalid type {type(value)} for input "{input_name}" {where} '
        f'in {node_def.node_type_str} invocation "{node_name}". Must pass the output from previous node '
        "invocations or inputs to the composition function as inputs when invoking nodes during composition."
    )


class PendingNodeInvocation:
    """A node with an alias, tags, hooks or retry policy attached, waiting to be called in a composition."""

    def __init__(self, node_def: Any, alias: str | None = None, tags: dict | None = None,
                 hook_defs: frozenset | None = None, retry_policy: Any = None):
        self.node_def = node_def
        self.given_alias = alias
        self.tags = tags
        self.hook_defs = hook_defs or frozenset()
        self.retry_policy = retry_policy

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not in_composition():
            return self.node_def.direct_invoke(args, kwargs)
        return record_invocation(self.node_def, self.given_alias, self.tags, self.hook_defs, self.retry_policy, args, kwargs)

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(self.node_def, name, self.tags, self.hook_defs, self.retry_policy)

    def tag(self, tags: dict[str, Any] | None) -> PendingNodeInvocation:
        return PendingNodeInvocation(self.node_def, self.given_alias, {**(self.tags or {}), **(tags or {})}, self.hook_defs, self.retry_policy)

    with_tags = tag

    def with_hooks(self, hook_defs: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self.node_def, self.given_alias, self.tags, self.hook_defs | frozenset(hook_defs), self.retry_policy)

    def with_retry_policy(self, retry_policy: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self.node_def, self.given_alias, self.tags, self.hook_defs, retry_policy)
