"""How fast what a run worker started dies with it (issue 12 invariant 1).

For each scenario, `--repeat` times: a one-op multiprocess run whose op starts `sleep 300` and then
sleeps; once the op has recorded its pids, the bench
- `sigkill`: SIGKILLs the run worker and times until every process below it (step process, its
  watchdog, the op's `sleep`, the fork server) is gone;
- `force`: force-terminates the run (`run_terminate(force=True)`: the default launcher signals the
  worker) and times until the worker has exited and every process below it is gone;
- `failed`: writes RUN_FAILURE as run monitoring does (nothing signals the worker: its heartbeat, every
  second here, reads the status) and times the same.

Uses a fresh ORCHESTRA_HOME on SQLite unless `--home` names one. Run with
`/work/venv/bin/python bench/worker_children.py [--repeat 5] [--start-method spawn|forkserver]`.
"""

from __future__ import annotations

import argparse
import os
import signal
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
    import os
    import subprocess
    import time
    import orchestra as dg

    @dg.op
    def spawner():
        sleeper = subprocess.Popen(["sleep", "300"])
        marks = os.environ["BENCH_MARKS"]
        with open(os.path.join(marks, "pids.tmp"), "w") as handle:
            handle.write(f"{os.getpid()} {sleeper.pid}")
        os.replace(os.path.join(marks, "pids.tmp"), os.path.join(marks, "pids"))
        time.sleep(60)

    @dg.job
    def spawning():
        spawner()

    defs = dg.Definitions(jobs=[spawning])
    """
)


def _alive(pid: int) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else (fields[0], int(fields[1]))


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _alive(int(name))) is not None:
            children.setdefault(stat[1], []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _wait(predicate, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit("a condition was not reached within 60 s")
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--start-method", choices=["spawn", "forkserver"], default="spawn")
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))
    home = args.home or work / "home"
    home.mkdir(parents=True, exist_ok=True)
    (work / "defs.py").write_text(DEFS)
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    orchestra = [sys.executable, "-c", "from orchestra._cli import main; main()"]
    subprocess.run([*orchestra, "instance", "migrate"], check=True, capture_output=True, cwd=REPO)

    import django

    django.setup()
    from runs import services
    from runs.services import EventInput

    origin = {"python_file": str(work / "defs.py"), "attribute": "defs"}
    run_config = {"execution": {"config": {"multiprocess": {"start_method": {args.start_method: {}}}}}}
    figures: dict[str, list[float]] = {"sigkill": [], "force": [], "failed": []}
    for scenario in figures:
        for _ in range(args.repeat):
            marks = Path(tempfile.mkdtemp(dir=work))
            env = {**os.environ, "BENCH_MARKS": str(marks), "ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS": "1"}
            run = services.run_create(job_name="spawning", origin=origin, run_config=run_config)
            services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
            worker = subprocess.Popen([*orchestra, "api", "execute-run", run.run_id], cwd=REPO, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait(lambda marks=marks: (marks / "pids").exists())
            below = _descendants(worker.pid)
            began = time.perf_counter()
            if scenario == "sigkill":
                worker.send_signal(signal.SIGKILL)
            elif scenario == "force":
                services.run_terminate(run_id=run.run_id, force=True)
            else:
                services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_FAILURE")])
            _wait(lambda worker=worker: worker.poll() is not None)
            _wait(lambda below=below: all(_alive(pid) is None for pid in below))
            figures[scenario].append(time.perf_counter() - began)
            if scenario == "sigkill":
                services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_FAILURE")])

    print(f"multiprocess ({args.start_method}), {args.repeat} runs each, storage in {home}")
    for scenario, values in figures.items():
        label = {"sigkill": "SIGKILL worker -> all below it gone",
                 "force": "force terminate -> worker exited, all below it gone",
                 "failed": "RUN_FAILURE elsewhere -> worker exited, all below it gone (heartbeat 1 s)"}[scenario]
        print(f"  {label}: median {statistics.median(values) * 1000:.1f} ms (max {max(values) * 1000:.1f})")


if __name__ == "__main__":
    main()
