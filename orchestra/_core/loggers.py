"""Custom run loggers: `@logger`, `LoggerDefinition`, `InitLoggerContext`, and the writer that hands
a run's log lines to the python loggers they build.

A job's `logger_defs` replace the console logger for a run when run config names them under
`loggers:` (as in Dagster); with none named the console writer is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from orchestra._core.events import EventLogEntry


class InitLoggerContext:
    """What a logger function receives: its processed config and the job and run it logs for."""

    def __init__(self, logger_config: Any, logger_def: LoggerDefinition | None = None, job_def: Any = None,
                 run_id: str | None = None):
        self._logger_config = logger_config
        self._logger_def = logger_def
        self._job_def = job_def
        self._run_id = run_id

    @property
    def logger_config(self) -> Any:
        return self._logger_config

    @property
    def logger_def(self) -> LoggerDefinition | None:
        return self._logger_def

    @property
    def job_def(self) -> Any:
        return self._job_def

    @property
    def run_id(self) -> str | None:
        return self._run_id


class LoggerDefinition:
    """A logger a job can use: `logger_fn(InitLoggerContext) -> logging.Logger`, with a config schema.

    Example:
        ```python
        @dg.logger(config_schema={"name": str})
        def my_logger(init_context):
            return logging.getLogger(init_context.logger_config["name"])

        @dg.job(logger_defs={"mine": my_logger})
        def my_job(): ...
        ```
    """

    def __init__(self, logger_fn: Callable[[InitLoggerContext], logging.Logger], config_schema: Any = None,
                 description: str | None = None):
        self._logger_fn = logger_fn
        self._config_schema = config_schema
        self._description = description
        self._config_field: Any = None

    @property
    def logger_fn(self) -> Callable[[InitLoggerContext], logging.Logger]:
        return self._logger_fn

    @property
    def config_schema(self) -> Any:
        return self._config_schema

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def config_field(self) -> Any:
        if self._config_field is None:
            from orchestra._core.resources.config_bridge import config_field_for

            self._config_field = config_field_for(self._config_schema)
        return self._config_field

    def __call__(self, *args: Any, **kwargs: Any) -> logging.Logger:
        context = args[0] if args else kwargs.get("context", kwargs.get("init_context"))
        if context is None:
            context = build_init_logger_context()
        return self._logger_fn(context)


def logger(config_schema: Any = None, description: str | None = None) -> Any:
    """Define a logger from a function taking an `InitLoggerContext` (usable bare, as `@logger`)."""
    if callable(config_schema) and not isinstance(config_schema, type) and description is None:
        return LoggerDefinition(config_schema)

    def decorate(fn: Callable[[InitLoggerContext], logging.Logger]) -> LoggerDefinition:
        return LoggerDefinition(fn, config_schema=config_schema, description=description or fn.__doc__)

    return decorate


def build_init_logger_context(logger_config: Any = None, job_def: Any = None) -> InitLoggerContext:
    """An `InitLoggerContext` for calling a logger definition directly in tests."""
    return InitLoggerContext(logger_config, job_def=job_def)


class PythonLoggersWriter:
    """Stands in for the console writer: hands every run log line to the run's python loggers."""

    level = logging.NOTSET

    def __init__(self, loggers: list[logging.Logger]):
        self.loggers = loggers

    def write(self, entry: EventLogEntry, pid: int | None) -> None:
        level = entry.level if isinstance(entry.level, int) else logging.getLevelName(str(entry.level).upper())
        if not isinstance(level, int):
            level = logging.INFO
        event = entry.dagster_event
        parts = [entry.job_name or "system", entry.run_id]
        if event is not None:
            parts.append(str(pid) if pid else None)
        parts.append(entry.step_key)
        if event is not None:
            parts.append(event.event_type.name)
        parts.append(entry.user_message)
        message = " - ".join(part for part in parts if part)
        for python_logger in self.loggers:
            python_logger.log(level, message)


def run_loggers_writer(job_def: Any, processed_loggers: dict[str, Any], run_id: str) -> PythonLoggersWriter | None:
    """The writer for the job's custom loggers named in run config, or None to use the console."""
    logger_defs = getattr(job_def, "logger_defs", None) or {}
    built = [
        logger_def.logger_fn(InitLoggerContext((processed_loggers[key] or {}).get("config"), logger_def, job_def, run_id))
        for key, logger_def in logger_defs.items()
        if key in processed_loggers and isinstance(logger_def, LoggerDefinition)
    ]
    return PythonLoggersWriter(built) if built else None
