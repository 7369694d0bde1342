"""Fixtures: a small definitions file and real code server processes started on it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workspace.client import CodeServerClient

DEFS = '''
import time

import orchestra as dg


@dg.op
def hello():
    return 1


@dg.job
def my_job():
    hello()


@dg.static_partitioned_config(partition_keys=["east", "west"], tags_for_partition_key_fn=lambda k: {"region": k})
def region_config(partition_key):
    if partition_key == "west":
        raise RuntimeError("no config for the west")
    return {}


@dg.job(config=region_config)
def regional_job():
    hello()


@dg.schedule(cron_schedule="0 * * * *", job=my_job)
def hourly(context):
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat(), tags={"team": "data"})


@dg.schedule(cron_schedule="0 0 * * *", job=my_job)
def failing_schedule(context):
    raise ValueError("the schedule broke")


@dg.sensor(job=my_job)
def counting_sensor(context):
    count = int(context.cursor or 0) + 1
    context.update_cursor(str(count))
    return dg.RunRequest(run_key=f"run-{count}")


@dg.sensor(job=my_job)
def slow_sensor(context):
    time.sleep(30)


defs = dg.Definitions(jobs=[my_job, regional_job], schedules=[hourly, failing_schedule],
                      sensors=[counting_sensor, slow_sensor])
'''


@pytest.fixture
def defs_file(tmp_path: Path) -> Path:
    path = tmp_path / "defs.py"
    path.write_text(DEFS)
    return path


class RunningServer:
    def __init__(self, process: subprocess.Popen, info: dict, log: Path):
        self.process = process
        self.info = info
        self.log = log
        self.client = CodeServerClient(info["host"], info["port"], timeout=30)


def start_code_server(tmp_path: Path, *args: str, timeout: float = 30) -> RunningServer:
    ready = tmp_path / f"ready-{time.monotonic_ns()}.json"
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestra", "code-server", "start", *args, "--port", "0", "--ready-file", str(ready),
         "--exit-with-parent"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"code server did not start:\n{log.read_text()}")
        time.sleep(0.02)
    return RunningServer(process, json.loads(ready.read_text()), log)


@pytest.fixture
def code_server(tmp_path, defs_file):
    """A code server on `defs.py` with a 2-second evaluation timeout."""
    server = start_code_server(tmp_path, "-f", str(defs_file), "--evaluation-timeout", "2")
    yield server
    server.process.terminate()
    server.process.wait(10)
