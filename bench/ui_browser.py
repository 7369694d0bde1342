"""The UI in headless Chromium, Orchestra side by side with Dagster's webserver: time from navigation to
main content, requests made and bytes of JavaScript transferred, cold and warm.

    /work/venv/bin/python bench/ui_browser.py [--dagster-python /tmp/dagster/bin/python] [--runs 10000]
                                               [--assets 2000] [--repeats 5] [--pages 'runs list,launchpad']

Both deployments hold the same data: `--runs` finished runs of a 3-op job (three tags each), one run of a
200-op job, and a code location of `--assets` assets in 10 groups. Orchestra's rows are written through
the ORM (the 200-step run gets six events per step, as a real run writes them); Dagster's runs are
created with `DagsterInstance.add_run` and its 200-op run is executed for real with `execute_in_process`
on the same instance. Each server is the production webserver (Orchestra: uvicorn on
`orchestra_site.asgi`, `auth: {mode: none}` on loopback; Dagster: `dagster-webserver`).

Per page and engine, `--repeats` cold loads (a fresh browser context: empty cache, no cookies) and as many
warm loads (the same context navigating again) are timed from `page.goto` to the page's main content
being visible — the newest run's row on the runs list, the last step of the 200-step run on its page ("run detail"), the
first asset on the catalog, the run-config editor on the launchpad, the last op of the 200-op job drawn
in its graph, the last asset group drawn in the lineage, a bar of the overview's timeline. Medians are
reported with the requests each cold load made and the JavaScript it transferred (bytes on the wire, as
served, and what they weigh gzip-compressed).
Chromium is Debian's `/usr/bin/chromium`, driven by Playwright for Python.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench._fixtures import free_port, stop_group  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BIG_STEPS = 200

DEFS = """
import {module} as dg


@dg.op(config_schema={{"n": int}})
def first(context) -> int:
    return context.op_config["n"]


@dg.op
def second(n: int) -> int:
    return n + 1


@dg.op
def third(n: int) -> int:
    return n * 2


@dg.job(tags={{"team": "bench"}})
def three_ops():
    third(second(first()))


def _chain_op(i):
    @dg.op(name=f"op_{{i:03d}}")
    def _op(n: int) -> int:
        return n + 1
    return _op


@dg.op
def start() -> int:
    return 0


CHAIN = [_chain_op(i) for i in range({steps})]


@dg.job
def two_hundred_ops():
    n = start()
    for op in CHAIN:
        n = op(n)


def _asset(i):
    @dg.asset(name=f"asset_{{i:04d}}", group_name=f"group_{{i % 10}}", key_prefix=["bench"])
    def _a():
        return i
    return _a


defs = dg.Definitions(jobs=[three_ops, two_hundred_ops], assets=[_asset(i) for i in range({assets})])
"""

ORCHESTRA_FILL = """
import datetime, json, sys, uuid
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import transaction
from orchestra._core.definitions_class.module_loading import load_definitions
from orchestra._core.snapshot.location import snapshot_from_definitions
from runs.models import EventLogEntry, Run, RunStatus
from bench._fixtures import fill_runs
from workspace.models import CodeLocation, LocationStatus

runs, steps, defs_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
snapshot = snapshot_from_definitions(load_definitions(python_file=defs_file), "bench")
CodeLocation.objects.create(name="bench", status=LocationStatus.LOADED, snapshot=snapshot,
                            snapshot_id=snapshot["snapshot_id"],
                            origin={"name": "bench", "kind": "python_file", "python_file": defs_file})
fill_runs(runs, ago_seconds=3600)
now = datetime.datetime.now(datetime.UTC)
with transaction.atomic():
    begin = now - datetime.timedelta(seconds=1800)
    big = Run.objects.create(run_id=str(uuid.uuid4()), job_name="two_hundred_ops", location_name="bench",
                             status=RunStatus.SUCCESS, created_at=begin, updated_at=begin, started_at=begin,
                             ended_at=begin + datetime.timedelta(seconds=60))
    events = [EventLogEntry(run=big, event_type=kind, message=kind)
              for kind in ("RUN_STARTING", "RUN_START")]
    keys = ["start"] + [f"op_{i:03d}" for i in range(steps)]
    for key in keys:
        for kind in ("STEP_START", "LOADED_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS", "LOGS_CAPTURED"):
            events.append(EventLogEntry(run=big, event_type=kind, step_key=key, message=f"{kind} of {key}"))
    events.append(EventLogEntry(run=big, event_type="RUN_SUCCESS", message="RUN_SUCCESS"))
    EventLogEntry.objects.bulk_create(events)
newest = Run.objects.filter(job_name="three_ops").order_by("-id").values_list("run_id", flat=True)[0]
print(json.dumps({"newest": newest, "big": big.run_id, "last_step": keys[-1]}))
"""

DAGSTER_FILL = """
import json, random, sys
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.utils import make_new_run_id
sys.path.insert(0, ".")
import defs as user

runs = int(sys.argv[1])
instance = DagsterInstance.get()
rng = random.Random(3)
for i in range(runs):
    instance.add_run(DagsterRun(job_name="three_ops", run_id=make_new_run_id(),
                                status=rng.choice([DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE]),
                                tags={"dagster/code_location": "defs.py", "team": f"team-{rng.randrange(5)}",
                                      "dagster/from_ui": "true"}))
newest = instance.get_run_ids(limit=1)[0]
big = user.two_hundred_ops.execute_in_process(instance=instance).run_id
print(json.dumps({"newest": newest, "big": big, "last_step": "op_%03d" % (len(user.CHAIN) - 1)}))
"""


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    ids: dict


def wait_up(server: Server, path: str, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} not answering after {timeout} s:\n{log.read_text()[-3000:]}")


def start_orchestra(work: Path, runs: int, assets: int) -> Server:
    home = work / "orchestra"
    home.mkdir()
    (home / "orchestra.yaml").write_text("auth:\n  mode: none\n")
    defs = home / "defs.py"
    defs.write_text(DEFS.format(module="orchestra", steps=BIG_STEPS, assets=assets))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(ORCHESTRA_HOME=str(home), DJANGO_SETTINGS_MODULE="orchestra_site.settings", PYTHONPATH=str(REPO))
    filled = subprocess.run([sys.executable, "-c", ORCHESTRA_FILL, str(runs), str(BIG_STEPS), str(defs)],
                            env=env, check=True, cwd=REPO, capture_output=True, text=True)
    ids = json.loads(filled.stdout.strip().splitlines()[-1])
    port, log = free_port(), home / "webserver.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "orchestra_site.asgi:application", "--port", str(port),
         "--log-level", "warning"],
        env=env, cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("Orchestra", proc, port, ids)
    wait_up(server, "/health", log)
    return server


def start_dagster(work: Path, python: str, runs: int, assets: int) -> Server:
    home, project = work / "dagster-home", work / "dagster-project"
    home.mkdir()
    project.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (project / "defs.py").write_text(DEFS.format(module="dagster", steps=BIG_STEPS, assets=assets))
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV", "PYTHONPATH")}
    env["DAGSTER_HOME"] = str(home)
    filled = subprocess.run([python, "-c", DAGSTER_FILL, str(runs)], env=env, check=True, cwd=project,
                            capture_output=True, text=True)
    ids = json.loads(filled.stdout.strip().splitlines()[-1])
    port, log = free_port(), home / "webserver.log"
    proc = subprocess.Popen([str(Path(python).parent / "dagster-webserver"), "-f", "defs.py", "-p", str(port)],
                            env=env, cwd=project, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = Server("Dagster", proc, port, ids)
    wait_up(server, "/server_info", log)
    # The webserver answers before its code server has loaded the definitions: wait for the location.
    query = json.dumps({"query": "{ workspaceOrError { ... on Workspace { locationEntries { "
                                 "locationOrLoadError { __typename } } } } }"}).encode()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=query,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            if b'"RepositoryLocation"' in response.read():
                break
        time.sleep(1)
    return server


def pages(server: Server) -> dict[str, tuple[str, str]]:
    """Page name -> (path, selector of its main content) for this engine."""
    ids = server.ids
    if server.name == "Orchestra":
        return {
            "runs list": ("/runs/", f'a[href="/runs/{ids["newest"]}/"]'),
            "run detail": (f'/runs/{ids["big"]}/', f'text={ids["last_step"]}'),
            "asset catalog": ("/assets/", 'a[href="/assets/bench/asset_0000/"]'),
            "launchpad": ("/locations/bench/jobs/three_ops/", "form.launchpad textarea"),
            "job graph": ("/locations/bench/jobs/two_hundred_ops/", "figure.graph .graph-node >> text=op_199"),
            "lineage": ("/asset-groups/", "figure.graph .graph-node >> text=group_9"),
            "overview": ("/overview/", ".timeline .tl-row .tl-bar"),
        }
    return {
        "runs list": ("/runs", f'a[href="/runs/{ids["newest"]}"]'),
        "run detail": (f'/runs/{ids["big"]}', f'text={ids["last_step"]}'),
        "asset catalog": ("/assets", "text=asset_0000"),
        "launchpad": ("/locations/defs.py/jobs/three_ops/playground", ".CodeMirror"),
        "job graph": ("/locations/defs.py/jobs/two_hundred_ops", "text=op_199"),
        "lineage": ("/asset-groups", "text=group_9"),
        "overview": ("/overview", "text=three_ops"),
    }


def _gzipped_size(request) -> int:
    """What a script's body weighs gzip -9; 0 when Chromium has dropped the body (a script of a page
    that navigated on, as Dagster's app does while it loads), which the byte count above still counts."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return len(gzip.compress(request.response().body(), 9))
    except PlaywrightError:
        return 0


def measure(browser, server: Server, path: str, selector: str, repeats: int) -> dict:
    url = f"http://127.0.0.1:{server.port}{path}"
    cold, warm, requests, js, js_gz = [], [], [], [], []
    for _ in range(repeats):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        seen: list = []
        page.on("requestfinished", lambda request, seen=seen: seen.append(request))
        began = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.locator(selector).first.wait_for(state="visible", timeout=120_000)
        cold.append(time.perf_counter() - began)
        page.wait_for_load_state("load")
        requests.append(len(seen))
        js.append(sum(r.sizes()["responseBodySize"] for r in seen if r.resource_type == "script"))
        # what the scripts would weigh compressed (gzip -9), whether or not the server compressed them
        js_gz.append(sum(_gzipped_size(r) for r in seen if r.resource_type == "script"))
        began = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.locator(selector).first.wait_for(state="visible", timeout=120_000)
        warm.append(time.perf_counter() - began)
        context.close()
    return {"cold_ms": statistics.median(cold) * 1000, "warm_ms": statistics.median(warm) * 1000,
            "requests": statistics.median(requests), "js_kb": statistics.median(js) / 1024,
            "js_gz_kb": statistics.median(js_gz) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dagster-python", default=os.environ.get("DAGSTER_PYTHON"),
                        help="a Python with dagster and dagster-webserver 1.13 (optional)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--assets", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", default="runs list,run detail,asset catalog,launchpad,job graph,lineage,overview",
                        help="comma-separated page names (default: all)")
    args = parser.parse_args()
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    wanted = [name.strip() for name in args.pages.split(",")]
    servers: list[Server] = []
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ui-browser-") as tmp:
        work = Path(tmp)
        try:
            print(f"filling {args.runs} runs and {args.assets} assets ...", file=sys.stderr)
            servers.append(start_orchestra(work, args.runs, args.assets))
            if args.dagster_python:
                servers.append(start_dagster(work, args.dagster_python, args.runs, args.assets))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for name in wanted:
                    for server in servers:
                        path, selector = pages(server)[name]
                        try:
                            results[(name, server.name)] = measure(browser, server, path, selector, args.repeats)
                        except PlaywrightTimeoutError:  # one page that never shows its content spoils no other figure
                            print(f"  {name:16} {server.name:9} never showed {selector!r} (120 s)", file=sys.stderr)
                            continue
                        print(f"  {name:16} {server.name:9} {results[(name, server.name)]}", file=sys.stderr)
                browser.close()
        finally:
            for server in servers:
                stop_group(server.proc)
    load = os.getloadavg()[0]
    print(f"\nUI in headless Chromium: {args.runs} runs, {args.assets} assets, median of {args.repeats} "
          f"(load average {load:.1f})")
    print(f"{'page':16} {'engine':9} {'cold':>9} {'warm':>9} {'requests':>9} {'JS':>10} {'JS gzip':>10}")
    for (name, engine), row in results.items():
        print(f"{name:16} {engine:9} {row['cold_ms']:7.0f}ms {row['warm_ms']:7.0f}ms {row['requests']:9.0f} "
              f"{row['js_kb']:8.0f}KB {row['js_gz_kb']:8.0f}KB")
    for name in wanted:
        if (name, "Dagster") in results and (name, "Orchestra") in results:
            ratio = results[(name, "Dagster")]["cold_ms"] / results[(name, "Orchestra")]["cold_ms"]
            print(f"{name:16} Orchestra is {ratio:.1f}x faster cold")


if __name__ == "__main__":
    main()
