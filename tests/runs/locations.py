"""Test helpers: store a real code location's snapshot and run submitted runs through real workers."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from core.instance_config import ClassEntry, RunQueueConfig
from runs.models import FINISHED_STATUSES, Run
from workspace.models import CodeLocation, LocationStatus

DEFS = Path(__file__).with_name("launch_defs.py")


def store_location(tmp_path: Path, name: str = "launch_defs", **origin: Any) -> CodeLocation:
    """Copy the test definitions to `tmp_path/code`, snapshot them as a code server does and store
    the snapshot as a LOADED location (its origin names the copy, so run workers load it)."""
    from orchestra._core.definitions_class.module_loading import load_definitions
    from orchestra._core.snapshot.location import snapshot_from_definitions

    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    path = code / "launch_defs.py"
    shutil.copy(DEFS, path)
    snapshot = snapshot_from_definitions(load_definitions(python_file=str(path)), name)
    origin = {"name": name, "kind": "python_file", "python_file": str(path), "working_directory": str(code),
              **origin}
    location, _ = CodeLocation.objects.update_or_create(name=name, defaults={
        "origin": origin, "status": LocationStatus.LOADED, "snapshot": snapshot,
        "snapshot_id": snapshot["snapshot_id"], "load_error": None,
    })
    return location


def use_instance(settings_fixture: Any, **changes: Any) -> None:
    """Give the test a variant of the instance configuration (coordinator, launcher, queue)."""
    instance = settings_fixture.INSTANCE
    settings_fixture.INSTANCE = dataclasses.replace(instance, config=instance.config.model_copy(update=changes))


def queued(settings_fixture: Any) -> None:
    use_instance(settings_fixture, run_queue=RunQueueConfig())


def launcher(settings_fixture: Any, module: str, class_name: str, config: dict | None = None) -> None:
    use_instance(settings_fixture, run_launcher=ClassEntry(module=module, **{"class": class_name}, config=config or {}))


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout} s")


def wait_finished(run_id: str, timeout: float = 60.0) -> Run:
    return wait_for(lambda: Run.objects.filter(run_id=run_id, status__in=list(FINISHED_STATUSES)).first(),
                    timeout, f"run {run_id} finished")


def wait_worker_exited(run_id: str, timeout: float = 60.0) -> Run:
    """Wait for the run worker's last event ("Process for run exited"), written after the terminal one."""
    from runs.models import EventLogEntry

    wait_for(lambda: EventLogEntry.objects.filter(run_id=run_id, event_type="ENGINE_EVENT",
                                                  message__startswith="Process for run exited").exists(),
             timeout, f"the run worker of {run_id} exited")
    return wait_finished(run_id, timeout)


def join_reapers(timeout: float = 60.0) -> None:
    """Wait for the launcher's reaper threads, so none touches the database after its test."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("run-worker-reaper-"):
            thread.join(max(0.0, deadline - time.monotonic()))


def instance_home() -> Path:
    return Path(settings.ORCHESTRA_HOME)
