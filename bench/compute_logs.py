"""The cost of compute log capture: one capture by itself, and runs through the run worker with capture on and off.

1. capture: `LocalComputeLogManager.capture_logs` entered and left `--captures` times in this process
   (fds 1 and 2 redirected to files, the echo thread started and stopped, the `.complete` marker
   written), with one line printed inside; against `NoOpComputeLogManager`. This is what each step
   process pays under the multiprocess (and Celery) executor; the in-process executor pays it once
   per run.
2. runs: `bench/run_worker.py` for the in-process and multiprocess executors, once on an instance
   whose orchestra.yaml turns capture off (`NoOpComputeLogManager`) and once with the default
   (`LocalComputeLogManager` in `$ORCHESTRA_HOME/storage`); compare "per step".

Run with `/work/venv/bin/python bench/compute_logs.py [--steps 20] [--repeat 5] [--captures 500]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NOOP = "compute_logs:\n  module: orchestra._core.compute_logs\n  class: NoOpComputeLogManager\n"


def bench_capture(count: int) -> None:
    from orchestra._core.compute_logs import LocalComputeLogManager, NoOpComputeLogManager

    base = tempfile.mkdtemp(prefix="orchestra-bench-logs-")
    results = {}
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1)  # the echo goes somewhere cheap, as to a worker's log file
    os.dup2(devnull, 2)
    try:
        for name, manager in (("off (NoOp)", NoOpComputeLogManager()), ("on (Local)", LocalComputeLogManager(base))):
            began = time.perf_counter()
            for index in range(count):
                with manager.capture_logs(manager.build_log_key_for_run("bench", f"k{index}")):
                    print("a line of step output")
            results[name] = (time.perf_counter() - began) / count
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    print(f"capture enter+exit, {count} times, one printed line inside:")
    for name, seconds in results.items():
        print(f"  {name}: {seconds * 1e6:.0f} us per capture")


def bench_runs(steps: int, repeat: int) -> None:
    for executor in ("in_process", "multiprocess"):
        for label, config in (("capture off", NOOP), ("capture on ", "")):
            home = Path(tempfile.mkdtemp(prefix="orchestra-bench-home-"))
            (home / "orchestra.yaml").write_text(config)
            done = subprocess.run(
                [sys.executable, str(REPO / "bench" / "run_worker.py"), "--steps", str(steps), "--repeat", str(repeat),
                 "--executor", executor, "--home", str(home)],
                capture_output=True, text=True, cwd=REPO,
            )
            if done.returncode != 0:
                sys.exit(done.stderr or done.stdout)
            lines = {line.split(":")[0].strip(): line.split(":", 1)[1].strip() for line in done.stdout.splitlines()[1:]}
            print(f"{executor:12} {label}: per step {lines['per step']}; wall per run {lines['wall per run']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--captures", type=int, default=500)
    parser.add_argument("--skip-runs", action="store_true")
    args = parser.parse_args()
    bench_capture(args.captures)
    if not args.skip_runs:
        bench_runs(args.steps, args.repeat)


if __name__ == "__main__":
    main()
