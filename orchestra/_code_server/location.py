"""One code location as its server holds it: definitions loaded once, and every question about them.

Nothing here raises for a fault in user code: a failed load, a failing schedule or sensor, a partition
function that raises or an evaluation that runs past its timeout all come back as plain data
(`{cls_name, message, stack, cause}`), so the server keeps answering.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from orchestra._core.automation.evaluation import ErrorInfo

DEFAULT_EVALUATION_TIMEOUT = 60.0  # seconds; Dagster's gRPC default for schedule and sensor calls

T = TypeVar("T")


class NotFound(LookupError):
    """The location has no definition of that name."""


class BadRequest(ValueError):
    """The question itself is malformed (not the user's code)."""


class NotLoaded(RuntimeError):
    """The definitions failed to load, so there is nothing to evaluate."""


class EvaluationTimeout(TimeoutError):
    """User code ran past the evaluation timeout; its thread is abandoned, not killed."""


@dataclass(frozen=True)
class CodePointer:
    """Where the location's code is: exactly one of a file, a module or a package."""

    python_file: str | None = None
    module_name: str | None = None
    package_name: str | None = None
    attribute: str | None = None
    working_directory: str | None = None

    def describe(self) -> str:
        target = self.python_file or self.module_name or self.package_name or "?"
        return f"{target}:{self.attribute}" if self.attribute else target


def error_data(exc: BaseException) -> dict[str, Any]:
    """An exception as the plain data every answer uses for errors."""
    return asdict(ErrorInfo.from_exception(exc))


class LoadedLocation:
    """The definitions of one code location, loaded once at construction.

    Example:
        >>> location = LoadedLocation(CodePointer(python_file="defs.py"), "analytics")
        >>> location.snapshot["jobs"][0]["name"] if location.load_error is None else location.load_error
    """

    def code_pointer(self) -> dict[str, Any]:
        """The pointer as plain data with absolute paths and this interpreter (`executable_path`)."""
        pointer = {k: v for k, v in asdict(self.pointer).items() if v is not None}
        if pointer.get("python_file"):
            pointer["python_file"] = os.path.abspath(pointer["python_file"])
        pointer["working_directory"] = os.path.abspath(pointer.get("working_directory") or os.getcwd())
        pointer["executable_path"] = sys.executable
        return pointer

    def __init__(self, pointer: CodePointer, location_name: str | None = None,
                 evaluation_timeout: float = DEFAULT_EVALUATION_TIMEOUT):
        self.pointer = pointer
        self.location_name = location_name or _default_location_name(pointer)
        self.evaluation_timeout = evaluation_timeout
        self.defs: Any = None
        self.repository: Any = None
        self.snapshot: dict[str, Any] | None = None
        self.snapshot_json: str | None = None  # `snapshot` as canonical JSON, encoded once
        self.load_error: dict[str, Any] | None = None
        self.load_exception: BaseException | None = None
        started = time.monotonic()
        self._load()
        self.load_seconds = time.monotonic() - started

    def _load(self) -> None:
        try:
            from orchestra._core.definitions_class.module_loading import load_definitions
            from orchestra._core.snapshot.location import snapshot_and_json_from_definitions

            self.defs = load_definitions(
                python_file=self.pointer.python_file,
                module_name=self.pointer.module_name,
                package_name=self.pointer.package_name,
                attribute=self.pointer.attribute,
                working_directory=self.pointer.working_directory,
            )
            self.repository = self.defs.get_repository_def()
            self.snapshot, self.snapshot_json = snapshot_and_json_from_definitions(self.defs, self.location_name)
        # The import runs arbitrary user code: anything it raises (SystemExit included) is a load error.
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.defs = self.repository = self.snapshot = self.snapshot_json = None
            self.load_exception = exc
            self.load_error = error_data(exc)

    @property
    def loaded(self) -> bool:
        return self.load_error is None

    def _repository(self) -> Any:
        if self.repository is None:
            raise NotLoaded(f"code location {self.location_name!r} failed to load; see its load error")
        return self.repository

    # --- schedules and sensors ------------------------------------------------------------------

    def evaluate_schedule(self, name: str, scheduled_time: dt.datetime | float | None,
                          timeout: float | None = None) -> dict[str, Any]:
        from orchestra._core.automation.evaluation import evaluate_schedule

        repository = self._repository()
        if not repository.has_schedule_def(name):
            raise NotFound(f"no schedule named {name!r} in code location {self.location_name!r}")
        schedule = repository.get_schedule_def(name)
        return self._with_timeout(
            f"schedule {name!r}",
            lambda: evaluate_schedule(
                schedule, scheduled_time, repository.get_top_level_resources(), repository_def=repository,
                repository_name=repository.name,
            ).to_json(),
            timeout,
            on_error=lambda error: {"run_requests": [], "skip_message": None, "error": error, "log_lines": []},
        )

    def evaluate_sensor(self, name: str, cursor: str | None, last_run_key: str | None,
                        last_tick_time: float | None, last_sensor_start_time: float | None = None,
                        timeout: float | None = None, run_status_runs: list[dict[str, Any]] | None = None,
                        asset_events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """`run_status_runs` (the runs that reached a run status sensor's status, found by the daemon)
        evaluates a run status sensor once per run instead of calling its evaluation function;
        `asset_events` (materializations the daemon read for an asset sensor) is what its
        `context.instance` answers from."""
        from orchestra._core.automation.evaluation import (
            HostEventLog,
            evaluate_run_status_sensor,
            evaluate_sensor,
        )

        repository = self._repository()
        if not repository.has_sensor_def(name):
            raise NotFound(f"no sensor named {name!r} in code location {self.location_name!r}")
        sensor = repository.get_sensor_def(name)
        if run_status_runs is not None and not hasattr(sensor, "evaluate_for_run"):
            raise BadRequest(f"sensor {name!r} is not a run status sensor; 'run_status_runs' is only for those")

        def evaluate() -> dict[str, Any]:
            if run_status_runs is not None:
                return evaluate_run_status_sensor(sensor, run_status_runs, cursor, repository.get_top_level_resources(),
                                                  repository_def=repository).to_json()
            return evaluate_sensor(
                sensor, cursor, last_run_key, last_tick_time, repository.get_top_level_resources(),
                repository_def=repository, repository_name=repository.name,
                last_sensor_start_time=last_sensor_start_time,
                instance=HostEventLog(asset_events) if asset_events is not None else None,
            ).to_json()

        return self._with_timeout(
            f"sensor {name!r}",
            evaluate,
            timeout,
            on_error=lambda error: {
                "run_requests": [], "skip_message": None, "cursor": cursor, "error": error,
                "dynamic_partitions_requests": [], "asset_events": [], "log_lines": [],
            },
        )

    # --- partitions -----------------------------------------------------------------------------

    def partitioned_job(self, name: str) -> tuple[Any, Any]:
        """The job and its PartitionedConfig, by job name or by Dagster's partition-set name
        (`<job>_partition_set`)."""
        repository = self._repository()
        job_name = name
        if not repository.has_job(job_name) and name.endswith("_partition_set"):
            job_name = name.removesuffix("_partition_set")
        if not repository.has_job(job_name):
            raise NotFound(f"no job or partition set named {name!r} in code location {self.location_name!r}")
        job = repository.get_job(job_name)
        partitioned = getattr(job, "partitioned_config", None)
        if partitioned is None:
            raise NotFound(f"job {job_name!r} in code location {self.location_name!r} is not partitioned")
        return job, partitioned

    def partition_keys(self, name: str, current_time: dt.datetime | None = None,
                       timeout: float | None = None) -> dict[str, Any]:
        """The partition keys of a partitioned job, its partition set, or a partitioned asset (by
        its key string `a/b`, for asset backfills)."""
        repository = self._repository()
        if not repository.has_job(name) and not name.endswith("_partition_set"):
            assets_def = next((a for k, a in repository.assets_defs_by_key.items() if k.to_user_string() == name), None)
            if assets_def is not None:
                partitions_def = getattr(assets_def, "partitions_def", None)
                if partitions_def is None:
                    raise NotFound(f"asset {name!r} in code location {self.location_name!r} is not partitioned")
                return self._with_timeout(
                    f"partition keys of asset {name!r}",
                    lambda: _catching(lambda: {"job_name": name,
                                               "partition_keys": list(partitions_def.get_partition_keys(current_time))}),
                    timeout,
                    on_error=lambda error: {"job_name": name, "error": error},
                )
        job, partitioned = self.partitioned_job(name)
        return self._with_timeout(
            f"partition keys of {job.name!r}",
            lambda: _catching(lambda: {"job_name": job.name,
                                       "partition_keys": list(partitioned.get_partition_keys(current_time))}),
            timeout,
            on_error=lambda error: {"job_name": job.name, "error": error},
        )

    def partition_details(self, name: str, keys: list[str], timeout: float | None = None) -> dict[str, Any]:
        """Run config and tags for each of `keys`; a key whose function raises carries an `error`."""
        job, partitioned = self.partitioned_job(name)

        def details() -> dict[str, Any]:
            answers = []
            for key in keys:
                answer: dict[str, Any] = {"partition_key": key}
                try:
                    answer["run_config"] = dict(partitioned.get_run_config_for_partition_key(key))
                    answer["tags"] = dict(partitioned.get_tags_for_partition_key(key, job_name=job.name))
                except Exception as exc:
                    answer["error"] = error_data(exc)
                answers.append(answer)
            return {"job_name": job.name, "partitions": answers}

        return self._with_timeout(
            f"partition config of {job.name!r}", details, timeout,
            on_error=lambda error: {"job_name": job.name, "error": error},
        )

    # --- the timeout ----------------------------------------------------------------------------

    def _with_timeout(self, what: str, fn: Callable[[], dict[str, Any]], timeout: float | None,
                      on_error: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Run `fn` in its own daemon thread; past the timeout answer with an error instead.

        Python cannot stop a thread, so a runaway evaluation keeps its thread until it returns; a
        fresh thread per call (not a pool) keeps one stuck sensor from starving the others.
        """
        limit = self.evaluation_timeout if timeout is None else timeout
        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 — user code; reported, never raised here
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=target, name=f"evaluate {what}", daemon=True).start()
        if not done.wait(limit if limit and limit > 0 else None):
            message = (f"Evaluation of {what} in code location {self.location_name!r} did not finish within "
                       f"{limit:g} seconds (the code server's evaluation timeout).")
            return on_error({"cls_name": EvaluationTimeout.__name__, "message": message, "stack": [], "cause": None})
        if "error" in box:
            return on_error(error_data(box["error"]))
        return box["value"]


def user_code_position(exc: BaseException) -> tuple[str, int] | None:
    """The file and line in user code where a load failed: a syntax error's own position, else the
    innermost frame of the root cause that lies outside Orchestra itself."""
    root = exc
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    if isinstance(root, SyntaxError) and root.filename:
        return root.filename, root.lineno or 0
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    position = None
    for frame in traceback.extract_tb(root.__traceback__):
        if not os.path.abspath(frame.filename).startswith(package + os.sep) and not frame.filename.startswith("<"):
            position = (frame.filename, frame.lineno or 0)
    return position


def _catching(fn: Callable[[], T]) -> T | dict[str, Any]:
    try:
        return fn()
    except Exception as exc:
        return {"error": error_data(exc)}


def _default_location_name(pointer: CodePointer) -> str:
    target = os.path.basename(pointer.python_file) if pointer.python_file else pointer.module_name or pointer.package_name
    return f"{target}:{pointer.attribute}" if pointer.attribute else str(target)


def parse_time(value: Any, field: str) -> dt.datetime | None:
    """A POSIX timestamp or an ISO 8601 time with an offset, as an aware datetime (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRequest(f"'{field}' must be a POSIX timestamp or an ISO 8601 time, got {value!r}")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            try:
                return dt.datetime.fromtimestamp(float(value), dt.UTC)
            except ValueError:
                raise BadRequest(f"'{field}' must be a POSIX timestamp or an ISO 8601 time, got {value!r}") from None
        if parsed.tzinfo is None:
            raise BadRequest(f"'{field}' must carry a UTC offset (got {value!r})")
        return parsed
    raise BadRequest(f"'{field}' must be a POSIX timestamp or an ISO 8601 time, got {value!r}")


def optional(body: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """`body[key]` when absent, null or of `kind` (booleans never pass for numbers); else BadRequest."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    value = body.get(key)
    if value is None or (isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)):
        return value
    raise BadRequest(f"'{key}' must be {' or '.join(k.__name__ for k in kinds)} or null, got {value!r}")
