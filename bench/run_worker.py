"""Time runs through the run worker: `orchestra api execute-run RUN_ID` as a real process.

Reports, over `--repeat` runs of an N-op chain (default 20):
- start -> RUN_START: from spawning the worker process to its RUN_START event (imports, Django set-up,
  claiming the run, loading the job);
- per step: (RUN_SUCCESS - RUN_START) / steps, every event written to storage included;
- wall: the whole process, exit included.

Bytecode is cached (in the temp directory) as a deployed worker would have it, whatever
`PYTHONDONTWRITEBYTECODE` says, and the first run writes the caches and is not counted;
`--no-bytecode-cache` compiles every module in every run instead.

Uses a fresh ORCHESTRA_HOME on SQLite unless `--home` names one (e.g. one on PostgreSQL). Run with
`/work/venv/bin/python bench/run_worker.py [--steps 200] [--executor in_process|multiprocess]
[--start-method spawn|forkserver]`.
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

    @dg.job
    def chain():
        value = start()
        for index in range({steps} - 1):
            value = inc.alias(f"inc_{{index}}")(value)

    defs = dg.Definitions(jobs=[chain])
    """
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--executor", choices=["in_process", "multiprocess"], default="in_process")
    parser.add_argument("--start-method", choices=["spawn", "forkserver"], default="spawn")
    parser.add_argument("--home", type=Path, default=None, help="an ORCHESTRA_HOME to use (default: a new SQLite one)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every module in every run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))
    home = args.home or work / "home"
    home.mkdir(parents=True, exist_ok=True)
    (work / "defs.py").write_text(DEFS.format(steps=args.steps))
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    orchestra = [sys.executable, "-c", "from orchestra._cli import main; main()"]
    subprocess.run([*orchestra, "instance", "migrate"], check=True, capture_output=True, cwd=REPO)
    worker_env = dict(os.environ)
    if not args.no_bytecode_cache:
        worker_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        worker_env.pop("PYTHONDONTWRITEBYTECODE", None)

    import django

    django.setup()
    from runs import selectors, services
    from runs.services import EventInput

    origin = {"python_file": str(work / "defs.py"), "attribute": "defs"}
    executor_config = {"start_method": {args.start_method: {}}} if args.executor == "multiprocess" else {}
    run_config = {"execution": {"config": {args.executor: executor_config}}}
    starts, per_step, walls, child_starts = [], [], [], []
    for attempt in range(args.repeat + (0 if args.no_bytecode_cache else 1)):
        run = services.run_create(job_name="chain", origin=origin, run_config=run_config)
        services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
        spawned = time.time()
        began = time.perf_counter()
        done = subprocess.run(
            [*orchestra, "api", "execute-run", run.run_id], capture_output=True, text=True, cwd=REPO, env=worker_env,
        )
        wall = time.perf_counter() - began
        if done.returncode != 0:
            failure = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE", "STEP_FAILURE"])
            sys.exit(f"run {run.run_id} exited {done.returncode}: {[(e.message, e.payload) for e in failure]}")
        if attempt == 0 and not args.no_bytecode_cache:
            continue  # this run wrote the bytecode caches
        walls.append(wall)
        rows = selectors.events_after(
            run_id=run.run_id, limit=10_000,
            event_types=["RUN_START", "RUN_SUCCESS", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED"],
        )
        events = {e.event_type: e for e in rows}
        launched = {e.step_key: e.timestamp.timestamp() for e in rows if e.event_type == "STEP_WORKER_STARTING"}
        child_starts.extend(
            e.timestamp.timestamp() - launched[e.step_key] for e in rows if e.event_type == "STEP_WORKER_STARTED"
        )
        run_start = events["RUN_START"].timestamp.timestamp()
        starts.append(run_start - spawned)
        per_step.append((events["RUN_SUCCESS"].timestamp.timestamp() - run_start) / args.steps)

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f})"

    method = f" ({args.start_method})" if args.executor == "multiprocess" else ""
    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cached"
    print(f"{args.steps}-op chain, {args.executor} executor{method}, {args.repeat} runs ({cache}), storage in {home}")
    print(f"  start -> RUN_START: {ms(starts)}")
    print(f"  per step:           {ms(per_step)}")
    print(f"  wall per run:       {ms(walls)}")
    if child_starts:
        print(f"  step process start: {ms(child_starts)} (launch -> STEP_WORKER_STARTED: spawn, imports, job load)")


if __name__ == "__main__":
    main()
