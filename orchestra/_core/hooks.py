"""Op hooks: `HookDefinition`, `@success_hook`, `@failure_hook`, `HookContext`, `build_hook_context`.

Hooks run in the step runner right after a step finished (and its skip events), one after another in
name order; each yields HOOK_COMPLETED, HOOK_SKIPPED (its trigger did not match) or HOOK_ERRORED.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError, DagsterUserCodeExecutionError


class HookExecutionResult(NamedTuple):
    hook_name: str
    is_skipped: bool = False


class HookExecutionError(DagsterUserCodeExecutionError):
    """A hook function raised."""


class HookDefinition:
    """A function run after an op's step, given a `HookContext` and the step's events.

    Example:
        >>> @success_hook(required_resource_keys={"slack"})
        ... def notify(context):
        ...     context.resources.slack.send(f"{context.op.name} succeeded")
        >>> @job(hooks={notify})
        ... def nightly(): ...
    """

    def __init__(self, name: str, hook_fn: Callable[[Any, list[Any]], HookExecutionResult],
                 required_resource_keys: set[str] | None = None, decorated_fn: Callable[..., Any] | None = None):
        self.name = name
        self.hook_fn = hook_fn
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.decorated_fn = decorated_fn

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<HookDefinition {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from orchestra._core.definitions.graph import GraphDefinition
        from orchestra._core.definitions.job import JobDefinition

        if len(args) == 1 and not kwargs and isinstance(args[0], (JobDefinition, GraphDefinition)):
            target = args[0]
            return target.with_hooks({self})
        if self.decorated_fn is None:
            raise DagsterInvalidDefinitionError("Only hooks created with @success_hook/@failure_hook can be invoked directly.")
        context = args[0] if args else kwargs.get("context")
        if context is None:
            context = build_hook_context()
        return self.decorated_fn(context)


def _hook_decorator(kind: str, hook_fn: Any, name: str | None, required_resource_keys: Any) -> Any:
    def decorate(fn: Callable[..., Any]) -> HookDefinition:
        params = list(inspect.signature(fn).parameters)
        if len(params) < 1:
            raise DagsterInvalidDefinitionError(f"@{kind} '{fn.__name__}' must take a context argument.")
        hook_name = name or fn.__name__

        def run(context: Any, event_list: list[Any]) -> HookExecutionResult:
            wanted = "STEP_SUCCESS" if kind == "success_hook" else "STEP_FAILURE"
            if any(e.event_type_value == wanted for e in event_list):
                fn(context)
                return HookExecutionResult(hook_name, False)
            return HookExecutionResult(hook_name, True)

        return HookDefinition(hook_name, run, required_resource_keys, fn)

    if callable(hook_fn):
        return decorate(hook_fn)
    return decorate


def success_hook(hook_fn: Callable[..., Any] | None = None, *, name: str | None = None,
                 required_resource_keys: set[str] | None = None) -> Any:
    """Run `hook_fn(context)` after each op it is attached to succeeds."""
    return _hook_decorator("success_hook", hook_fn, name, required_resource_keys)


def failure_hook(hook_fn: Callable[..., Any] | None = None, *, name: str | None = None,
                 required_resource_keys: set[str] | None = None) -> Any:
    """Run `hook_fn(context)` after each op it is attached to fails."""
    return _hook_decorator("failure_hook", hook_fn, name, required_resource_keys)


class HookContext:
    """What a hook function receives: the op, its step, run, resources, outputs or exception."""

    def __init__(self, *, hook_def: HookDefinition | None, job_name: str | None, run_id: str | None, op: Any,
                 step_key: str | None, resources: Any, op_config: Any, log: Any, instance: Any = None,
                 op_exception: BaseException | None = None, op_output_values: dict[str, Any] | None = None,
                 op_output_metadata: dict[str, Any] | None = None):
        self._hook_def = hook_def
        self._job_name = job_name
        self._run_id = run_id
        self._op = op
        self._step_key = step_key
        self._resources = resources
        self._op_config = op_config
        self._log = log
        self._instance = instance
        self._op_exception = op_exception
        self._op_output_values = op_output_values or {}
        self._op_output_metadata = op_output_metadata or {}

    @property
    def hook_def(self) -> HookDefinition | None:
        return self._hook_def

    @property
    def job_name(self) -> str | None:
        return self._job_name

    @property
    def run_id(self) -> str | None:
        return self._run_id

    @property
    def op(self) -> Any:
        return self._op

    @property
    def step_key(self) -> str | None:
        return self._step_key

    @property
    def required_resource_keys(self) -> frozenset[str]:
        return self._hook_def.required_resource_keys if self._hook_def else frozenset()

    @property
    def resources(self) -> Any:
        return self._resources

    @property
    def op_config(self) -> Any:
        return self._op_config

    @property
    def log(self) -> Any:
        return self._log

    @property
    def instance(self) -> Any:
        return self._instance

    @property
    def op_exception(self) -> BaseException | None:
        return self._op_exception

    @property
    def op_output_values(self) -> dict[str, Any]:
        return self._op_output_values

    @property
    def op_output_metadata(self) -> dict[str, Any]:
        return self._op_output_metadata

    def __enter__(self) -> HookContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        manager = getattr(self, "_resources_cm", None)
        if manager is not None:
            manager.__exit__(*exc)


def build_hook_context(resources: dict[str, Any] | None = None, op: Any = None, run_id: str | None = None,
                       job_name: str | None = None, op_exception: Exception | None = None, instance: Any = None) -> HookContext:
    """A HookContext for invoking a hook function directly in tests.

    Example:
        >>> notify(build_hook_context(resources={"slack": FakeSlack()}))
    """
    from orchestra._core.log import ConsoleWriter, DagsterLogManager
    from orchestra._core.resources.initialization import build_resources

    manager = build_resources(resources or {}, instance=instance)
    built = manager.__enter__()
    node = getattr(op, "node_def", op)
    context = HookContext(
        hook_def=None, job_name=job_name, run_id=run_id, op=node, step_key=None, resources=built, op_config=None,
        log=DagsterLogManager(run_id or "EPHEMERAL", job_name, None, None, ConsoleWriter()), instance=instance,
        op_exception=op_exception,
    )
    context._resources_cm = manager  # type: ignore[attr-defined]
    return context


# --- running hooks after a step ----------------------------------------------------------------


def run_step_hooks(worker: Any, step: Any, step_events: list[Any]) -> Iterator[Any]:
    """Run the step's hooks in name order; each yields HOOK_COMPLETED, HOOK_SKIPPED or HOOK_ERRORED."""
    from orchestra._core.events import HookErroredData, SerializableErrorInfo
    from orchestra._core.log import pop_step_log, push_step_log

    rc = worker.rc
    op_name = step.node_handle.name
    log = rc.log.for_step(step.key)
    for hook_def in step.hook_defs:
        context = HookContext(
            hook_def=hook_def, job_name=rc.job_name, run_id=rc.run_id, op=step.node, step_key=step.key,
            resources=worker.resources, op_config=worker._hook_config, log=log, instance=rc.instance,
            op_exception=worker._hook_error, op_output_values=worker._hook_outputs,
        )
        push_step_log(log)
        try:
            result = hook_def.hook_fn(context, step_events)
        except Exception as exc:
            error = HookExecutionError(
                f'Error occurred during the execution of hook_fn triggered for op "{op_name}"', user_exception=exc,
            )
            error.__cause__ = exc
            from orchestra._core.events import HookErroredData

            yield worker._event(
                "HOOK_ERRORED", step, f'Error occurred during the execution of hook_fn triggered for op "{op_name}"',
                HookErroredData(SerializableErrorInfo.from_exception(error)),
            )
            continue
        finally:
            pop_step_log()
        if result is not None and getattr(result, "is_skipped", False):
            yield worker._event(
                "HOOK_SKIPPED", step,
                f'Skipped the execution of hook "{hook_def.name}". It did not meet its triggering condition '
                f'during the execution of "{op_name}".',
            )
        else:
            yield worker._event("HOOK_COMPLETED", step, f'Finished the execution of hook "{hook_def.name}" triggered for "{op_name}".')
