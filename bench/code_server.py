"""Time a code location from `orchestra code-server start` to its snapshot stored in the database.

Generates a module of N assets (default 2,000: 40 groups of 50-asset chains, each chain reading the
previous group's head, plus a job, a schedule and a sensor per group), then reports, over `--repeat`
runs:
- server ready: spawning `<python> -m orchestra code-server start` until it answers /health
  (interpreter start, imports, loading the definitions, building the snapshot);
- stored: the same plus fetching the snapshot and storing it on `CodeLocation` (`workspace_start`);
- fetch + store: fetching the already-built snapshot over HTTP and storing it (the host side alone);
- snapshot size in bytes;
- resident memory (VmRSS) of an idle code server for the big module and for a one-job location.

Code servers start with their bytecode cached (in the temp directory) as a deployed location would
have it, whatever `PYTHONDONTWRITEBYTECODE` says; an uncounted first start writes the caches
(`--no-bytecode-cache` compiles every module at every start instead).

Uses a fresh ORCHESTRA_HOME on SQLite unless `--home` names one. Run with
`/work/venv/bin/python bench/code_server.py [--assets 2000] [--repeat 5]`.
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

MODULE = textwrap.dedent(
    """
    import orchestra as dg

    GROUPS = {groups}
    PER_GROUP = {per_group}
    assets, jobs, schedules, sensors = [], [], [], []
    previous_head = None
    for g in range(GROUPS):
        head = None
        for i in range(PER_GROUP):
            deps = [head] if head is not None else ([previous_head] if previous_head is not None else [])

            @dg.asset(name=f"a_{{g}}_{{i}}", group_name=f"group_{{g}}", deps=deps)
            def _asset():
                return None

            assets.append(_asset)
            head = _asset.key
        previous_head = head
        job = dg.define_asset_job(f"job_{{g}}", selection=dg.AssetSelection.groups(f"group_{{g}}"))
        jobs.append(job)
        schedules.append(dg.ScheduleDefinition(name=f"schedule_{{g}}", cron_schedule="0 * * * *", job=job))

        @dg.sensor(name=f"sensor_{{g}}", job=job)
        def _sensor(context):
            return dg.SkipReason("nothing new")

        sensors.append(_sensor)

    defs = dg.Definitions(assets=assets, jobs=jobs, schedules=schedules, sensors=sensors)
    """
)

SMALL = textwrap.dedent(
    """
    import orchestra as dg

    @dg.op
    def hello():
        return 1

    @dg.job
    def small_job():
        hello()

    defs = dg.Definitions(jobs=[small_job])
    """
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--home", type=Path, default=None, help="an ORCHESTRA_HOME to use (default: a new SQLite one)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every module at every start")
    args = parser.parse_args()
    groups = max(1, args.assets // 50)

    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))
    home = args.home or work / "home"
    home.mkdir(parents=True, exist_ok=True)
    (work / "big.py").write_text(MODULE.format(groups=groups, per_group=args.assets // groups))
    (work / "small.py").write_text(SMALL)
    os.environ["ORCHESTRA_HOME"] = str(home)
    if not args.no_bytecode_cache:  # inherited by the code servers the supervisor starts
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    orchestra = [sys.executable, "-c", "from orchestra._cli import main; main()"]
    subprocess.run([*orchestra, "instance", "migrate"], check=True, capture_output=True, cwd=REPO)

    import django

    django.setup()
    from workspace.config import LocationEntry
    from workspace.models import CodeLocation
    from workspace.services import location_load_from_server, workspace_start

    def entry(name: str) -> LocationEntry:
        return LocationEntry(name=name, kind="python_file", python_file=str(work / f"{name}.py"),
                             working_directory=str(work))

    ready, stored, sizes, fetch_store = [], [], [], []
    if not args.no_bytecode_cache:  # writes the bytecode caches; not counted
        workspace_start(entries=[entry("big")], startup_timeout=300).stop()
    for _ in range(args.repeat):
        began = time.perf_counter()
        supervisor = workspace_start(entries=[entry("big")], startup_timeout=300)
        stored.append(time.perf_counter() - began)
        location = CodeLocation.objects.get(name="big")
        assert location.load_error is None, location.load_error
        assert len(location.snapshot["asset_nodes"]) == groups * (args.assets // groups)
        sizes.append(len(str(location.snapshot)))
        managed = supervisor.servers["big"]
        began = time.perf_counter()
        location_load_from_server(entry=entry("big"), supervisor=supervisor)  # fetch + store only
        fetch_store.append(time.perf_counter() - began)
        began = time.perf_counter()
        supervisor.restart("big")  # the same path without the database write, timed on its own
        ready.append(time.perf_counter() - began)
        time.sleep(1)
        big_rss = rss_mib(managed.info["pid"])
        supervisor.stop()

    small = workspace_start(entries=[entry("small")], startup_timeout=60)
    time.sleep(1)
    small_rss = rss_mib(small.servers["small"].info["pid"])
    small.stop()

    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cached"
    print(f"{groups * (args.assets // groups)} assets, {groups} jobs/schedules/sensors, {args.repeat} runs ({cache})")
    print(f"stop + start -> healthy (a reload):      median {statistics.median(ready):.2f} s  min {min(ready):.2f} s")
    print(f"code-server start -> snapshot stored:     median {statistics.median(stored):.2f} s  min {min(stored):.2f} s")
    print(f"fetch + store of the built snapshot:      median {statistics.median(fetch_store):.2f} s")
    print(f"snapshot size: {statistics.median(sizes) / 1e6:.1f} MB (as Python repr)")
    print(f"idle code server RSS: {big_rss:.0f} MiB for the big module, {small_rss:.0f} MiB for a one-job location")


if __name__ == "__main__":
    main()
