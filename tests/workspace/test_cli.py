"""`orchestra definitions validate` and `orchestra workspace load` as a user runs them (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, child_env
from tests.workspace.conftest import DEFS


def orchestra(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestra", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_validate_a_good_file(tmp_path, defs_file):
    result = orchestra("definitions", "validate", "-f", str(defs_file), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Validation successful for code location defs.py." in result.stdout


def test_validate_prints_a_syntax_error_with_its_file_and_line(tmp_path):
    (tmp_path / "broken.py").write_text("import orchestra as dg\n\n\ndef oops(:\n    pass\n")
    result = orchestra("definitions", "validate", "-f", "broken.py", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'broken.py'}:4: " in result.stderr and "SyntaxError" in result.stderr


def test_validate_points_at_the_user_line_that_raised(tmp_path):
    (tmp_path / "raising.py").write_text("import orchestra as dg\n\n\ndef build():\n    raise KeyError('boom')\n\n\nbuild()\n")
    result = orchestra("definitions", "validate", "-f", "raising.py", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'raising.py'}:5: KeyError: 'boom'" in result.stderr


def test_validate_a_workspace_checks_every_location_and_fails_if_one_does(tmp_path, defs_file):
    (tmp_path / "broken.py").write_text("import orchestra as dg\nraise RuntimeError('no')\n")
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n  - python_file: defs.py\n  - python_file: broken.py\n  - code_server: {port: 4999}\n"
    )
    result = orchestra("definitions", "validate", "-w", "workspace.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Validation successful for code location defs.py." in result.stdout
    assert "Skipping code location grpc:localhost:4999" in result.stdout
    assert "Validation failed for code location broken.py:" in result.stderr
    assert f"{tmp_path / 'broken.py'}:2: RuntimeError: no" in result.stderr


def test_validate_refuses_a_bad_workspace_file(tmp_path):
    (tmp_path / "workspace.yaml").write_text("load_from:\n  - python_file: {relative_path: a.py, nme: x}\n")
    result = orchestra("definitions", "validate", "-w", "workspace.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "load_from.0.python_file.nme: unknown key" in result.stderr


def test_validate_needs_exactly_one_target(tmp_path):
    assert orchestra("definitions", "validate", cwd=tmp_path).returncode == 2
    assert orchestra("definitions", "validate", "-f", "a.py", "-m", "b", cwd=tmp_path).returncode == 2


@pytest.mark.django_db(transaction=True)
def test_workspace_load_stores_and_prints_every_location(tmp_path, child_home):
    (tmp_path / "defs.py").write_text(DEFS)
    (tmp_path / "workspace.yaml").write_text("load_from:\n  - python_file: defs.py\n")
    env = child_env(child_home)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", "from orchestra._cli import main; main()", "workspace", "load",
                             "-w", str(tmp_path / "workspace.yaml")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("defs.py: LOADED (127.0.0.1:")
    from workspace.models import CodeLocation, LocationStatus

    assert CodeLocation.objects.get(name="defs.py").status == LocationStatus.LOADED


def test_workspace_load_without_a_workspace_says_so(tmp_path, child_home):
    env = child_env(child_home)
    result = subprocess.run([sys.executable, "-c", "import os; os.chdir(os.environ['WHERE']); "
                             "from orchestra._cli import main; main()", "workspace", "load"],
                            cwd=REPO, env={**env, "WHERE": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "no workspace: give -w FILE" in result.stderr


def test_help_lists_the_new_commands(tmp_path):
    result = orchestra("--help", cwd=tmp_path, env={**os.environ})
    assert {"code-server", "definitions", "workspace"} <= {line.split()[0] for line in result.stdout.splitlines()
                                                           if line.startswith("  ")}
