"""The instance's `scheduler` entry: Dagster's DagsterDaemonScheduler accepted, its config checked at start-up."""

from __future__ import annotations

import dataclasses

import pytest

from core.checks import check_instance_components
from core.instance_config import ClassEntry
from scheduling.conf import max_catchup_runs, max_tick_retries


def configure(settings, module: str, class_: str, config: dict) -> None:
    entry = ClassEntry(module=module, class_=class_, config=config)
    settings.INSTANCE = dataclasses.replace(
        settings.INSTANCE, config=settings.INSTANCE.config.model_copy(update={"scheduler": entry}))


@pytest.mark.parametrize("module", ["dagster.core.scheduler", "dagster._core.scheduler"])
def test_dagsters_daemon_scheduler_entry_is_read_as_ours(settings, module):
    configure(settings, module, "DagsterDaemonScheduler", {"max_catchup_runs": 2, "max_tick_retries": 3})
    assert check_instance_components() == []
    assert (max_catchup_runs(), max_tick_retries()) == (2, 3)


def test_defaults_are_dagsters(settings):
    settings.INSTANCE = dataclasses.replace(
        settings.INSTANCE, config=settings.INSTANCE.config.model_copy(update={"scheduler": None}))
    assert (max_catchup_runs(), max_tick_retries()) == (5, 0)


def test_bad_scheduler_config_is_refused_at_start_up_naming_the_key(settings):
    configure(settings, "dagster.core.scheduler", "DagsterDaemonScheduler",
              {"max_catchup_runs": 0, "max_tick_retries": "x", "catchup": True})
    messages = [error.msg for error in check_instance_components()]
    assert messages == [
        "scheduler.config: unknown key 'catchup'; expected max_catchup_runs, max_tick_retries",
        "scheduler.config: max_catchup_runs must be an integer of at least 1, got 0",
        "scheduler.config: max_tick_retries must be an integer of at least 0, got 'x'",
    ]
