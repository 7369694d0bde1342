"""`@definitions`: a function that builds the code location's `Definitions` when the loader calls it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from orchestra._errors import DagsterInvariantViolationError


class LazyDefinitions:
    """What `@definitions` returns: calling it runs the function and checks it returned a `Definitions`.

    The module loader (`orchestra dev -f`, code servers, `load_definitions`) prefers it over a
    module-level `Definitions`, as Dagster's does; tests may call it directly.
    """

    __slots__ = ("has_context_arg", "load_fn")

    def __init__(self, load_fn: Callable[..., Any], has_context_arg: bool = False):
        self.load_fn = load_fn
        self.has_context_arg = has_context_arg

    def __call__(self, context: Any = None) -> Any:
        from orchestra._core.definitions_class.definitions import Definitions
        from orchestra._core.definitions_class.repository import RepositoryDefinition

        result = self.load_fn(context) if self.has_context_arg else self.load_fn()
        if not isinstance(result, (Definitions, RepositoryDefinition)):
            raise DagsterInvariantViolationError(
                "Function must return a Definitions or RepositoryDefinition object"
            )
        return result

    def __repr__(self) -> str:
        return f"LazyDefinitions(load_fn={self.load_fn!r}, has_context_arg={self.has_context_arg})"


def definitions(fn: Callable[[], Any]) -> LazyDefinitions:
    """Mark a function returning `Definitions` as the code location's entry point.

    Example:
        >>> @dg.definitions
        ... def defs():
        ...     return dg.Definitions(assets=[orders], resources={"db": Database()})

    The function takes no parameters (Dagster's optional `ComponentLoadContext` belongs to
    components, which Orchestra does not provide).
    """
    if inspect.signature(fn).parameters:
        raise DagsterInvariantViolationError(
            "Function must accept either no parameters or exactly one ComponentLoadContext parameter"
        )
    return LazyDefinitions(fn)
