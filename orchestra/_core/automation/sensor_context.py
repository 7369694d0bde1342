"""`SensorEvaluationContext` and `build_sensor_context`, with the sensor status, type and error types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from orchestra._core.automation.context import InstigatorContext
from orchestra._errors import DagsterInvariantViolationError, DagsterUserCodeExecutionError

DEFAULT_SENSOR_DAEMON_INTERVAL = 30


class DefaultSensorStatus(Enum):
    """Whether a sensor starts running as soon as its code location loads."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class SensorType(Enum):
    STANDARD = "STANDARD"
    RUN_STATUS = "RUN_STATUS"
    ASSET = "ASSET"
    MULTI_ASSET = "MULTI_ASSET"
    FRESHNESS_POLICY = "FRESHNESS_POLICY"
    AUTO_MATERIALIZE = "AUTO_MATERIALIZE"
    AUTOMATION = "AUTOMATION"
    UNKNOWN = "UNKNOWN"


class SensorExecutionError(DagsterUserCodeExecutionError):
    """User code raised while a sensor was evaluated; `user_exception` is the original error."""


class SensorEvaluationContext(InstigatorContext):
    """The context a sensor function receives: cursor, last run key, resources, instance, log.

    Build one for tests with `build_sensor_context`; the sensor daemon builds one per tick.

    Example:
        ```python
        @dg.sensor(job=my_job)
        def new_files(context: dg.SensorEvaluationContext):
            seen = int(context.cursor or 0)
            for n in range(seen + 1, latest() + 1):
                yield dg.RunRequest(run_key=str(n))
            context.update_cursor(str(latest()))
        ```
    """

    _kind = "sensor"
    _builder = "build_sensor_context"

    def __init__(
        self,
        instance_ref: Any = None,
        last_tick_completion_time: float | None = None,
        last_run_key: str | None = None,
        cursor: str | None = None,
        log_key: Sequence[str] | None = None,
        repository_name: str | None = None,
        repository_def: Any = None,
        instance: Any = None,
        sensor_name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        definitions: Any = None,
        last_sensor_start_time: float | None = None,
        code_location_origin: Any = None,
        last_completion_time: float | None = None,
    ):
        if cursor is not None and not isinstance(cursor, str):
            raise DagsterInvariantViolationError(f'Param "cursor" is not a str. Got {cursor!r}.')
        super().__init__(instance=instance if instance is not None else instance_ref, resources=resources, name=sensor_name)
        self._instance_ref = instance_ref
        self._last_tick_completion_time = (
            last_tick_completion_time if last_tick_completion_time is not None else last_completion_time
        )
        self._last_run_key = last_run_key
        self._last_sensor_start_time = last_sensor_start_time
        self._cursor = cursor
        self._cursor_updated = False
        self._repository_name = repository_name
        self._repository_def = repository_def if repository_def is not None else _repository_of(definitions)
        self._code_location_origin = code_location_origin
        self._sensor_name = sensor_name
        self._log_key = list(log_key) if log_key else None

    def __enter__(self) -> SensorEvaluationContext:
        return super().__enter__()

    @property
    def cursor(self) -> str | None:
        """The cursor the previous evaluation left (`update_cursor` or `SensorResult.cursor`)."""
        return self._cursor

    def update_cursor(self, cursor: str | None) -> None:
        """Set the cursor the next evaluation receives."""
        if cursor is not None and not isinstance(cursor, str):
            raise DagsterInvariantViolationError(f'Param "cursor" is not a str. Got {cursor!r}.')
        self._cursor = cursor
        self._cursor_updated = True

    @property
    def cursor_updated(self) -> bool:
        return self._cursor_updated

    @property
    def last_run_key(self) -> str | None:
        """The run key of the last run this sensor requested."""
        return self._last_run_key

    @property
    def last_tick_completion_time(self) -> float | None:
        """When the previous tick finished (POSIX timestamp)."""
        return self._last_tick_completion_time

    @property
    def last_completion_time(self) -> float | None:
        return self._last_tick_completion_time

    @property
    def last_sensor_start_time(self) -> float | None:
        """When the sensor was last started (POSIX timestamp)."""
        return self._last_sensor_start_time

    @property
    def is_first_tick_since_sensor_start(self) -> bool:
        return not self._last_tick_completion_time or (
            self._last_sensor_start_time is not None and self._last_sensor_start_time > self._last_tick_completion_time
        )

    @property
    def sensor_name(self) -> str:
        if self._sensor_name is None:
            raise DagsterInvariantViolationError("Only valid when sensor name provided")
        return self._sensor_name

    @property
    def repository_name(self) -> str | None:
        return self._repository_name

    @property
    def repository_def(self) -> Any:
        return self._repository_def

    @property
    def instance_ref(self) -> Any:
        return self._instance_ref

    @property
    def code_location_origin(self) -> Any:
        return self._code_location_origin

    @property
    def log_key(self) -> list[str] | None:
        return self._log_key

    def merge_resources(self, resources_dict: Mapping[str, Any]) -> SensorEvaluationContext:
        """A copy of this context with `resources_dict` added (before any resource was built)."""
        self._check_mergeable()
        return SensorEvaluationContext(
            instance_ref=self._instance_ref,
            last_tick_completion_time=self._last_tick_completion_time,
            last_run_key=self._last_run_key,
            cursor=self._cursor,
            log_key=self._log_key,
            repository_name=self._repository_name,
            repository_def=self._repository_def,
            instance=self._instance,
            sensor_name=self._sensor_name,
            resources={**self._resource_defs, **resources_dict},
            last_sensor_start_time=self._last_sensor_start_time,
            code_location_origin=self._code_location_origin,
        )


def _repository_of(definitions: Any) -> Any:
    if definitions is None:
        return None
    get_repository_def = getattr(definitions, "get_repository_def", None)
    return get_repository_def() if callable(get_repository_def) else definitions


def build_sensor_context(
    instance: Any = None,
    cursor: str | None = None,
    repository_name: str | None = None,
    repository_def: Any = None,
    sensor_name: str | None = None,
    resources: Mapping[str, object] | None = None,
    definitions: Any = None,
    instance_ref: Any = None,
    last_sensor_start_time: float | None = None,
    *,
    last_run_key: str | None = None,
    last_tick_completion_time: float | None = None,
) -> SensorEvaluationContext:
    """A `SensorEvaluationContext` for testing a sensor function.

    Example:
        ```python
        context = dg.build_sensor_context(cursor="41")
        assert [r.run_key for r in new_files(context)] == ["42"]
        ```
    """
    return SensorEvaluationContext(
        instance_ref=instance_ref,
        last_tick_completion_time=last_tick_completion_time,
        last_run_key=last_run_key,
        cursor=cursor,
        repository_name=repository_name,
        repository_def=repository_def,
        instance=instance,
        sensor_name=sensor_name,
        resources=resources,
        definitions=definitions,
        last_sensor_start_time=last_sensor_start_time,
    )
