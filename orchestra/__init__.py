"""Orchestra's public SDK: `import orchestra as dg` offers Dagster 1.13's public names.

Every public name is listed once in `_EXPORTS` with the private module that defines it. Modules are
imported on first attribute access, so `import orchestra` stays cheap (no pydantic, no Django)
while `dg.op`, `dg.Config`, ... resolve exactly as an eager `from x import Name` would.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> defining module. Keep each area's block sorted; one owner per block.
_EXPORTS: dict[str, str] = {
    # --- errors ---------------------------------------------------------------------------
    "DagsterConfigMappingFunctionError": "orchestra._errors",
    "DagsterError": "orchestra._errors",
    "DagsterEventLogInvalidForRun": "orchestra._errors",
    "DagsterExecutionHandleOutputError": "orchestra._errors",
    "DagsterExecutionInterruptedError": "orchestra._errors",
    "DagsterExecutionLoadInputError": "orchestra._errors",
    "DagsterExecutionStepExecutionError": "orchestra._errors",
    "DagsterInvalidConfigDefinitionError": "orchestra._errors",
    "DagsterInvalidConfigError": "orchestra._errors",
    "DagsterInvalidDefinitionError": "orchestra._errors",
    "DagsterInvalidInvocationError": "orchestra._errors",
    "DagsterInvalidPropertyError": "orchestra._errors",
    "DagsterInvalidSubsetError": "orchestra._errors",
    "DagsterInvariantViolationError": "orchestra._errors",
    "DagsterResourceFunctionError": "orchestra._errors",
    "DagsterRunNotFoundError": "orchestra._errors",
    "DagsterStepOutputNotFoundError": "orchestra._errors",
    "DagsterSubprocessError": "orchestra._errors",
    "DagsterTypeCheckDidNotPass": "orchestra._errors",
    "DagsterTypeCheckError": "orchestra._errors",
    "DagsterUnknownPartitionError": "orchestra._errors",
    "DagsterUnknownResourceError": "orchestra._errors",
    "DagsterUnmetExecutorRequirementsError": "orchestra._errors",
    "DagsterUserCodeExecutionError": "orchestra._errors",
    # --- builtin scalars (config and types) ---------------------------------------------
    "Any": "orchestra._builtins",
    "Bool": "orchestra._builtins",
    "Float": "orchestra._builtins",
    "Int": "orchestra._builtins",
    "Nothing": "orchestra._builtins",
    "String": "orchestra._builtins",
    # --- config (orchestra._config) --------------------------------------------------------
    # --- metadata (orchestra._core.metadata) -----------------------------------------------
    # --- definitions, execution, events, instance (orchestra._core) ------------------------
    # --- resources and IO managers (orchestra._core.resources, orchestra._core.io) --------
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'orchestra' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # static checkers and IDEs see ordinary re-exports
    from orchestra._errors import *  # noqa: F403
