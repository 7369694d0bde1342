"""Time a 200-op linear chain through `execute_in_process` and print milliseconds per step.

Run with Orchestra's venv (`/work/venv/bin/python bench/sdk_chain.py`) or, to compare, with a
Dagster venv (`/work/dagster-venv/bin/python bench/sdk_chain.py`): the script imports whichever of
`orchestra` / `dagster` is asked for (`--engine`, default: orchestra if importable).
Console logging goes to /dev/null so the figure is the engine's cost, not the terminal's.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import statistics
import sys
import time
import warnings


def build_chain(dg, length: int):
    @dg.op
    def start() -> int:
        return 0

    @dg.op
    def inc(x: int) -> int:
        return x + 1

    @dg.job
    def chain():
        value = start()
        for index in range(length - 1):
            value = inc.alias(f"inc_{index}")(value)

    return chain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["orchestra", "dagster"], default=None)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engine = args.engine
    if engine is None:
        try:
            importlib.import_module("orchestra")
            engine = "orchestra"
        except ImportError:
            engine = "dagster"
    warnings.filterwarnings("ignore")
    dg = importlib.import_module(engine)
    job = build_chain(dg, args.steps)
    timings = []
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        job.execute_in_process()  # warm-up: imports, schema and plan caches
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = job.execute_in_process()
            timings.append(time.perf_counter() - started)
            assert result.success
    per_step = statistics.median(timings) * 1000 / args.steps
    print(f"{engine}: {args.steps}-op chain, median of {args.repeat}: {per_step:.3f} ms per step", file=sys.stdout)


if __name__ == "__main__":
    main()
