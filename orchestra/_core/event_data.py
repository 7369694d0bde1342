"""Payloads carried by run and step events (`event_specific_data`): errors, outputs, inputs, failures, ..."""

from __future__ import annotations

import enum
import traceback
from typing import Any, NamedTuple


class SerializableErrorInfo(NamedTuple):
    """An exception reduced to data: message, formatted stack, class name and its cause/context."""

    message: str
    stack: list[str]
    cls_name: str | None
    cause: SerializableErrorInfo | None = None
    context: SerializableErrorInfo | None = None

    def to_string(self) -> str:
        text = self.message + "".join(self.stack)
        if self.cause:
            text += "\nThe above exception was caused by the following exception:\n" + self.cause.to_string()
        elif self.context:
            text += (
                "\nThe above exception occurred during handling of the following exception:\n"
                + self.context.to_string()
            )
        return text

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_exception(cls, exc: BaseException, _seen: set[int] | None = None) -> SerializableErrorInfo:
        seen = _seen if _seen is not None else set()
        seen.add(id(exc))
        tb = traceback.format_tb(exc.__traceback__) if exc.__traceback__ else []
        cause = exc.__cause__ if exc.__cause__ is not None and id(exc.__cause__) not in seen else None
        context = None
        if cause is None and not exc.__suppress_context__ and exc.__context__ is not None:
            if id(exc.__context__) not in seen:
                context = exc.__context__
        return cls(
            message="".join(traceback.format_exception_only(type(exc), exc)),
            stack=tb,
            cls_name=type(exc).__name__,
            cause=cls.from_exception(cause, seen) if cause is not None else None,
            context=cls.from_exception(context, seen) if context is not None else None,
        )


class ErrorSource(enum.Enum):
    FRAMEWORK_ERROR = "FRAMEWORK_ERROR"
    USER_CODE_ERROR = "USER_CODE_ERROR"
    UNEXPECTED_ERROR = "UNEXPECTED_ERROR"
    INTERRUPT = "INTERRUPT"


class StepOutputHandle(NamedTuple):
    step_key: str
    output_name: str = "result"
    mapping_key: str | None = None


class TypeCheckData(NamedTuple):
    success: bool
    label: str
    description: str | None = None
    metadata: dict[str, Any] = {}


class StepOutputData(NamedTuple):
    step_output_handle: StepOutputHandle
    type_check_data: TypeCheckData | None = None
    version: str | None = None
    metadata: dict[str, Any] = {}

    @property
    def output_name(self) -> str:
        return self.step_output_handle.output_name

    @property
    def mapping_key(self) -> str | None:
        return self.step_output_handle.mapping_key


class StepInputData(NamedTuple):
    input_name: str
    type_check_data: TypeCheckData | None = None


class StepSuccessData(NamedTuple):
    duration_ms: float


class UserFailureData(NamedTuple):
    label: str
    description: str | None = None
    metadata: dict[str, Any] = {}


class StepFailureData(NamedTuple):
    error: SerializableErrorInfo | None
    user_failure_data: UserFailureData | None = None
    error_source: ErrorSource | None = None


class StepRetryData(NamedTuple):
    error: SerializableErrorInfo | None
    seconds_to_wait: float | None = None


class HandledOutputData(NamedTuple):
    output_name: str
    manager_key: str
    metadata: dict[str, Any] = {}


class LoadedInputData(NamedTuple):
    input_name: str
    manager_key: str
    upstream_output_name: str | None = None
    upstream_step_key: str | None = None
    metadata: dict[str, Any] = {}


class EngineEventData(NamedTuple):
    metadata: dict[str, Any] = {}
    error: SerializableErrorInfo | None = None
    marker_start: str | None = None
    marker_end: str | None = None


class JobFailureData(NamedTuple):
    error: SerializableErrorInfo | None
    failure_reason: str | None = None


class StepMaterializationData(NamedTuple):
    materialization: Any
    asset_lineage: list = []


class AssetObservationData(NamedTuple):
    asset_observation: Any


class StepExpectationResultData(NamedTuple):
    expectation_result: Any


class HookErroredData(NamedTuple):
    error: SerializableErrorInfo


class ComputeLogsCaptureData(NamedTuple):
    file_key: str
    step_keys: list[str]
    external_url: str | None = None
    external_stdout_url: str | None = None
    external_stderr_url: str | None = None
    shell_cmd: Any = None
