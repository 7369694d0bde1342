"""Orchestra's public SDK: `import orchestra as dg` offers Dagster 1.13's public names.

Every public name is listed once in `_EXPORTS` with the private module that defines it. Modules are
imported on first attribute access, so `import orchestra` stays cheap (no pydantic, no Django)
while `dg.op`, `dg.Config`, ... resolve exactly as an eager `from x import Name` would.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
    "Array": "orchestra._config",
    "BoolSource": "orchestra._config",
    "Config": "orchestra._config.pythonic",
    "ConfigMapping": "orchestra._config.mapping",
    "ConfigSchema": "orchestra._config.mapping",
    "Enum": "orchestra._config",
    "EnumValue": "orchestra._config",
    "EnvVar": "orchestra._config",
    "Field": "orchestra._config",
    "IntSource": "orchestra._config",
    "Map": "orchestra._config",
    "Noneable": "orchestra._config",
    "Permissive": "orchestra._config",
    "PermissiveConfig": "orchestra._config.pythonic",
    "RunConfig": "orchestra._config.run_config",
    "ScalarUnion": "orchestra._config",
    "Selector": "orchestra._config",
    "Shape": "orchestra._config",
    "StringSource": "orchestra._config",
    "config_from_files": "orchestra._config.loading",
    "config_from_pkg_resources": "orchestra._config.loading",
    "config_from_yaml_strings": "orchestra._config.loading",
    "config_mapping": "orchestra._config.mapping",
    "configured": "orchestra._config.mapping",
    # --- metadata (orchestra._core.metadata) -----------------------------------------------
    "BoolMetadataValue": "orchestra._core.metadata",
    "CodeReferencesMetadataValue": "orchestra._core.metadata",
    "DagsterAssetMetadataValue": "orchestra._core.metadata",
    "DagsterInvalidMetadata": "orchestra._errors",
    "DagsterJobMetadataValue": "orchestra._core.metadata",
    "DagsterRunMetadataValue": "orchestra._core.metadata",
    "FloatMetadataValue": "orchestra._core.metadata",
    "IntMetadataValue": "orchestra._core.metadata",
    "JsonMetadataValue": "orchestra._core.metadata",
    "LocalFileCodeReference": "orchestra._core.metadata",
    "MarkdownMetadataValue": "orchestra._core.metadata",
    "MetadataValue": "orchestra._core.metadata",
    "NotebookMetadataValue": "orchestra._core.metadata",
    "NullMetadataValue": "orchestra._core.metadata",
    "PathMetadataValue": "orchestra._core.metadata",
    "PoolMetadataValue": "orchestra._core.metadata",
    "PythonArtifactMetadataValue": "orchestra._core.metadata",
    "TableColumn": "orchestra._core.metadata",
    "TableColumnConstraints": "orchestra._core.metadata",
    "TableColumnDep": "orchestra._core.metadata",
    "TableColumnLineage": "orchestra._core.metadata",
    "TableColumnLineageMetadataValue": "orchestra._core.metadata",
    "TableConstraints": "orchestra._core.metadata",
    "TableMetadataValue": "orchestra._core.metadata",
    "TableRecord": "orchestra._core.metadata",
    "TableSchema": "orchestra._core.metadata",
    "TableSchemaMetadataValue": "orchestra._core.metadata",
    "TextMetadataValue": "orchestra._core.metadata",
    "TimestampMetadataValue": "orchestra._core.metadata",
    "UrlCodeReference": "orchestra._core.metadata",
    "UrlMetadataValue": "orchestra._core.metadata",
    # --- definitions, execution, events, instance (orchestra._core) ------------------------
    # --- resources and IO managers (orchestra._core.resources, orchestra._core.io) --------
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:  # not `Any`: a module global would shadow the `dg.Any` export
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
