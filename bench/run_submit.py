"""Time run submission: `runs.services.run_submit` and submit -> RUN_START with the default launcher.

Reports, for a 3-op job stored as a code location snapshot:
- submit (queued): validate against the stored snapshot + create the run + QueuedRunCoordinator
  (RUN_ENQUEUED and the daemon nudge sent to the broker), per call, over `--submits` calls;
- validate: the snapshot look-up and run-config validation alone (the schema is cached per process);
- submit (default): the same with DefaultRunCoordinator, which also writes RUN_STARTING and starts
  the run worker process (SubprocessRunLauncher) before returning;
- submit -> RUN_START and submit -> RUN_SUCCESS for those runs, one at a time on an idle machine.

Uses a fresh ORCHESTRA_HOME on SQLite with the embedded broker unless `--home` names one (e.g. one
on PostgreSQL and Redis). Run with `python bench/run_submit.py [--submits 300] [--runs 10]`.
"""

from __future__ import annotations

import argparse
import dataclasses
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

    @dg.op(config_schema={"start": dg.Field(int, default_value=0)})
    def first(context) -> int:
        return context.op_config["start"]

    @dg.op
    def second(x: int) -> int:
        return x + 1

    @dg.op
    def third(x: int) -> int:
        return x * 2

    @dg.job(tags={"team": "bench"})
    def three_ops():
        third(second(first()))

    defs = dg.Definitions(jobs=[three_ops])
    """
)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=300, help="queued submissions to time")
    parser.add_argument("--runs", type=int, default=10, help="runs to take through the default launcher")
    parser.add_argument("--home", type=Path, default=None, help="an ORCHESTRA_HOME to use (default: a new SQLite one)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-submit-"))
    home = args.home or work / "home"
    home.mkdir(parents=True, exist_ok=True)
    code = work / "code"
    code.mkdir()
    (code / "defs.py").write_text(DEFS)
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    # Run workers find their bytecode cached, as a deployed worker would.
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    orchestra = [sys.executable, "-c", "from orchestra._cli import main; main()"]
    subprocess.run([*orchestra, "instance", "migrate"], check=True, capture_output=True, cwd=REPO)

    import django

    django.setup()
    from django.conf import settings

    from core.instance_config import RunQueueConfig
    from orchestra._core.definitions_class.module_loading import load_definitions
    from orchestra._core.snapshot.location import snapshot_from_definitions
    from runs import submission
    from runs.models import FINISHED_STATUSES, EventLogEntry, Run
    from runs.services import run_submit
    from workspace.models import CodeLocation, LocationStatus

    snapshot = snapshot_from_definitions(load_definitions(python_file=str(code / "defs.py")), "bench")
    CodeLocation.objects.update_or_create(name="bench", defaults={
        "origin": {"name": "bench", "kind": "python_file", "python_file": str(code / "defs.py"),
                   "working_directory": str(code)},
        "status": LocationStatus.LOADED, "snapshot": snapshot, "snapshot_id": snapshot["snapshot_id"],
    })
    run_config = {"ops": {"first": {"config": {"start": 3}}}, "execution": {"config": {"in_process": {}}}}
    base = settings.INSTANCE

    # -- queued: validation + creation + coordinator, no process started
    settings.INSTANCE = dataclasses.replace(base, config=base.config.model_copy(update={"run_queue": RunQueueConfig()}))
    run_submit(job_name="three_ops", location_name="bench", run_config=run_config)  # warm the schema cache
    queued = []
    for _ in range(args.submits):
        began = time.perf_counter()
        run_submit(job_name="three_ops", location_name="bench", run_config=run_config, tags={"k": "v"})
        queued.append(time.perf_counter() - began)
    validate = []
    for _ in range(args.submits):
        began = time.perf_counter()
        target = submission.resolve_target(job_name="three_ops", location_name="bench", repository_name=None)
        submission.validate_run_config(target.job, run_config)
        validate.append(time.perf_counter() - began)

    # -- default: launched at once through the subprocess launcher, one run at a time
    settings.INSTANCE = base
    submit_default, to_start, to_success = [], [], []
    for attempt in range(args.runs + 1):
        submitted = time.time()
        began = time.perf_counter()
        run = run_submit(job_name="three_ops", location_name="bench", run_config=run_config)
        elapsed = time.perf_counter() - began
        deadline = time.monotonic() + 120
        while not Run.objects.filter(pk=run.pk, status__in=list(FINISHED_STATUSES)).exists():
            if time.monotonic() > deadline:
                sys.exit(f"run {run.run_id} did not finish")
            time.sleep(0.01)
        done = Run.objects.get(pk=run.pk)
        if done.status != "SUCCESS":
            sys.exit(f"run {run.run_id} ended {done.status}")
        if attempt == 0:
            continue  # this run wrote the bytecode caches
        start = EventLogEntry.objects.get(run_id=run.run_id, event_type="RUN_START").timestamp.timestamp()
        submit_default.append(elapsed)
        to_start.append(start - submitted)
        to_success.append(done.ended_at.timestamp() - submitted)

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"run_submit on {db}, broker {settings.CELERY_BROKER_URL.split(':')[0]}, 3-op job")
    print(f"  validate (cached schema)     {_ms(validate)}")
    print(f"  submit, queued coordinator   {_ms(queued)}")
    print(f"  submit, default coordinator  {_ms(submit_default)}   (includes starting the worker process)")
    print(f"  submit -> RUN_START          {_ms(to_start)}")
    print(f"  submit -> RUN_SUCCESS        {_ms(to_success)}")


if __name__ == "__main__":
    main()
