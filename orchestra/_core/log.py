"""Run logging: `DagsterLogManager` (what `context.log` is), the console writer, `get_dagster_logger`.

Every message logged in a run becomes an `EventLogEntry` handed to the run's sink; lines also go to
the console (stderr) at or above the console level. Python loggers under `dagster` (what
`get_dagster_logger()` returns) are captured into the current step's log while a run executes.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from orchestra._core.events import EventLogEntry

LEVELS = {"CRITICAL": 50, "ERROR": 40, "WARNING": 30, "WARN": 30, "INFO": 20, "DEBUG": 10, "NOTSET": 0}

_WITH_ERROR = frozenset({"STEP_FAILURE", "PIPELINE_FAILURE", "RESOURCE_INIT_FAILURE", "STEP_UP_FOR_RETRY"})
_last_second = -1
_last_stamp = ""


def _stamp(ts: float) -> str:
    global _last_second, _last_stamp
    second = int(ts)
    if second != _last_second:
        _last_second = second
        _last_stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(second))
    return _last_stamp


class ConsoleWriter:
    """Writes run log lines to stderr in Dagster's console format."""

    __slots__ = ("level", "name", "stream")

    def __init__(self, level: int = logging.DEBUG, name: str = "dagster", stream: Any = None):
        self.level = level
        self.name = name
        self.stream = stream

    def write(self, entry: EventLogEntry, pid: int | None) -> None:
        level = entry.level if isinstance(entry.level, int) else LEVELS.get(str(entry.level).upper(), 20)
        parts = [_stamp(entry.timestamp), self.name, logging.getLevelName(level), entry.job_name or "", entry.run_id]
        event = entry.dagster_event
        if event is not None:
            parts.append(str(pid))
            if entry.step_key:
                parts.append(entry.step_key)
            parts.append(event.event_type.name)  # Dagster prints RUN_START, not the stored PIPELINE_START
        elif entry.step_key:
            parts.append(entry.step_key)
        text = entry.user_message
        if event is not None and event.event_type_value in _WITH_ERROR:
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                text += "\n\n" + error.to_string()
        parts.append(text)
        stream = self.stream or sys.stderr
        try:
            stream.write(" - ".join(parts) + "\n")
        except ValueError:  # a closed stream (pytest capture teardown) must not fail the run
            pass


class DagsterLogManager:
    """The logger ops see as `context.log`: levelled methods whose messages land in the run's event log.

    Example:
        >>> @op
        ... def hello(context):
        ...     context.log.info("Hello, %s", "world")
    """

    __slots__ = ("run_id", "job_name", "step_key", "_sink", "_console", "_pid", "_tags")

    def __init__(self, run_id: str, job_name: str | None, step_key: str | None, sink: Callable[[EventLogEntry], None] | None,
                 console: ConsoleWriter | None = None, pid: int | None = None, tags: dict[str, str] | None = None):
        self.run_id = run_id
        self.job_name = job_name
        self.step_key = step_key
        self._sink = sink
        self._console = console
        self._pid = pid
        self._tags = tags or {}

    @property
    def logging_metadata(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "job_name": self.job_name, "step_key": self.step_key, **self._tags}

    def for_step(self, step_key: str | None) -> DagsterLogManager:
        return DagsterLogManager(self.run_id, self.job_name, step_key, self._sink, self._console, self._pid, self._tags)

    def with_tags(self, **tags: str) -> DagsterLogManager:
        return DagsterLogManager(self.run_id, self.job_name, self.step_key, self._sink, self._console, self._pid, {**self._tags, **tags})

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging.Logger's name
        return True

    def log(self, level: int | str, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(level, str):
            level = LEVELS.get(level.upper(), logging.INFO)
        text = str(msg)
        if args:
            try:
                text = text % args
            except (TypeError, ValueError):
                text = " ".join([text, *map(str, args)])
        exc_info = kwargs.get("exc_info")
        if exc_info:
            import traceback

            if exc_info is True:
                exc_info = sys.exc_info()
            if isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            if exc_info and exc_info[0] is not None:
                text += "\n" + "".join(traceback.format_exception(*exc_info)).rstrip()
        self.emit(EventLogEntry(None, level, text, self.run_id, time.time(), self.step_key, self.job_name))

    def emit(self, entry: EventLogEntry) -> None:
        if self._sink is not None:
            self._sink(entry)
        console = self._console
        if console is not None and (entry.level if isinstance(entry.level, int) else 20) >= console.level:
            console.write(entry, self._pid)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(logging.INFO, msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(logging.WARNING, msg, *args, **kwargs)

    warn = warning

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, **kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(logging.CRITICAL, msg, *args, **kwargs)

    fatal = critical

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self.log(logging.ERROR, msg, *args, **kwargs)


# --- capturing python loggers -------------------------------------------------------------------

class _StepLogs(threading.local):
    def __init__(self) -> None:
        self.stack: list[DagsterLogManager] = []


_step_logs = _StepLogs()


class _CaptureHandler(logging.Handler):
    """Forwards records from the `dagster` python logger tree to the step that is running."""

    def emit(self, record: logging.LogRecord) -> None:
        current = _step_logs.stack
        if not current:
            return
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        manager = current[-1]
        if record.exc_info:
            import traceback

            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        manager.emit(EventLogEntry(None, record.levelno, message, manager.run_id, record.created, manager.step_key, manager.job_name))


_handler = _CaptureHandler()


def base_python_logger() -> logging.Logger:
    logger = logging.getLogger("dagster")
    if _handler not in logger.handlers:
        logger.addHandler(_handler)
        logger.setLevel(logging.DEBUG)
    return logger


def push_step_log(manager: DagsterLogManager) -> None:
    _step_logs.stack.append(manager)


def pop_step_log() -> None:
    if _step_logs.stack:
        _step_logs.stack.pop()


def get_dagster_logger(name: str | None = None) -> logging.Logger:
    """A python logger whose messages, when emitted inside an op, land in the run's event log.

    Example:
        >>> @op
        ... def count():
        ...     get_dagster_logger().info("counted")
    """
    builtin = base_python_logger().getChild("builtin")
    return builtin.getChild(name) if name else builtin
