"""Public error classes of the SDK, with Dagster's names and hierarchy."""

from __future__ import annotations

import sys
from typing import Any


class DagsterError(Exception):
    """Base class for every error raised by Orchestra's SDK."""

    @property
    def is_user_code_error(self) -> bool:
        return False


class DagsterInvalidDefinitionError(DagsterError):
    """A definition (op, graph, job, asset, resource, ...) was declared incorrectly."""


class DagsterInvalidConfigDefinitionError(DagsterError):
    """A config schema was declared with something that is not a config type."""

    def __init__(self, original_root: Any, current_value: Any, stack: list[str] | None = None, reason: str | None = None):
        self.original_root = original_root
        self.current_value = current_value
        self.stack = stack or []
        where = ("Error at stack path :" + ":".join(self.stack) + ". ") if self.stack else ""
        super().__init__(
            f"Error defining config. Original value passed: {original_root!r}. {where}"
            f"{current_value!r} cannot be resolved.{' Reason: ' + reason + '.' if reason else ''}"
            + _CONFIG_SCHEMA_HELP
        )


_CONFIG_SCHEMA_HELP = """
This value can be a:
    - Field
    - Python primitive types that resolve to dagster config types
        - int, float, bool, str, list.
    - A dagster config type: Int, Float, Bool, Array, Optional, Selector, Shape, Permissive, Map
    - A bare python dictionary, which is wrapped in Field(Shape(...)). Any values
      in the dictionary get resolved by the same rules, recursively.
    - A python list with a single entry that can resolve to a type, e.g. [int]
"""


class DagsterInvariantViolationError(DagsterError):
    """The SDK was used in a way its contract forbids."""


class DagsterInvalidInvocationError(DagsterError):
    """A definition was invoked directly with arguments that do not fit it."""


class DagsterInvalidPropertyError(DagsterError):
    """A context property was read where it is not available."""


class DagsterInvalidSubsetError(DagsterError):
    """An op or asset selection does not name a valid subset of the job."""


class DagsterInvalidConfigError(DagsterError):
    """Config did not validate against its schema; `errors` holds each error with its path."""

    def __init__(self, preamble: str, errors: list[Any], config_value: Any = None, *args: Any):
        self.errors = list(errors)
        self.config_value = config_value
        # Worded as Dagster's: the preamble, then "Error <n>: <message>" per error on its own line.
        self.error_messages = [getattr(e, "message", str(e)) for e in self.errors]
        self.message = preamble + "".join(
            f"\n    Error {i}: {message}" for i, message in enumerate(self.error_messages, start=1)
        )
        super().__init__(self.message, *args)


class DagsterInvalidPythonicConfigDefinitionError(DagsterError):
    """A `Config` or resource class has a field whose type cannot be expressed as config."""

    def __init__(self, config_class: Any, field_name: str | None, invalid_type: Any, is_resource: bool = False):
        self.config_class = config_class
        self.field_name = field_name
        self.invalid_type = invalid_type
        where = (f" {config_class!r}" if config_class else "") + (f" on field '{field_name}'" if field_name else "")
        extra = ""
        if is_resource:
            type_name = getattr(invalid_type, "__name__", "<my type>")
            extra = (
                "\n\nIf this config type represents a resource dependency, its annotation must either:\n"
                "    - Extend dagster.ConfigurableResource, dagster.ConfigurableIOManager, or\n"
                f"    - Be wrapped in a ResourceDependency annotation, e.g. ResourceDependency[{type_name}]\n"
            )
        super().__init__(
            f"\nError defining Dagster config class{where}.\nUnable to resolve config type {invalid_type!r} to a "
            "supported Dagster config type.\n\n\nThis config type can be a:\n"
            "    - Python primitive type\n        - int, float, bool, str, list\n"
            "    - A Python Dict or List type containing other valid types\n"
            "    - Custom data classes extending dagster.Config\n"
            "    - A Pydantic discriminated union type "
            "(https://docs.pydantic.dev/usage/types/#discriminated-unions-aka-tagged-unions)\n" + extra
        )


class DagsterInvalidMetadata(DagsterError):
    """A metadata value could not be resolved to a known metadata type."""


class DagsterUnknownResourceError(DagsterError, AttributeError):
    """Code asked for a resource key that was not provided or not required."""

    def __init__(self, resource_name: str, *args: Any):
        self.resource_name = resource_name
        super().__init__(
            f"Unknown resource `{resource_name}`. Specify `{resource_name}` as a required resource on "
            "the compute / config function that accessed it.",
            *args,
        )


class DagsterUnknownPartitionError(DagsterError):
    """A partition key is not part of its partitions definition."""


class DagsterUnmetExecutorRequirementsError(DagsterError):
    """The chosen executor cannot run this job in this instance."""


class DagsterRunNotFoundError(DagsterInvariantViolationError):
    """No run has the given id."""

    def __init__(self, *args: Any, invalid_run_id: str | None = None, **kwargs: Any):
        self.invalid_run_id = invalid_run_id
        super().__init__(*args, **kwargs)


class DagsterStepOutputNotFoundError(DagsterError):
    """A step output was asked for that the step did not produce."""

    def __init__(self, *args: Any, step_key: str | None = None, output_name: str | None = None, **kwargs: Any):
        self.step_key = step_key
        self.output_name = output_name
        super().__init__(*args, **kwargs)


class DagsterExecutionInterruptedError(BaseException):
    """Execution was interrupted (SIGINT/SIGTERM). A BaseException so user `except Exception` does not swallow it."""


class DagsterTypeCheckError(DagsterError):
    """A type check function itself raised."""


class DagsterTypeCheckDidNotPass(DagsterError):
    """A value failed the type check of its input or output."""

    def __init__(self, description: str | None = None, metadata: Any = None, dagster_type: Any = None):
        self.description = description
        self.metadata = metadata or {}
        self.dagster_type = dagster_type
        super().__init__(description)


class DagsterMaxRetriesExceededError(DagsterError):
    """A step ran out of retries (raised by `execute_in_process` when `raise_on_error` is true)."""

    def __init__(self, *args: Any, user_code_process_error_infos: list[Any] | None = None, **kwargs: Any):
        self.user_code_process_error_infos = list(user_code_process_error_infos or [])
        super().__init__(*args, **kwargs)


class DagsterUserCodeExecutionError(DagsterError):
    """Wraps an exception raised by user code; `user_exception` is the original."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.user_exception = kwargs.pop("user_exception", None)
        self.original_exc_info = kwargs.pop("original_exc_info", None) or sys.exc_info()
        super().__init__(*args, **kwargs)

    @property
    def is_user_code_error(self) -> bool:
        return True


class DagsterExecutionStepExecutionError(DagsterUserCodeExecutionError):
    """User code in a step raised."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.step_key = kwargs.pop("step_key", None)
        self.op_name = kwargs.pop("op_name", None)
        self.op_def_name = kwargs.pop("op_def_name", None)
        super().__init__(*args, **kwargs)


class DagsterResourceFunctionError(DagsterUserCodeExecutionError):
    """A resource's initialisation function raised."""


class DagsterConfigMappingFunctionError(DagsterUserCodeExecutionError):
    """A config mapping function raised."""


class DagsterExecutionLoadInputError(DagsterUserCodeExecutionError):
    """An IO manager or input manager raised while loading an input."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.step_key = kwargs.pop("step_key", None)
        self.input_name = kwargs.pop("input_name", None)
        super().__init__(*args, **kwargs)


class DagsterExecutionHandleOutputError(DagsterUserCodeExecutionError):
    """An IO manager raised while handling an output."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.step_key = kwargs.pop("step_key", None)
        self.output_name = kwargs.pop("output_name", None)
        super().__init__(*args, **kwargs)


class DagsterSubprocessError(DagsterError):
    """A child process (step worker) failed."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.subprocess_error_infos = kwargs.pop("subprocess_error_infos", [])
        super().__init__(*args, **kwargs)


class DagsterEventLogInvalidForRun(DagsterError):
    """An event log does not belong to the run it was read for."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(f"Event logs invalid for run id {run_id}")


class DagsterAssetCheckFailedError(DagsterError):
    """A blocking asset check failed with ERROR severity, failing the step that evaluated it."""
