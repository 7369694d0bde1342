"""`materialize` of 500 assets (10 layers of 50, each reading two of the layer before), side by side with Dagster.

    python bench/assets_materialize.py [--dagster-python PATH] [--repeats N] [--engines orchestra,dagster]

Uses this interpreter for Orchestra and `--dagster-python` (default `$DAGSTER_PYTHON`, else
`/work/dagster-venv/bin/python`) for a Dagster 1.13 install made outside the repo (Dagster is never a
dependency of Orchestra). Each engine runs in N fresh processes (`--worker`); each process builds the
assets, materializes them once to warm up, then times one more `materialize` into an ephemeral instance
whose storage is a temp directory, so the default filesystem IO manager pickles every output to disk and
reads each input back. The figure is the median over the processes, in milliseconds per asset.
Console logging goes to /dev/null so the figure is the engine's cost, not the terminal's.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYERS, WIDTH = 10, 50


def build_assets(dg) -> list:
    assets = []
    for layer in range(LAYERS):
        for index in range(WIDTH):
            name = f"a_{layer}_{index}"
            if layer == 0:
                def compute() -> int:
                    return 1
                ins = {}
            else:
                def compute(left: int, right: int) -> int:
                    return left + right
                ins = {
                    "left": dg.AssetIn(f"a_{layer - 1}_{index}"),
                    "right": dg.AssetIn(f"a_{layer - 1}_{(index + 1) % WIDTH}"),
                }
            assets.append(dg.asset(name=name, ins=ins)(compute))
    return assets


def worker(engine: str) -> None:
    warnings.filterwarnings("ignore")
    dg = importlib.import_module(engine)
    assets = build_assets(dg)
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        instance = dg.DagsterInstance.ephemeral(tempdir=tmp)
        assert dg.materialize(assets, instance=instance).success  # warm-up: imports, caches
        started = time.perf_counter()
        result = dg.materialize(assets, instance=instance)
        elapsed = time.perf_counter() - started
        assert result.success
        assert len(os.listdir(os.path.join(tmp, "storage"))) == LAYERS * WIDTH, "outputs not pickled to disk"
    print(f"{engine}: {elapsed * 1000 / (LAYERS * WIDTH):.4f} ms per asset")


def _ms_per_asset(python: str, engine: str, repeats: int) -> float:
    values = []
    for _ in range(repeats):
        out = subprocess.run(
            [python, str(Path(__file__).resolve()), "--worker", engine],
            capture_output=True, text=True, check=True, cwd=HERE.parent,
        ).stdout
        values.append(float(out.strip().splitlines()[-1].split()[-4]))
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dagster-python", default=os.environ.get("DAGSTER_PYTHON", "/work/dagster-venv/bin/python"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="orchestra,dagster")
    parser.add_argument("--worker", choices=["orchestra", "dagster"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    pythons = {"orchestra": sys.executable, "dagster": args.dagster_python}
    rows = {}
    for engine in args.engines.split(","):
        python = pythons[engine]
        if not Path(python).exists():
            print(f"{engine}: interpreter {python} not found; skipped", file=sys.stderr)
            continue
        rows[engine] = _ms_per_asset(python, engine, args.repeats)
        print(f"{engine:<10} materialize {LAYERS}x{WIDTH} assets: {rows[engine]:8.3f} ms per asset", flush=True)
    if len(rows) == 2:
        print(f"{'ratio':<10} {rows['dagster'] / rows['orchestra']:.1f}x  (Dagster / Orchestra; target: Orchestra <= 1.2 ms)")


if __name__ == "__main__":
    main()
