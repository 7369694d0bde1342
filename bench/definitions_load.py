"""Load a 2,000-asset code location, side by side with Dagster: import, `Definitions`, jobs, snapshot.

    python bench/definitions_load.py [--dagster-python PATH] [--repeats N] [--engines orchestra,dagster]

Generates one user module per engine (in a temp directory) with 2,000 assets in 20 groups — deps on
earlier assets, metadata, tags, kinds, owners, code versions, the first five groups partitioned daily —
20 asset jobs (`define_asset_job` over a group, with the partitions for the partitioned groups) and 20 schedules (hourly cron, or
`build_schedule_from_partitioned_job` for the partitioned jobs), all in one `Definitions`. Then, in N
fresh processes per engine (`--worker`), times what a code server does at start-up:
- `engine`: `import orchestra` / `import dagster` and the names the module uses (Orchestra loads its
  submodules on first use of a name), plus the snapshot function (reported, not part of the total);
- `import`: importing the user module, which builds the assets, jobs, schedules and `Definitions`;
- `resolve`: `defs.get_repository_def()` and every job (`resolve_all_job_defs()`);
- `snapshot`: Orchestra's `snapshot_from_definitions`, Dagster's `RepositorySnap.from_def` (what its
  code server sends the webserver).
Uses this interpreter for Orchestra and `--dagster-python` (default `$DAGSTER_PYTHON`, else
`/work/dagster-venv/bin/python`) for a Dagster 1.13 install made outside the repo. Figures are medians;
bytecode is cached in the temp directory by a first, uncounted process (whatever
`PYTHONDONTWRITEBYTECODE` says), as it would be for a deployed code server.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSETS, GROUPS, PARTITIONED_GROUPS = 2000, 20, 5
PHASES = ("engine", "import", "resolve", "snapshot")
ENGINE_NAMES = ("asset", "AssetsDefinition", "AssetSelection", "DailyPartitionsDefinition", "Definitions",
                "ScheduleDefinition", "build_schedule_from_partitioned_job", "define_asset_job")


def module_source(engine: str) -> str:
    per_group = ASSETS // GROUPS
    lines = [
        f"import {engine} as dg",
        "",
        'daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")',
        "",
    ]
    for index in range(ASSETS):
        group = index // per_group
        partitioned = group < PARTITIONED_GROUPS
        # Deps on up to three earlier assets: the previous one in the group and two further back.
        deps = sorted({earlier for earlier in (index - 1, index - 7 - index % 13, (index * 7919) % max(index, 1))
                       if 0 <= earlier < index and (earlier // per_group >= PARTITIONED_GROUPS or partitioned)})
        deps_arg = ", ".join(f'"asset_{d}"' for d in deps)
        lines += [
            "@dg.asset(",
            f'    group_name="group_{group}",',
            f"    deps=[{deps_arg}],",
            f'    metadata={{"team": "team_{index % 7}", "row_estimate": {index * 10}, "source": "warehouse.table_{index}"}},',
            f'    tags={{"tier": "{("gold", "silver", "bronze")[index % 3]}", "domain": "d{group % 4}"}},',
            '    kinds={"python"},',
            f'    owners=["team:team_{index % 7}"],',
            f'    code_version="v{index % 3}",',
        ]
        if partitioned:
            lines.append("    partitions_def=daily,")
        lines += [
            ")",
            f"def asset_{index}() -> None:",
            f'    """Asset number {index}."""',
            "",
        ]
    lines += ["", "jobs = ["]
    for g in range(GROUPS):
        partitions = ", partitions_def=daily" if g < PARTITIONED_GROUPS else ""
        lines.append(f'    dg.define_asset_job("job_{g}", selection=dg.AssetSelection.groups("group_{g}"){partitions}),')
    lines += ["]", ""]
    lines.append("schedules = [")
    for g in range(GROUPS):
        if g < PARTITIONED_GROUPS:
            lines.append(f'    dg.build_schedule_from_partitioned_job(jobs[{g}], name="schedule_{g}"),')
        else:
            lines.append(f'    dg.ScheduleDefinition(name="schedule_{g}", job=jobs[{g}], cron_schedule="{g} * * * *"),')
    lines += ["]", ""]
    lines.append("defs = dg.Definitions(assets=[v for v in list(globals().values()) if isinstance(v, dg.AssetsDefinition)],"
                 " jobs=jobs, schedules=schedules)")
    return "\n".join(lines) + "\n"


def worker(engine: str, directory: str) -> None:
    warnings.filterwarnings("ignore")
    sys.path.insert(0, directory)
    timings = {}
    started = time.perf_counter()
    dg = importlib.import_module(engine)
    for name in ENGINE_NAMES:  # Orchestra imports its submodules lazily, on first use of a name
        getattr(dg, name)
    if engine == "orchestra":
        from orchestra._core.snapshot.location import snapshot_from_definitions
    else:
        from dagster._core.remote_representation.external_data import RepositorySnap
    timings["engine"] = time.perf_counter() - started
    started = time.perf_counter()
    module = importlib.import_module(f"bench_defs_{engine}")
    timings["import"] = time.perf_counter() - started
    defs = module.defs
    started = time.perf_counter()
    defs.get_repository_def()
    jobs = defs.resolve_all_job_defs()
    timings["resolve"] = time.perf_counter() - started
    started = time.perf_counter()
    if engine == "orchestra":
        snapshot = snapshot_from_definitions(defs, "bench")
        assert len(snapshot["asset_nodes"]) == ASSETS and len(snapshot["schedules"]) == GROUPS
    else:
        snapshot = RepositorySnap.from_def(defs.get_repository_def())
        assert len(snapshot.asset_nodes) == ASSETS and len(snapshot.schedules) == GROUPS
    timings["snapshot"] = time.perf_counter() - started
    assert len(jobs) == GROUPS + 1  # the 20 jobs and the implicit asset job
    print(json.dumps(timings))


def _phases(python: str, engine: str, directory: str, repeats: int) -> dict[str, float]:
    # Bytecode is cached (in the temp directory) as a deployed code server would have it; the first
    # process writes the caches and is not counted.
    env = {**os.environ, "PYTHONPYCACHEPREFIX": os.path.join(directory, "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = []
    for _ in range(repeats + 1):
        out = subprocess.run(
            [python, str(Path(__file__).resolve()), "--worker", engine, "--directory", directory],
            capture_output=True, text=True, cwd=HERE.parent, env=env,
        )
        if out.returncode:
            sys.exit(f"{engine} worker failed:\n{out.stderr}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {phase: statistics.median(run[phase] for run in runs[1:]) * 1000 for phase in PHASES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dagster-python", default=os.environ.get("DAGSTER_PYTHON", "/work/dagster-venv/bin/python"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engines", default="orchestra,dagster")
    parser.add_argument("--worker", choices=["orchestra", "dagster"], help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.directory)
        return
    pythons = {"orchestra": sys.executable, "dagster": args.dagster_python}
    rows = {}
    with tempfile.TemporaryDirectory() as directory:
        for engine in args.engines.split(","):
            python = pythons[engine]
            if not Path(python).exists():
                print(f"{engine}: interpreter {python} not found; skipped", file=sys.stderr)
                continue
            Path(directory, f"bench_defs_{engine}.py").write_text(module_source(engine))
            rows[engine] = _phases(python, engine, directory, args.repeats)
            row = rows[engine]
            total = row["import"] + row["resolve"] + row["snapshot"]
            print(f"{engine:<10} engine {row['engine']:7.0f} ms | import+Definitions {row['import']:7.0f} ms  "
                  f"resolve jobs {row['resolve']:7.0f} ms  snapshot {row['snapshot']:7.0f} ms  total {total:7.0f} ms",
                  flush=True)
    if len(rows) == 2:
        o, d = rows["orchestra"], rows["dagster"]
        ratios = "  ".join(f"{phase} {d[phase] / o[phase]:.1f}x" for phase in PHASES[1:])
        total = sum(d[p] for p in PHASES[1:]) / sum(o[p] for p in PHASES[1:])
        print(f"{'ratio':<10} {ratios}  total {total:.1f}x  (Dagster / Orchestra; target: Orchestra total <= 250 ms)")


if __name__ == "__main__":
    main()
