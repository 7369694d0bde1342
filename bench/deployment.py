"""Whole-deployment benchmark, Orchestra's `orchestra dev` side by side with Dagster's `dagster dev`.

Each deployment serves the same trivial 3-op job from a fresh home (SQLite; Orchestra with the
embedded broker and `run_queue: {}`, i.e. the QueuedRunCoordinator at its defaults; Dagster with
`dagster dev`'s default QueuedRunCoordinator). The same GraphQL client (raw `launchRun` mutations over
HTTP, as `DagsterGraphQLClient.submit_job_execution` sends them) then measures:

- burst: 30 runs submitted at once (30 client threads); runs per minute from the first submission
  to the last run's end, and the median submit -> SUCCESS (the run's `endTime` minus the moment its
  mutation was sent);
- idle: one run on the idle deployment, submit -> SUCCESS (3 tries, one at a time; all reported);
- memory: peak resident memory of the deployment's whole process tree (sum of RSS of the command and
  all its descendants, sampled every 100 ms) during the burst; and the peak of the sum of PSS
  (proportional set size: a page shared by N processes counts 1/N in each, so forked or
  copy-on-write pages count once), which is what the machine actually spends.

    /work/venv/bin/python bench/deployment.py [--dagster-python /tmp/w2dagster/bin/python] [--runs 30]

Without a Python that has dagster, dagster-webserver and dagster-graphql, only Orchestra's figures are
printed. The reference venv: `python -m venv /tmp/w2dagster && /tmp/w2dagster/bin/pip install
dagster==1.13.28 dagster-webserver==1.13.28 dagster-graphql==1.13.28` (the package index has no
dagster-webserver 1.13.29). `--verbose` prints the process tree at the memory peak; `--keep DIR`
keeps the homes (databases, logs) for a look at the runs' event timestamps. `--verbose` also prints
PSS at its peak by kind of process, and the CPU seconds each kind of process spent during the burst
(sampled with the memory every 100 ms, so a process's last <100 ms is missed and very short-lived
processes, such as Orchestra's forked step processes, barely show); processes forked from
Orchestra's run-worker server keep its command line and are named by their depth below it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEFS = """
import {module} as dg


@dg.op
def first() -> int:
    return 1


@dg.op
def second(x: int) -> int:
    return x + 1


@dg.op
def third(x: int) -> int:
    return x * 2


@dg.job
def three_ops():
    third(second(first()))


defs = dg.Definitions(jobs=[three_ops])
"""

LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUNS = """
query Runs($ids: [String!]) {
  runsOrError(filter: {runIds: $ids}) {
    __typename
    ... on Runs { results { runId status startTime endTime } }
  }
}
"""

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def _pss(pid: int) -> int:
    """Proportional set size (bytes) of `pid`, from /proc/PID/smaps_rollup (0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


# Below `orchestra dev`'s supervisor (depth 1): the run-worker server, its run workers, their step
# fork server and resource tracker, step processes, and each step's watchdog.
_FORKED_KINDS = ("run-worker server", "run worker", "step fork server / resource tracker", "step process",
                 "step watchdog")


def _kind(command: str) -> str:
    """A short name for the kind of process `command` is (for the CPU breakdown)."""
    for needle, kind in (("multiprocessing", "step process / fork server"), ("run-worker-server", "run worker"),
                         ("uvicorn", "webserver"), ("beat", "beat"), ("worker", "celery worker"),
                         ("code-server", "code server"), ("workspace", "workspace loader"),
                         ("supervise", "supervisor")):
        if needle in command:
            return kind
    return command[:40]


def _tree_rss(root: int, breakdown: list | None = None, pss: list | None = None, cpu: dict | None = None) -> int:
    """Sum of RSS (bytes) of `root` and all its descendants, read from /proc (PSS sum in `pss[0]`).

    `cpu`, when given, is updated with each member's CPU seconds so far: {(pid, start): (kind, seconds)}.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    times: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
        times[pid] = (fields[19], (int(fields[11]) + int(fields[12])) / tick)
    total, stack, members, depth = 0, [root], [], {root: 0}
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        members.append(pid)
        for child in children.get(pid, ()):
            depth[child] = depth[pid] + 1
            stack.append(child)
    proportional = {pid: _pss(pid) for pid in members} if pss is not None else {}
    if pss is not None:
        pss[:] = [sum(proportional.values())]
    if cpu is not None:
        for pid in members:
            if pid in times and (pid, times[pid][0]) not in cpu:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                        kind = _kind(cmdline.read().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    continue
                if kind == "run worker":  # forks keep the server's command line: name them by depth
                    kind = _FORKED_KINDS[min(depth[pid] - 1, len(_FORKED_KINDS) - 1)]
                cpu[(pid, times[pid][0])] = (kind, 0.0)
            if (pid, times.get(pid, ("", 0))[0]) in cpu:
                key = (pid, times[pid][0])
                cpu[key] = (cpu[key][0], times[pid][1])
    if breakdown is not None:
        breakdown.clear()
        for pid in members:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")[:110]
            except OSError:
                continue
            breakdown.append((rss.get(pid, 0), proportional.get(pid, 0), command))
    return total


class MemorySampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.running, self.breakdown = root, 0, True, []
        self.peak_pss, self.pss_breakdown = 0, []
        self.cpu: dict = {}
        self.cpu_before: dict = {}
        _tree_rss(root, cpu=self.cpu_before)

    def cpu_by_kind(self) -> dict[str, tuple[int, float]]:
        """CPU seconds spent during the sampling, by kind of process: {kind: (processes, seconds)}."""
        kinds: dict[str, tuple[int, float]] = {}
        for key, (kind, seconds) in self.cpu.items():
            spent = seconds - self.cpu_before.get(key, (kind, 0.0))[1]
            count, total = kinds.get(kind, (0, 0.0))
            kinds[kind] = (count + 1, total + spent)
        return kinds

    def run(self) -> None:
        while self.running:
            breakdown: list = []
            pss: list = []
            total = _tree_rss(self.root, breakdown, pss, self.cpu)
            if total > self.peak:
                self.peak, self.breakdown = total, breakdown
            if pss and pss[0] > self.peak_pss:
                self.peak_pss, self.pss_breakdown = pss[0], breakdown
            time.sleep(0.1)


class Deployment:
    """One running deployment: its process, GraphQL port and the selector of the benchmark job."""

    name = ""

    def __init__(self, work: Path):
        self.work, self.port, self.proc = work, _free_port(), None
        self.log = work / "deployment.log"

    def selector(self) -> dict:
        return {"repositoryLocationName": self.location, "repositoryName": "__repository__", "jobName": "three_ops"}

    def wait_ready(self, timeout: float = 240) -> None:
        """Until the webserver answers and a launch of the job is accepted (the location is loaded)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                data = _graphql(self.port, "{ workspaceOrError { __typename ... on Workspace { locationEntries "
                                           "{ name locationOrLoadError { __typename } } } } }", timeout=5)
                entries = data["workspaceOrError"].get("locationEntries") or []
                if any(e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                       for e in entries):
                    self.location = next(e["name"] for e in entries
                                         if e["locationOrLoadError"]["__typename"] == "RepositoryLocation")
                    return
                last = data
            except Exception as error:  # not up yet
                last = error
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout} s: {last}\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class OrchestraDev(Deployment):
    name = "Orchestra"

    def start(self) -> None:
        home, project = self.work / "home", self.work / "project"
        home.mkdir(parents=True)
        project.mkdir()
        # The benchmark's client sends no credentials, as Dagster's webserver accepts.
        (home / "orchestra.yaml").write_text("run_queue: {}\nauth:\n  mode: none\n")
        (project / "defs.py").write_text(DEFS.format(module="orchestra"))
        (project / "workspace.yaml").write_text(
            "load_from:\n  - python_file:\n      relative_path: defs.py\n      location_name: bench\n")
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "ORCHESTRA_HOME")}
        env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestra", "dev", "--home", str(home), "--port", str(self.port),
             "-w", str(project / "workspace.yaml")],
            cwd=project, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


class DagsterDev(Deployment):
    name = "Dagster"

    def __init__(self, work: Path, python: str):
        super().__init__(work)
        self.python = python

    def start(self) -> None:
        home, project = self.work / "home", self.work / "project"
        home.mkdir(parents=True)
        project.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        (project / "defs.py").write_text(DEFS.format(module="dagster"))
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")}
        env["DAGSTER_HOME"] = str(home)
        env["PATH"] = f"{Path(self.python).parent}:{env.get('PATH', '')}"
        self.proc = subprocess.Popen(
            [str(Path(self.python).parent / "dagster"), "dev", "-f", "defs.py", "-p", str(self.port)],
            cwd=project, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _launch(deployment: Deployment) -> tuple[str, float]:
    params = {"selector": deployment.selector(), "runConfigData": {}, "executionMetadata": {"tags": []}}
    sent = time.time()
    data = _graphql(deployment.port, LAUNCH, {"executionParams": params})["launchRun"]
    if data["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launchRun answered {data}")
    return data["run"]["runId"], sent


def _wait_finished(deployment: Deployment, run_ids: list[str], timeout: float = 900) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _graphql(deployment.port, RUNS, {"ids": run_ids})["runsOrError"]["results"]
        if len(runs) == len(run_ids) and all(r["status"] in FINISHED for r in runs):
            return {r["runId"]: r for r in runs}
        time.sleep(0.1)
    raise RuntimeError(f"{deployment.name}: runs not finished after {timeout} s")


def measure(deployment: Deployment, runs: int, verbose: bool = False) -> dict:
    deployment.start()
    try:
        deployment.wait_ready()
        time.sleep(3)  # let start-up settle (first schedules, code server warm-up)
        # warm-up run (not timed): first imports in the worker, first launch
        run_id, _ = _launch(deployment)
        _wait_finished(deployment, [run_id])

        sampler = MemorySampler(deployment.proc.pid)
        sampler.start()
        start = time.time()
        with ThreadPoolExecutor(max_workers=runs) as pool:
            launched = list(pool.map(lambda _: _launch(deployment), range(runs)))
        sent = dict(launched)
        finished = _wait_finished(deployment, list(sent))
        sampler.running = False
        sampler.join()
        ends = [finished[r]["endTime"] for r in sent]
        latencies = [finished[r]["endTime"] - sent[r] for r in sent]
        statuses = sorted({r["status"] for r in finished.values()})

        time.sleep(5)  # idle again
        idle = []
        for _ in range(3):
            run_id, at = _launch(deployment)
            done = _wait_finished(deployment, [run_id])[run_id]
            idle.append(done["endTime"] - at)
            time.sleep(2)
        if verbose:
            print(f"{deployment.name}: process tree at the peak ({sampler.peak / 2**20:.0f} MiB):")
            for size, _, command in sorted(sampler.breakdown, reverse=True):
                print(f"  {size / 2**20:7.1f} MiB  {command}")
            print(f"{deployment.name}: PSS at its peak ({sampler.peak_pss / 2**20:.0f} MiB), by kind of process:")
            by_kind: dict[str, list] = {}
            for _, size, command in sampler.pss_breakdown:
                entry = by_kind.setdefault(_kind(command), [0, 0])
                entry[0], entry[1] = entry[0] + 1, entry[1] + size
            for kind, (count, size) in sorted(by_kind.items(), key=lambda item: -item[1][1]):
                print(f"  {size / 2**20:7.1f} MiB  {count:4d} processes  {kind}")
            kinds = sampler.cpu_by_kind()
            print(f"{deployment.name}: CPU seconds during the burst (sampled every 100 ms; a process's last "
                  f"<100 ms is missed), total {sum(s for _, s in kinds.values()):.1f} s:")
            for kind, (count, seconds) in sorted(kinds.items(), key=lambda item: -item[1][1]):
                print(f"  {seconds:7.2f} s  {count:4d} processes  {kind}")
        return {
            "runs_per_min": runs / (max(ends) - start) * 60,
            "median_s": statistics.median(latencies),
            "max_s": max(latencies),
            "statuses": statuses,
            "idle_s": idle,
            "peak_mib": sampler.peak / 2**20,
            "peak_pss_mib": sampler.peak_pss / 2**20,
        }
    finally:
        deployment.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dagster-python", help="a Python with dagster, dagster-webserver and dagster-graphql")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", choices=["orchestra", "dagster"])
    parser.add_argument("--verbose", action="store_true", help="print the process tree at the memory peak")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (homes, logs, databases)")
    args = parser.parse_args()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-deployment-") as tmp:
        tmp = args.keep or tmp
        if args.only != "dagster":
            results["Orchestra"] = measure(OrchestraDev(Path(tmp) / "orchestra"), args.runs, args.verbose)
        note = None
        if args.only != "orchestra":
            if args.dagster_python and Path(args.dagster_python).exists() and \
                    (Path(args.dagster_python).parent / "dagster-webserver").exists():
                results["Dagster"] = measure(DagsterDev(Path(tmp) / "dagster", args.dagster_python), args.runs, args.verbose)
            else:
                note = ("Dagster not measured: pass --dagster-python pointing at a venv with dagster==1.13.29, "
                        "dagster-webserver and dagster-graphql.")

    names = list(results)
    rows = [
        (f"{args.runs} runs at once: runs/min", lambda r: f"{r['runs_per_min']:.1f}"),
        ("  median submit->SUCCESS", lambda r: f"{r['median_s']:.2f} s"),
        ("  slowest submit->SUCCESS", lambda r: f"{r['max_s']:.2f} s"),
        ("  final statuses", lambda r: ",".join(r["statuses"])),
        ("idle run submit->SUCCESS", lambda r: " / ".join(f"{v:.2f}" for v in r["idle_s"]) + " s"),
        ("peak RSS of the process tree", lambda r: f"{r['peak_mib']:.0f} MiB"),
        ("peak PSS of the process tree", lambda r: f"{r['peak_pss_mib']:.0f} MiB"),
    ]
    print(textwrap.dedent(f"""
        {'':32}""").rstrip() + "".join(f"{n:>24}" for n in names))
    for label, cell in rows:
        print(f"{label:32}" + "".join(f"{cell(results[n]):>24}" for n in names))
    if note:
        print(note)


if __name__ == "__main__":
    main()
