"""`orchestra instance info|migrate` as a user runs them: real processes, a real home."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import yaml

from tests.conftest import REPO


def _orchestra(home, *args):
    env = dict(os.environ, ORCHESTRA_HOME=str(home))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", "from orchestra._cli import main; main()", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_info_prints_resolved_configuration_with_secrets_masked(tmp_path):
    (tmp_path / "orchestra.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql://orc:topsecret@db.example/orc\n"
    )
    result = _orchestra(tmp_path, "instance", "info")
    assert result.returncode == 0, result.stderr
    info = yaml.safe_load(result.stdout)
    assert info["home"] == str(tmp_path)
    assert info["database"]["engine"] == "postgresql"
    assert "topsecret" not in result.stdout


def test_info_refuses_a_bad_file_with_the_problem(tmp_path):
    (tmp_path / "orchestra.yaml").write_text("run_queue:\n  max_concurrent_runs: many\n")
    result = _orchestra(tmp_path, "instance", "info")
    assert result.returncode == 2
    assert "run_queue.max_concurrent_runs: got 'many'; expected an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_creates_the_schema_in_a_new_home(tmp_path):
    home = tmp_path / "new-home"
    result = _orchestra(home, "instance", "migrate")
    assert result.returncode == 0, result.stderr
    tables = {r[0] for r in sqlite3.connect(home / "orchestra.sqlite3").execute("select name from sqlite_master")}
    assert {"runs_run", "runs_eventlogentry", "workspace_codelocation", "django_celery_beat_periodictask"} <= tables
    journal = sqlite3.connect(home / "orchestra.sqlite3").execute("pragma journal_mode").fetchone()[0]
    assert journal == "wal"


def test_migrate_refuses_an_unimportable_component(tmp_path):
    (tmp_path / "orchestra.yaml").write_text("run_launcher: {module: nowhere_at_all, class: L}\n")
    result = _orchestra(tmp_path, "instance", "migrate")
    assert result.returncode == 2
    assert "nowhere_at_all" in result.stderr
