"""`orchestra daemon`: Celery beat and a worker on the daemon queue, as children of one command.

The commands of the long-running processes live here too, so `orchestra dev` starts the same ones.
Both supervise their children with `supervise` (no shell, no helper process per child, unlike
honcho): output is prefixed by process name, and Ctrl-C or SIGTERM stops every child (and the
command exits when any child does).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence

import click

from orchestra._cli import cli
from orchestra._cli.server import run_system_checks, setup_django

DAEMON_QUEUE = "daemon"
KNOWN_QUEUES = ("daemon", "runs", "steps")
# A Celery worker's warm shutdown takes 3-5 s even when idle; whatever is left after this is killed.
SHUTDOWN_GRACE_SECONDS = 10
CELERY_WORKERS = ("worker",)  # process names whose Celery worker gets SIGTERM alone


def celery_worker_command(*, queues: Sequence[str], concurrency: int, name: str,
                          embedded_beat: bool = False) -> list[str]:
    """A Celery worker consuming `queues` (the default `celery` queue too, for tasks sent without one).

    `embedded_beat` runs beat inside the worker (`-B`: a process forked from the worker's main
    process, stopped by its warm shutdown), for `orchestra dev`, the one-daemon shape; it shares the
    worker's pages instead of loading Django a second time (~90 MiB). `orchestra daemon` keeps beat a
    process of its own, so extra daemons can run without one (`--no-beat`).
    """
    queue_list = ",".join(dict.fromkeys([*queues, "celery"]))
    return [sys.executable, "-m", "celery", "-A", "orchestra_site", "-q", "worker", "-Q", queue_list,
            "-c", str(concurrency), "-l", "warning", "-n", f"{name}@%h", *(["-B"] if embedded_beat else [])]


def celery_beat_command() -> list[str]:
    """Celery beat with django-celery-beat's DatabaseScheduler (the settings' CELERY_BEAT_SCHEDULER)."""
    return [sys.executable, "-m", "celery", "-A", "orchestra_site", "-q", "beat", "-l", "warning"]


def supervise(processes: Mapping[str, list[str]], env: Mapping[str, str]) -> int:
    """Run each command as a child in its own process group, its output prefixed with its name.

    Returns when every child has ended: on Ctrl-C or SIGTERM, or as soon as any child exits, the
    others are asked to stop (SIGTERM: a Celery worker alone, so its warm shutdown stops its own pool;
    anything else with its whole group) and whatever is left after a grace period is killed by group.
    The exit code is the first child's to exit on its own, or 0 after an interrupt.
    """
    width = max(len(name) for name in processes)
    write_lock = threading.Lock()
    children: dict[str, subprocess.Popen] = {}

    def say(name: str, line: str) -> None:
        with write_lock:
            sys.stdout.write(f"{time.strftime('%H:%M:%S')} {name:<{width}} | {line}")
            sys.stdout.flush()

    def pump(name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            say(name, raw.decode(errors="replace").rstrip("\n") + "\n")

    stop = threading.Event()
    interrupted: list[int] = []

    def on_signal(signum, _frame) -> None:
        interrupted.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    threads = []
    try:
        for name, command in processes.items():  # from this (main) thread: it lives as long as the supervisor
            proc = subprocess.Popen(command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=_die_with(os.getpid(), _death_signal(name)))
            children[name] = proc
            say("system", f"{name} started (pid {proc.pid})\n")
            thread = threading.Thread(target=pump, args=(name, proc.stdout), daemon=True)
            thread.start()
            threads.append(thread)
        first_exit: tuple[str, int] | None = None
        while not stop.is_set():
            for name, proc in children.items():
                if proc.poll() is not None:
                    first_exit = (name, proc.returncode)
                    stop.set()
                    break
            stop.wait(0.2)
        if first_exit is not None:
            say("system", f"{first_exit[0]} exited ({first_exit[1]}); stopping the others\n")
        else:
            say("system", f"{signal.Signals(interrupted[0]).name} received; stopping everything\n")
    finally:
        _stop_all(children, say)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for thread in threads:
        thread.join(timeout=2)
    if first_exit is not None:
        return first_exit[1] or 1
    return 0


def supervise_in_lean_process(processes: Mapping[str, list[str]], env: Mapping[str, str]) -> None:
    """`supervise` in place of this process, without the Django it loaded to check and migrate.

    The process keeps its pid (Ctrl-C and whoever waits for it reach the supervisor) but drops about
    85 MiB: the supervisor imports only this module. Never returns.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    wanted = dict(env)  # `env` may be os.environ itself
    os.environ.clear()
    os.environ.update(wanted)  # handed over by exec, not on the command line anyone can read
    os.execv(sys.executable, [sys.executable, "-m", "orchestra._cli.daemon", "supervise", json.dumps(dict(processes))])


def _death_signal(name: str) -> int:
    """What a child gets when the supervisor dies: a Celery worker SIGTERM (its warm shutdown stops its
    pool); anything else SIGKILL, which no busy loop or lock wait can delay (a beat waiting on a locked
    SQLite database ignored SIGTERM for minutes). Their own children (code servers, run workers) watch
    their parent and stop with it."""
    return signal.SIGTERM if name in CELERY_WORKERS else signal.SIGKILL


def _die_with(parent: int, death_signal: int):
    """A `preexec_fn` making the child get `death_signal` when the supervisor dies, even by SIGKILL
    (Linux's PR_SET_PDEATHSIG, kept across exec): a killed supervisor leaves no webserver, worker or code
    server behind. Elsewhere the children outlive a killed supervisor (its SIGTERM handler still stops
    them)."""

    def set_parent_death_signal() -> None:
        if sys.platform.startswith("linux"):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, death_signal)  # 1 = PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the supervisor died before the signal was armed
                os._exit(1)

    return set_parent_death_signal


def _stop_all(children: Mapping[str, subprocess.Popen], say) -> None:
    for name, proc in children.items():
        if proc.poll() is None:
            try:
                if name in CELERY_WORKERS:
                    os.kill(proc.pid, signal.SIGTERM)
                else:
                    os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    for name, proc in children.items():
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say("system", f"{name} did not stop in {SHUTDOWN_GRACE_SECONDS} s; killing it\n")
        if proc.poll() is not None:
            say("system", f"{name} stopped\n")
    for proc in children.values():  # the group: pool processes, run workers started in it, a late child
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def parse_queues(value: str) -> list[str]:
    queues = [q.strip() for q in value.split(",") if q.strip()]
    if not queues:
        raise click.BadParameter(f"expected a comma-separated list of queue names (e.g. daemon,runs,steps), got {value!r}")
    return queues


@cli.command()
@click.option("-Q", "--queues", default=DAEMON_QUEUE, show_default=True,
              help="Comma-separated queues the worker consumes: daemon, and runs/steps to also execute runs "
                   "(Celery run launcher) and steps (Celery executor) on this machine.")
@click.option("-c", "--concurrency", default=2, show_default=True, type=click.IntRange(min=1),
              help="Worker processes of the Celery worker.")
@click.option("--beat/--no-beat", default=True, show_default=True,
              help="Also run Celery beat. Run exactly one beat per deployment; start extra daemons with --no-beat.")
def daemon(queues: str, concurrency: int, beat: bool) -> None:
    """Run the daemon: Celery beat (schedules, sensors, run queue, monitoring) and a daemon-queue worker."""
    queue_list = parse_queues(queues)
    setup_django()  # refuses a bad orchestra.yaml with every mistake before any child starts
    run_system_checks()
    from django.conf import settings

    # Node names must be unique per host (Celery's DuplicateNodenameWarning, and remote control replies
    # that cannot be told apart), and several daemons may run on one host: the supervisor's pid tells them apart.
    processes = {"worker": celery_worker_command(queues=queue_list, concurrency=concurrency,
                                                 name=f"daemon-{os.getpid()}")}
    if beat:
        processes["beat"] = celery_beat_command()
    env = dict(os.environ)
    env["ORCHESTRA_HOME"] = str(settings.INSTANCE.home)
    click.echo(
        f"Orchestra daemon (home: {settings.INSTANCE.home}): worker on {','.join(queue_list)}"
        f"{' and beat' if beat else ''}. Ctrl-C stops it."
    )
    supervise_in_lean_process(processes, env)


if __name__ == "__main__" and sys.argv[1:2] == ["supervise"]:  # see supervise_in_lean_process
    sys.exit(supervise(json.loads(sys.argv[2]), os.environ))
