"""Executor definitions: `ExecutorDefinition`, `@executor` and the built-in `in_process_executor`,
`multiprocess_executor` and `multi_or_in_process_executor` (the job default).

An executor definition pairs a run-config schema (the `execution: {config: ...}` block) with a
function that builds an `Executor` (see `orchestra._core.execute`) from the validated config.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from orchestra._errors import DagsterInvalidDefinitionError


class ExecutorRequirement(enum.Enum):
    """What an executor needs from the job and the instance."""

    RECONSTRUCTABLE_PIPELINE = "RECONSTRUCTABLE_PIPELINE"
    RECONSTRUCTABLE_JOB = "RECONSTRUCTABLE_PIPELINE"
    NON_EPHEMERAL_INSTANCE = "NON_EPHEMERAL_INSTANCE"
    PERSISTENT_OUTPUTS = "PERSISTENT_OUTPUTS"


def multiple_process_executor_requirements() -> list[ExecutorRequirement]:
    return [
        ExecutorRequirement.RECONSTRUCTABLE_JOB,
        ExecutorRequirement.NON_EPHEMERAL_INSTANCE,
        ExecutorRequirement.PERSISTENT_OUTPUTS,
    ]


class InitExecutorContext:
    """What an executor creation function receives: the job, the executor definition and its config."""

    def __init__(self, job: Any, executor_def: ExecutorDefinition, executor_config: dict[str, Any], instance: Any = None):
        self.job = job
        self.executor_def = executor_def
        self.executor_config = executor_config
        self.instance = instance


class ExecutorDefinition:
    """Names an executor, declares its config schema, and builds it for a run.

    Example:
        >>> @job(executor_def=in_process_executor)
        ... def serial_job(): ...
    """

    def __init__(
        self,
        name: str,
        config_schema: Any = None,
        requirements: Any = None,
        executor_creation_fn: Callable[[InitExecutorContext], Any] | None = None,
        description: str | None = None,
    ):
        self._name = name
        self._config_schema = config_schema
        self._requirements_fn = requirements if callable(requirements) else (lambda _cfg, r=list(requirements or []): r)
        self._executor_creation_fn = executor_creation_fn
        self._description = description
        self._config_field: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def executor_creation_fn(self) -> Callable[[InitExecutorContext], Any] | None:
        return self._executor_creation_fn

    @property
    def config_schema(self) -> Any:
        return self._config_schema

    @property
    def config_field(self) -> Any:
        if self._config_field is None:
            schema = self._config_schema() if callable(self._config_schema) and not isinstance(self._config_schema, type) else self._config_schema
            from orchestra._config.mapping import convert_user_facing_definition_config_schema

            self._config_field = convert_user_facing_definition_config_schema(schema).as_field()
        return self._config_field

    def get_requirements(self, executor_config: dict[str, Any]) -> list[ExecutorRequirement]:
        return self._requirements_fn(executor_config)

    def configured(self, config_or_config_fn: Any, name: str | None = None, config_schema: Any = None, description: str | None = None) -> ExecutorDefinition:
        def create(init_context: InitExecutorContext) -> Any:
            mapped = config_or_config_fn(init_context.executor_config) if callable(config_or_config_fn) else config_or_config_fn
            from orchestra._core.resources.config_bridge import process_config

            processed = process_config(self.config_field, mapped, what=f"executor {self.name}")
            return self.executor_creation_fn(InitExecutorContext(init_context.job, self, processed, init_context.instance))  # type: ignore[misc]

        return ExecutorDefinition(name or self.name, config_schema, self._requirements_fn, create, description or self.description)

    def __repr__(self) -> str:
        return f"<ExecutorDefinition {self._name}>"


def executor(name: Any = None, config_schema: Any = None, requirements: Any = None) -> Any:
    """Define an executor from a creation function `(InitExecutorContext) -> Executor`."""
    if callable(name) and not isinstance(name, str):
        return ExecutorDefinition(name.__name__, None, None, name)

    def decorate(fn: Callable[[InitExecutorContext], Any]) -> ExecutorDefinition:
        return ExecutorDefinition(name or fn.__name__, config_schema, requirements, fn)

    return decorate


# --- built-in schemas (built lazily: the config system is imported only when a schema is needed) -------


def _retries_field() -> Any:
    from orchestra._config import Field, Selector

    return Field(Selector({"enabled": {}, "disabled": {}}), default_value={"enabled": {}})


def _step_dependency_field() -> Any:
    from orchestra._config import Field

    return Field({"require_upstream_step_success": Field(bool, default_value=True)}, is_required=False)


def _in_process_fields() -> dict[str, Any]:
    from orchestra._config import Field

    return {
        "retries": _retries_field(),
        "marker_to_close": Field(str, is_required=False),
        "step_dependency_config": _step_dependency_field(),
    }


def _multiprocess_fields() -> dict[str, Any]:
    from orchestra._config import Array, Field, Noneable, Permissive, ScalarUnion, Selector

    return {
        "max_concurrent": Field(Noneable(int), default_value=None, is_required=False),
        "tag_concurrency_limits": Field(
            (Array({
                "key": str,
                "value": Field(ScalarUnion(str, {"applyLimitPerUniqueValue": bool}), is_required=False),
                "limit": Field(int),
            })),
            is_required=False,
        ),
        "start_method": Field(
            Selector({"spawn": Field(Permissive({}), is_required=False),
                      "forkserver": Field({"preload_modules": Field([str], is_required=False)}, is_required=False)}),
            is_required=False,
        ),
        "retries": _retries_field(),
        "step_dependency_config": _step_dependency_field(),
    }


def _in_process_schema() -> Any:
    return _in_process_fields()


def _multiprocess_schema() -> Any:
    return _multiprocess_fields()


def _multi_or_in_process_schema() -> Any:
    from orchestra._config import Field, Selector

    return Field(
        Selector({"multiprocess": Field(_multiprocess_fields(), is_required=False),
                  "in_process": Field(_in_process_fields(), is_required=False)}),
        default_value={"multiprocess": {}},
    )


def _retries_from(config: dict[str, Any] | None) -> bool:
    retries = (config or {}).get("retries") or {"enabled": {}}
    return "disabled" not in retries


def _require_upstream_success(config: dict[str, Any] | None) -> bool:
    step_dependency = (config or {}).get("step_dependency_config") or {}
    return step_dependency.get("require_upstream_step_success", True)


def _create_in_process(context: InitExecutorContext) -> Any:
    from orchestra._core.execute import InProcessExecutor

    config = context.executor_config or {}
    return InProcessExecutor(retries_enabled=_retries_from(config), require_upstream_step_success=_require_upstream_success(config))


def _create_multiprocess(context: InitExecutorContext) -> Any:
    # The multiprocess engine lives server-side (runs/executors); in the SDK alone steps run in process.
    from orchestra._core.execute import InProcessExecutor

    config = context.executor_config or {}
    return InProcessExecutor(
        retries_enabled=_retries_from(config), require_upstream_step_success=_require_upstream_success(config),
        max_concurrent=config.get("max_concurrent"),
    )


def _create_multi_or_in_process(context: InitExecutorContext) -> Any:
    config = context.executor_config or {"multiprocess": {}}
    kind, inner = next(iter(config.items()))
    sub = InitExecutorContext(context.job, context.executor_def, inner or {}, context.instance)
    return _create_multiprocess(sub) if kind == "multiprocess" else _create_in_process(sub)


in_process_executor = ExecutorDefinition(
    "in_process", _in_process_schema, None, _create_in_process,
    "Executes all steps in a single process.",
)
multiprocess_executor = ExecutorDefinition(
    "multiprocess", _multiprocess_schema, multiple_process_executor_requirements, _create_multiprocess,
    "Executes each step in its own process.",
)
multi_or_in_process_executor = ExecutorDefinition(
    "multi_or_in_process_executor", _multi_or_in_process_schema, None, _create_multi_or_in_process,
    "The default executor for a job: multiprocess unless `in_process` is selected in run config.",
)


def check_executor_def(value: Any) -> ExecutorDefinition:
    if value is None:
        return multi_or_in_process_executor
    if not isinstance(value, ExecutorDefinition):
        raise DagsterInvalidDefinitionError(f"executor_def must be an ExecutorDefinition, got {value!r}")
    return value
