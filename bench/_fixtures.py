"""What several benchmarks share: free ports, stopping a server's process group, and filling a database
with finished runs the way the UI and API benchmarks need them (Django set up by the caller)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group of `proc` (started with start_new_session), SIGKILL it after `grace` s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def fill_runs(count: int, *, job_name: str = "three_ops", location_name: str = "bench", ago_seconds: int = 0,
              seed: int = 3) -> None:
    """`count` finished runs (SUCCESS or FAILURE), 10 s apart, the newest `ago_seconds` old, each with three
    tags (code location, one of five teams, from_ui), written in batches of 1,000."""
    import datetime
    import random
    import uuid

    from django.db import transaction

    from runs.models import Run, RunStatus, RunTag

    now = datetime.datetime.now(datetime.UTC)
    rng = random.Random(seed)
    with transaction.atomic():
        for start in range(0, count, 1000):
            batch = []
            for i in range(start, min(count, start + 1000)):
                begin = now - datetime.timedelta(seconds=(count - i) * 10 + ago_seconds)
                batch.append(Run(run_id=str(uuid.uuid4()), job_name=job_name, location_name=location_name,
                                 status=rng.choice([RunStatus.SUCCESS, RunStatus.FAILURE]), created_at=begin,
                                 updated_at=begin, started_at=begin, ended_at=begin + datetime.timedelta(seconds=3)))
            Run.objects.bulk_create(batch)
            tags = []
            for run in Run.objects.filter(run_id__in=[r.run_id for r in batch]):
                tags += [RunTag(run=run, key="dagster/code_location", value=location_name),
                         RunTag(run=run, key="team", value=f"team-{rng.randrange(5)}"),
                         RunTag(run=run, key="dagster/from_ui", value="true")]
            RunTag.objects.bulk_create(tags)
