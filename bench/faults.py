"""Fault figures (issue #12): the real-process scenarios of `tests/faults/`, repeated, and what they measured.

    /work/venv/bin/python bench/faults.py [--repeats 5] [-k EXPR] [--postgres URL --redis URL] [--full]

Runs the fault scenarios that kill a process (`tests/faults/`, hostile input left out) N times through
pytest, each pass on a fresh test database, with ORCHESTRA_FAULTS_FIGURES pointing the tests at a file
where each scenario appends what it saw (`tests/faults/processes.record_figure`). Prints, over all
passes: runs checked, runs lost, runs duplicated (both must be 0), failed scenario runs, and the
median / max of
- time from a killed run worker to its run's terminal status (the worker's last event to RUN_FAILURE),
- time from a killed code server to a successful launch (the kill to the first run's SUCCESS) and to
  its location being LOADED again,
- time for a restarted daemon to drain a queue of 10 runs (its start, start-up included, to the last
  run's end).
`--postgres`/`--redis` run the passes on PostgreSQL and Redis (as ORCHESTRA_TEST_PG_URL/REDIS_URL); only
then does `test_production_shape.py` run (the whole deployment killed role by role), and its figures are
also reported on their own. `--full` sets ORCHESTRA_FAULTS_FULL=1 (the longer scenarios).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ["tests/faults/test_kill_points.py", "tests/faults/test_daemon_killed.py",
             "tests/faults/test_code_server_killed.py", "tests/faults/test_webserver_killed.py",
             "tests/faults/test_production_shape.py"]  # the last one only on PostgreSQL + Redis
TIMINGS = {
    "worker_killed_to_terminal_s": "killed run worker -> run terminal",
    "code_server_killed_to_successful_launch_s": "killed code server -> successful launch",
    "code_server_killed_to_loaded_s": "killed code server -> location LOADED",
    "restarted_daemon_drained_s": "restarted daemon drains 10 queued runs",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-k", default=None, help="pytest -k expression to pick scenarios")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL for the test database")
    parser.add_argument("--redis", default=None, help="a Redis URL for the test broker")
    parser.add_argument("--full", action="store_true", help="the longer scenarios too (ORCHESTRA_FAULTS_FULL=1)")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.full:
        env["ORCHESTRA_FAULTS_FULL"] = "1"
    if args.postgres:
        env.update(ORCHESTRA_TEST_STORAGE="postgres", ORCHESTRA_TEST_PG_URL=args.postgres)
    if args.redis:
        env.update(ORCHESTRA_TEST_BROKER="redis", ORCHESTRA_TEST_REDIS_URL=args.redis)
    with tempfile.TemporaryDirectory() as tmp:
        figures_path = Path(tmp) / "figures.jsonl"
        env["ORCHESTRA_FAULTS_FIGURES"] = str(figures_path)
        failed_passes, started = 0, time.monotonic()
        for index in range(args.repeats):
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SCENARIOS]
            if args.k:
                command += ["-k", args.k]
            result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
            summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
            print(f"pass {index + 1}/{args.repeats}: {summary}", flush=True)
            if result.returncode != 0:
                failed_passes += 1
                print(result.stdout[-3000:], file=sys.stderr)
        rows = [json.loads(line) for line in figures_path.read_text().splitlines()] if figures_path.exists() else []
    report(rows, failed_passes, args.repeats, time.monotonic() - started)


def report(rows: list[dict], failed_passes: int, repeats: int, elapsed: float) -> None:
    print(f"\n{len(rows)} scenario runs in {repeats} passes ({elapsed:.0f} s); passes with a failure: {failed_passes}")
    by_scenario: dict[str, int] = {}
    for row in rows:
        by_scenario[row["scenario"]] = by_scenario.get(row["scenario"], 0) + 1
    for scenario, count in sorted(by_scenario.items()):
        print(f"  {scenario}: {count}")
    print(f"runs checked:    {sum(row.get('runs', 0) for row in rows)}")
    print(f"runs lost:       {sum(row.get('lost', 0) for row in rows)}")
    print(f"runs duplicated: {sum(row.get('duplicated', 0) for row in rows)}")
    for shape, picked in (("every scenario", rows),
                          ("production shape", [r for r in rows if r["scenario"].startswith("production:")])):
        if not picked:
            continue
        print(f"-- {shape}")
        for key, label in TIMINGS.items():
            values = [row[key] for row in picked if key in row]
            if values:
                print(f"{label}: median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})")
            else:
                print(f"{label}: not measured")


if __name__ == "__main__":
    main()
