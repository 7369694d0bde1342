"""What ops and graphs share as nodes: inputs, outputs, tags, and call/alias/tag in compositions."""

from __future__ import annotations

import keyword
import re
from typing import Any

from orchestra._core.definitions.composition import PendingNodeInvocation, in_composition, record_invocation
from orchestra._core.definitions.inout import InputDefinition, OutputDefinition
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class NodeDefinition:
    """Base of `OpDefinition` and `GraphDefinition`."""

    node_type_str = "node"

    def __init__(self, name: str, input_defs: list[InputDefinition], output_defs: list[OutputDefinition],
                 description: str | None = None, tags: dict[str, Any] | None = None):
        _check_name(name)
        self._name = name
        self._input_defs = list(input_defs)
        self._output_defs = list(output_defs)
        self._input_dict = {d.name: d for d in self._input_defs}
        self._output_dict = {d.name: d for d in self._output_defs}
        self._description = description
        self._tags = dict(tags or {})

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def tags(self) -> dict[str, Any]:
        return self._tags

    @property
    def input_defs(self) -> list[InputDefinition]:
        return self._input_defs

    @property
    def output_defs(self) -> list[OutputDefinition]:
        return self._output_defs

    @property
    def input_dict(self) -> dict[str, InputDefinition]:
        return self._input_dict

    @property
    def output_dict(self) -> dict[str, OutputDefinition]:
        return self._output_dict

    @property
    def ins(self) -> dict[str, Any]:
        from orchestra._core.definitions.inout import In

        return {d.name: In(d.dagster_type, d.description, d.default_value, d.metadata) for d in self._input_defs}

    @property
    def outs(self) -> dict[str, Any]:
        from orchestra._core.definitions.inout import DynamicOut, Out

        return {
            d.name: (DynamicOut if d.is_dynamic else Out)(d.dagster_type, d.description, d.is_required, d.io_manager_key, d.metadata)
            for d in self._output_defs
        }

    def has_input(self, name: str) -> bool:
        return name in self._input_dict

    def input_def_named(self, name: str) -> InputDefinition:
        try:
            return self._input_dict[name]
        except KeyError:
            raise DagsterInvariantViolationError(f"{self._name} has no input named {name}.")

    def has_output(self, name: str) -> bool:
        return name in self._output_dict

    def output_def_named(self, name: str) -> OutputDefinition:
        try:
            return self._output_dict[name]
        except KeyError:
            raise DagsterInvariantViolationError(f"{self._name} has no output named {name}.")

    # --- composition ----------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if in_composition():
            return record_invocation(self, None, None, None, None, args, kwargs)
        return self.direct_invoke(args, kwargs)

    def direct_invoke(self, args: tuple, kwargs: dict) -> Any:
        raise DagsterInvariantViolationError(
            f"Attempted to call {self.node_type_str} '{self._name}' outside of a composition function. "
            f"Invoking {self.node_type_str}s is only valid in a function decorated with @job or @graph."
        )

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, alias=name)

    def tag(self, tags: dict[str, Any] | None) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, tags=dict(tags or {}))

    with_tags = tag

    def with_hooks(self, hook_defs: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, hook_defs=frozenset(hook_defs))

    def with_retry_policy(self, retry_policy: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, retry_policy=retry_policy)


_NAME = re.compile(r"[A-Za-z0-9_]+")  # what `isalnum() or "_"` accepts, ASCII only


def _check_name(name: str) -> None:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise DagsterInvalidDefinitionError(
            f'"{name}" is not a valid name in Dagster. It must match regex ^[A-Za-z0-9_]+$.'
        )
    if name in _RESERVED:
        raise DagsterInvalidDefinitionError(f'"{name}" is not a valid name in Dagster. It conflicts with a Dagster or python reserved keyword.')


_RESERVED = frozenset({
    "context", "conf", "config", "meta", "arg_dict", "dict", "input_arg_dict", "output_arg_dict", "int", "str",
    "float", "bool", "input", "output", "type", *keyword.kwlist,
})
