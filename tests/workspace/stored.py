"""A code location stored the way the workspace stores one: a real definitions file and its snapshot."""

from __future__ import annotations

import runpy
from pathlib import Path

from django.utils import timezone

from orchestra._core.snapshot.location import snapshot_from_definitions
from workspace.config import LocationEntry
from workspace.models import CodeLocation, LocationStatus

DEFS = '''
import orchestra as dg


@dg.op(config_schema={"n": int})
def emit(context):
    return context.op_config["n"]


@dg.op
def double(value):
    return 2 * value


@dg.job(description="Emit a number and double it.", tags={"team": "data"})
def etl():
    double(emit())


@dg.op
def hello():
    return 1


@dg.job
def plain():
    hello()


@dg.asset(group_name="warehouse")
def raw():
    return 1


@dg.asset(group_name="warehouse", description="Cleaned rows.")
def clean(raw):
    return raw


@dg.schedule(cron_schedule="0 * * * *", job=plain)
def hourly(context):
    return dg.RunRequest()


@dg.sensor(job=plain, minimum_interval_seconds=45)
def watcher(context):
    return None


defs = dg.Definitions(assets=[raw, clean], jobs=[etl, plain], schedules=[hourly], sensors=[watcher])
'''


def write_defs(directory: Path, source: str = DEFS, filename: str = "defs.py") -> Path:
    path = directory / filename
    path.write_text(source)
    return path


def store_location(directory: Path, name: str = "data", source: str = DEFS) -> CodeLocation:
    """Write `source` to a file in `directory` and store it as a LOADED location with its snapshot."""
    path = write_defs(directory, source, filename=f"{name}_defs.py")
    defs = runpy.run_path(str(path))["defs"]
    snapshot = snapshot_from_definitions(defs, name)
    entry = LocationEntry(name=name, kind="python_file", python_file=str(path), working_directory=str(directory))
    location, _ = CodeLocation.objects.update_or_create(name=name, defaults={
        "origin": entry.origin(), "status": LocationStatus.LOADED, "snapshot": snapshot,
        "snapshot_id": snapshot["snapshot_id"], "load_error": None, "updated_at": timezone.now(),
    })
    return location


def store_broken_location(name: str = "broken") -> CodeLocation:
    entry = LocationEntry(name=name, kind="python_file", python_file=f"/nowhere/{name}.py")
    return CodeLocation.objects.create(
        name=name, origin=entry.origin(), status=LocationStatus.ERROR, snapshot=None,
        load_error={"cls_name": "SyntaxError", "message": "invalid syntax (broken.py, line 3)",
                    "stack": ["  File broken.py, line 3\n"], "cause": None},
    )
