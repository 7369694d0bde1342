"""Run coordinators and the run launcher interface, resolved from orchestra.yaml by dotted path.

A coordinator decides when a submitted run is launched (DefaultRunCoordinator: now;
QueuedRunCoordinator: when the daemon's dequeue picks it, `runs/queue.py`). A launcher starts the
run worker (`orchestra api execute-run RUN_ID`) somewhere and can stop it. Implementations of the
launcher live in the `launchers` app; this module only knows them by dotted path (layering).
Method names follow Dagster's `RunCoordinator` / `RunLauncher`.
"""

from __future__ import annotations

import abc
import enum
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from core.components import DEFAULT_RUN_COORDINATOR, DEFAULT_RUN_LAUNCHER, QUEUED_RUN_COORDINATOR, entry_path
from runs.models import Run


@dataclass(frozen=True)
class SubmitRunContext:
    """What a coordinator is given for one submitted run (an object, so it can grow)."""

    run: Run
    actor: Any = None


@dataclass(frozen=True)
class LaunchRunContext:
    """What a launcher is given to start one run's worker. The run is already STARTING."""

    run: Run
    actor: Any = None


class WorkerStatus(enum.Enum):
    """Dagster's `WorkerStatus`: what a launcher can tell about a run's worker."""

    RUNNING = "RUNNING"
    NOT_FOUND = "NOT_FOUND"
    FAILED = "FAILED"
    SUCCESS = "SUCCESS"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class CheckRunHealthResult:
    """Dagster's result of `check_run_worker_health`; `transient` marks a status worth asking again."""

    status: WorkerStatus
    msg: str = ""
    transient: bool = False
    run_worker_id: str | None = None

    def __str__(self) -> str:
        return f"{self.status.value}: {self.msg}" if self.msg else self.status.value


class RunCoordinator(abc.ABC):
    """Decides when a submitted run is launched. Built once per process with the entry's `config`."""

    def __init__(self, config: dict[str, Any] | None = None):
        self.config = dict(config or {})

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[str]:
        """Problems with `config`, one per line (the start-up system check reports them)."""
        return []

    @abc.abstractmethod
    def submit_run(self, context: SubmitRunContext) -> None:
        """Take a just-created NOT_STARTED run. Called inside the transaction that created it: work
        outside the database (starting processes, sending messages) belongs in `on_commit`."""


class DefaultRunCoordinator(RunCoordinator):
    """Launches every run as soon as it is submitted (Dagster's DefaultRunCoordinator; no daemon needed)."""

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[str]:
        return [f"unexpected key {key!r}: the default run coordinator takes no config" for key in config]

    def submit_run(self, context: SubmitRunContext) -> None:
        from django.db import transaction

        from runs.services import run_launch

        run_id = context.run.run_id
        transaction.on_commit(lambda: run_launch(run_id=run_id, actor=context.actor))


class QueuedRunCoordinator(RunCoordinator):
    """Enqueues runs (QUEUED + RUN_ENQUEUED); the daemon's dequeue launches them within the limits of
    `max_concurrent_runs`, `tag_concurrency_limits` and priority (Dagster's QueuedRunCoordinator).

    Its config is Dagster's (`run_coordinator.config`, or the `run_queue` shorthand); the effective
    settings, with `concurrency.runs` overrides, are `runs.queue.run_queue_config()`.
    """

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[str]:
        from pydantic import ValidationError

        from core.config_errors import describe_validation_error
        from core.instance_config import RunQueueConfig

        try:
            RunQueueConfig.model_validate(config)
        except ValidationError as exc:
            return describe_validation_error(exc, RunQueueConfig)
        return []

    @property
    def queue_config(self) -> Any:
        """The effective `RunQueueConfig` (with `concurrency.runs` overrides) the dequeue applies."""
        from runs.queue import run_queue_config

        return run_queue_config()

    def submit_run(self, context: SubmitRunContext) -> None:
        from runs.queue import run_queue_nudge
        from runs.services import run_enqueue

        run_enqueue(run_id=context.run.run_id, actor=context.actor)
        run_queue_nudge()


class RunLauncher(abc.ABC):
    """Starts a run's worker and stops it. Built once per process with the entry's `config`."""

    def __init__(self, config: dict[str, Any] | None = None):
        self.config = dict(config or {})

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[str]:
        """Problems with `config`, one per line (the start-up system check reports them)."""
        return []

    @abc.abstractmethod
    def launch_run(self, context: LaunchRunContext) -> None:
        """Start the run worker for `context.run` (STARTING) and return without waiting for it.

        Raise if it cannot be started: `run_launch` then fails the run with the error.
        """

    @abc.abstractmethod
    def terminate(self, run_id: str) -> bool:
        """Ask the run's worker to stop (the run is CANCELING already); True if a stop was sent.

        False is not an error: a worker this launcher cannot reach stops through its heartbeat.
        """

    @property
    def supports_check_run_worker_health(self) -> bool:
        return False

    def check_run_worker_health(self, run: Run) -> CheckRunHealthResult:
        """Whether the run's worker is alive, for run monitoring."""
        return CheckRunHealthResult(WorkerStatus.UNKNOWN, f"{type(self).__name__} cannot check run workers")

    @property
    def supports_resume_run(self) -> bool:
        return False

    def dispose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what the launcher holds (processes are not stopped)."""


_components: dict[str, Any] = {}
_components_lock = threading.Lock()


def _build(key: str, default_path: str, base: type) -> Any:
    config = settings.INSTANCE.config
    entry = getattr(config, key)
    if key == "run_coordinator" and config.run_queue is not None:
        path, component_config = QUEUED_RUN_COORDINATOR, config.run_queue.model_dump()
    elif entry is not None:
        path, component_config = entry_path(key, entry), dict(entry.config)
    else:
        path, component_config = default_path, {}
    cache_key = f"{key}:{path}:{sorted(component_config.items())!r}:{id(settings.INSTANCE)}"
    with _components_lock:
        component = _components.get(cache_key)
        if component is None:
            try:
                cls = import_string(path)
            except ImportError as exc:
                raise ImproperlyConfigured(f"{key}: cannot load {path!r}: {exc}") from exc
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise ImproperlyConfigured(f"{key}: {path!r} is not a {base.__name__} subclass")
            problems = cls.config_errors(component_config)
            if problems:
                raise ImproperlyConfigured(f"{key}.config is invalid: " + "; ".join(problems))
            component = _components[cache_key] = cls(component_config)
    return component


def instance_run_coordinator() -> RunCoordinator:
    """The instance's run coordinator (orchestra.yaml `run_coordinator` / `run_queue`), one per process."""
    return _build("run_coordinator", DEFAULT_RUN_COORDINATOR, RunCoordinator)


def instance_run_launcher() -> RunLauncher:
    """The instance's run launcher (orchestra.yaml `run_launcher`, SubprocessRunLauncher by default)."""
    return _build("run_launcher", DEFAULT_RUN_LAUNCHER, RunLauncher)
