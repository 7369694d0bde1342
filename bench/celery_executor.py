"""Time the Celery executor: a 50-op chain through the run worker and a real `celery worker -Q steps`.

Reports, over `--repeat` runs (after one warm-up run that is not counted):
- per step: (RUN_SUCCESS - RUN_START) / steps, every event written to storage included;
- the parts of a step: submit -> STEP_WORKER_STARTED (broker delivery, task start), STEP_WORKER_STARTED ->
  STEP_SUCCESS (resources, the op, its events), STEP_SUCCESS -> the next submit (the run worker noticing
  the outcome in the event log).

A chain runs one step at a time, so the per-step figure is the executor's latency, not its throughput.
Uses a fresh ORCHESTRA_HOME: SQLite and the embedded broker by default; `--redis URL` uses Redis as the
broker (and result store), `--postgres URL` PostgreSQL as the storage. Run with
`/work/venv/bin/python bench/celery_executor.py [--steps 50] [--repeat 3] [--redis redis://127.0.0.1:6379/5]
[--postgres postgresql://postgres@127.0.0.1:5432/orch_h4_bench]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEFS = textwrap.dedent(
    """
    import orchestra as dg

    @dg.op
    def start() -> int:
        return 0

    @dg.op
    def inc(x: int) -> int:
        return x + 1

    @dg.job(executor_def=dg.celery_executor)
    def chain():
        value = start()
        for index in range({steps} - 1):
            value = inc.alias(f"inc_{{index}}")(value)

    defs = dg.Definitions(jobs=[chain])
    """
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis", default=None, help="a Redis URL for the broker (default: the embedded broker)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL for the storage (default: SQLite)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-celery-"))
    home = work / "home"
    home.mkdir()
    config = []
    if args.postgres:
        config.append(f"storage:\n  postgres:\n    postgres_url: {args.postgres}")
    if args.redis:
        config.append(f"broker:\n  url: {args.redis}")
    (home / "orchestra.yaml").write_text("\n".join(config) + "\n")
    (work / "defs.py").write_text(DEFS.format(steps=args.steps))
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(work / "pycache"))
    orchestra = [sys.executable, "-c", "from orchestra._cli import main; main()"]
    subprocess.run([*orchestra, "instance", "migrate"], check=True, capture_output=True, cwd=REPO)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", "steps", "-c", "1", "-l", "warning",
         "-n", f"bench-{os.getpid()}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        report(args, work, home, env, orchestra)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def report(args: argparse.Namespace, work: Path, home: Path, env: dict[str, str], orchestra: list[str]) -> None:
    import django

    django.setup()
    from runs import selectors, services
    from runs.services import EventInput

    origin = {"python_file": str(work / "defs.py"), "attribute": "defs"}
    per_step, delivery, in_task, noticed, walls = [], [], [], [], []
    for attempt in range(args.repeat + 1):
        run = services.run_create(job_name="chain", origin=origin, run_config={})
        services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
        began = time.perf_counter()
        done = subprocess.run([*orchestra, "api", "execute-run", run.run_id], capture_output=True, text=True,
                              cwd=REPO, env=env, timeout=3600)
        wall = time.perf_counter() - began
        if done.returncode != 0:
            failure = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE", "STEP_FAILURE"])
            sys.exit(f"run {run.run_id} exited {done.returncode}: {[(e.message, e.payload) for e in failure]}")
        if attempt == 0:
            continue  # warm-up: the worker process loads the job and opens its connections
        walls.append(wall)
        rows = selectors.events_after(run_id=run.run_id, limit=10_000, event_types=[
            "RUN_START", "RUN_SUCCESS", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "STEP_SUCCESS"])
        at = {(e.event_type, e.step_key): e.timestamp.timestamp() for e in rows}
        per_step.append((at[("RUN_SUCCESS", None)] - at[("RUN_START", None)]) / args.steps)
        order = [e.step_key for e in rows if e.event_type == "STEP_WORKER_STARTING"]
        for index, key in enumerate(order):
            delivery.append(at[("STEP_WORKER_STARTED", key)] - at[("STEP_WORKER_STARTING", key)])
            in_task.append(at[("STEP_SUCCESS", key)] - at[("STEP_WORKER_STARTED", key)])
            if index + 1 < len(order):
                noticed.append(at[("STEP_WORKER_STARTING", order[index + 1])] - at[("STEP_SUCCESS", key)])

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"

    broker = "Redis" if args.redis else "embedded broker"
    storage = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.steps}-op chain, celery executor, {broker}, {storage}, {args.repeat} runs (after a warm-up)")
    print(f"  per step:                       {ms(per_step)}")
    print(f"  submit -> task started:         {ms(delivery)}")
    print(f"  task started -> STEP_SUCCESS:   {ms(in_task)}")
    print(f"  STEP_SUCCESS -> next submit:    {ms(noticed)}")
    print(f"  wall per run:                   {ms(walls)}")


if __name__ == "__main__":
    main()
