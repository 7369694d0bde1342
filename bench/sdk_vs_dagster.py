"""Orchestra's SDK side by side with Dagster's, in one run: import time and per-step overhead.

    python bench/sdk_vs_dagster.py [--dagster-python PATH] [--repeats N]

Uses this interpreter for Orchestra and `--dagster-python` (default `$DAGSTER_PYTHON`, else
`/work/dagster-venv/bin/python`) for a Dagster 1.13 install made outside the repo (Dagster is never a
dependency of Orchestra). Each figure is the median of N fresh processes:
- `import`: wall time of `import orchestra` / `import dagster` in a new interpreter;
- `chain`: milliseconds per step of a 200-op linear chain through `execute_in_process`
  (bench/sdk_chain.py, which warms up first and discards console logging).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPORT_PROBE = "import time; t = time.perf_counter(); import {m}; print((time.perf_counter() - t) * 1000)"


def _median_of(cmd: list[str], repeats: int) -> float:
    values = []
    for _ in range(repeats):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=HERE.parent).stdout
        values.append(float(out.strip().splitlines()[-1].split()[-1]))
    return statistics.median(values)


def _chain_ms_per_step(python: str, engine: str) -> float:
    out = subprocess.run(
        [python, str(HERE / "sdk_chain.py"), "--engine", engine],
        capture_output=True, text=True, check=True, cwd=HERE.parent,
    ).stdout
    # sdk_chain prints "... <ms> ms per step" on its last line.
    last = [line for line in out.splitlines() if "per step" in line][-1]
    return float(last.split("ms per step")[0].split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dagster-python", default=os.environ.get("DAGSTER_PYTHON", "/work/dagster-venv/bin/python"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    engines = {"orchestra": sys.executable, "dagster": args.dagster_python}
    rows = {}
    for engine, python in engines.items():
        if not Path(python).exists():
            print(f"{engine}: interpreter {python} not found; skipped", file=sys.stderr)
            continue
        imp = _median_of([python, "-c", IMPORT_PROBE.format(m=engine)], args.repeats)
        chain = _chain_ms_per_step(python, engine)
        rows[engine] = (imp, chain)
        print(f"{engine:<10} import {imp:8.1f} ms   200-op chain {chain:7.3f} ms/step", flush=True)
    if len(rows) == 2:
        (oi, oc), (di, dc) = rows["orchestra"], rows["dagster"]
        print(f"{'ratio':<10} import {di / oi:8.1f}x   200-op chain {dc / oc:7.1f}x  (Dagster / Orchestra)")


if __name__ == "__main__":
    main()
