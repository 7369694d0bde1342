"""`orchestra daemon` as real processes: beat and a daemon-queue worker heartbeat; SIGTERM stops both."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.cli.test_webserver_cli import orchestra, stop
from tests.conftest import REPO, child_env
from tests.e2e.test_dev_flow import alive, descendants


@pytest.mark.django_db(transaction=True)
def test_daemon_runs_beat_and_a_worker_whose_duties_heartbeat(child_home):
    from runs.models import DaemonHeartbeat

    daemon = orchestra(child_home, "daemon", "--concurrency", "1")
    try:
        deadline = time.monotonic() + 120
        # Run monitoring is a beat entry every 10 s, executed by the daemon-queue worker.
        while not DaemonHeartbeat.objects.filter(daemon_type="MONITORING").exists():
            assert daemon.poll() is None, stop(daemon)
            assert time.monotonic() < deadline, f"no MONITORING heartbeat:\n{stop(daemon)}"
            time.sleep(0.5)
        tree = descendants(daemon.pid)
        assert len(tree) >= 3  # the command, the worker (and its pool), beat

        info = subprocess.run([sys.executable, "-m", "orchestra", "instance", "info"], env=child_env(child_home),
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert info.returncode == 0, info.stderr
        daemons = {d["type"]: d for d in yaml.safe_load(info.stdout)["daemons"]}
        assert daemons["MONITORING"]["required"] is True and daemons["MONITORING"]["healthy"] is True
        assert daemons["MONITORING"]["last_heartbeat"]
        assert daemons["SCHEDULER"]["required"] is True
        assert "QUEUED_RUN_COORDINATOR" not in daemons  # not required with the default coordinator, no heartbeat

        daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)
        output = daemon.stdout.read().decode(errors="replace")
    finally:
        stop(daemon)
    assert daemon.returncode == 0, output
    assert "worker on daemon and beat" in output and "SIGTERM received; stopping everything" in output
    deadline = time.monotonic() + 5
    while alive(tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive(tree) == set()


def test_daemon_refuses_a_bad_configuration_before_starting_anything(tmp_path):
    (tmp_path / "orchestra.yaml").write_text("run_queue:\n  max_concurrent_runs: many\n")
    proc = orchestra(tmp_path, "daemon")
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 2
    assert "run_queue.max_concurrent_runs: got 'many'; expected an integer" in output
    assert "worker started" not in output


def test_daemon_refuses_an_empty_queue_list(tmp_path):
    proc = orchestra(tmp_path, "daemon", "--queues", " , ")
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 2
    assert "expected a comma-separated list of queue names" in output
