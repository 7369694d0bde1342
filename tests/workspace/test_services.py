"""Storing locations: the workspace applied, snapshots and load errors stored, reload of one location."""

from __future__ import annotations

import os
import signal
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.exceptions import NotFound
from tests.workspace.conftest import DEFS, start_code_server
from workspace.config import LocationEntry, load_workspace_file
from workspace.models import CodeLocation, LocationStatus
from workspace.selectors import loaded_snapshots, location_get, location_list, location_snapshot
from workspace.services import location_load, location_reload, workspace_apply, workspace_start

pytestmark = pytest.mark.django_db(transaction=True)  # the supervisor's threads write with their own connections


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def workspace_dir(tmp_path) -> Path:
    (tmp_path / "defs.py").write_text(DEFS)
    (tmp_path / "broken.py").write_text("import orchestra as dg\n\ndef oops(:\n    pass\n")
    (tmp_path / "other.py").write_text(
        "import orchestra as dg\n\n@dg.op\ndef step():\n    pass\n\n@dg.job\ndef other_job():\n    step()\n"
    )
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n  - python_file: defs.py\n  - python_file: {relative_path: broken.py, location_name: broken}\n"
        "  - python_file: other.py\n  - python_file: {relative_path: defs.py, location_name: elsewhere, "
        "executable_path: /nowhere/python}\n"
    )
    return tmp_path


@pytest.fixture
def running(workspace_dir):
    supervisor = workspace_start(entries=load_workspace_file(workspace_dir / "workspace.yaml"), startup_timeout=30)
    yield supervisor
    supervisor.stop()


def test_start_stores_each_locations_snapshot_or_its_error(running):
    by_name = {loc.name: loc for loc in CodeLocation.objects.all()}
    assert set(by_name) == {"defs.py", "broken", "other.py", "elsewhere"}

    good = by_name["defs.py"]
    assert good.status == LocationStatus.LOADED and good.load_error is None
    assert good.snapshot_id == good.snapshot["snapshot_id"]
    assert {s["name"] for s in good.snapshot["sensors"]} == {"counting_sensor", "slow_sensor"}
    assert good.server["host"] == "127.0.0.1" and good.server["pid"] == running.servers["defs.py"].info["pid"]
    assert good.server["version"] and good.origin["python_file"].endswith("defs.py")

    broken = by_name["broken"]
    assert broken.status == LocationStatus.ERROR and broken.snapshot is None
    assert broken.load_error["cls_name"] == "DefinitionsLoadError"
    assert broken.load_error["cause"]["cls_name"] == "SyntaxError" and "broken.py" in broken.load_error["message"]
    assert running.servers["broken"].alive()  # a broken location is served as an error, not a crash

    missing = by_name["elsewhere"]
    assert missing.status == LocationStatus.ERROR
    assert missing.load_error["cls_name"] == "CodeServerStartError"
    assert "executable_path '/nowhere/python' does not exist" in missing.load_error["message"]

    assert by_name["other.py"].status == LocationStatus.LOADED


def test_selectors_read_the_stored_state(running):
    assert [loc.name for loc in location_list()] == ["broken", "defs.py", "elsewhere", "other.py"]
    assert location_snapshot(name="broken") is None
    assert location_snapshot(name="defs.py")["location_name"] == "defs.py"
    assert set(loaded_snapshots()) == {"defs.py", "other.py"}
    with pytest.raises(NotFound):
        location_get(name="nope")


def test_a_killed_server_is_restarted_and_its_location_updated(running):
    before = CodeLocation.objects.get(name="defs.py").server
    os.kill(before["pid"], signal.SIGKILL)
    after = wait_for(lambda: (s := CodeLocation.objects.get(name="defs.py").server)["pid"] != before["pid"] and s)
    assert after["restarts"] == 1 and after["server_id"] != before["server_id"]
    assert CodeLocation.objects.get(name="defs.py").status == LocationStatus.LOADED


def test_reload_picks_up_a_changed_file_and_leaves_the_others_alone(running, workspace_dir):
    other_before = CodeLocation.objects.get(name="other.py")
    old_id = CodeLocation.objects.get(name="defs.py").snapshot_id
    (workspace_dir / "defs.py").write_text(DEFS.replace("def hourly(", "def every_hour(").replace(
        "schedules=[hourly,", "schedules=[every_hour,"))
    location = location_reload(name="defs.py", supervisor=running)
    assert location.status == LocationStatus.LOADED and location.snapshot_id != old_id
    assert "every_hour" in {s["name"] for s in location.snapshot["schedules"]}
    other_after = CodeLocation.objects.get(name="other.py")
    assert (other_after.updated_at, other_after.server) == (other_before.updated_at, other_before.server)


def test_reload_of_code_that_broke_shows_the_error_while_the_others_keep_working(running, workspace_dir):
    (workspace_dir / "defs.py").write_text("import orchestra as dg\nraise RuntimeError('config missing')\n")
    location = location_reload(name="defs.py", supervisor=running)
    assert location.status == LocationStatus.ERROR and location.snapshot is None
    assert "config missing" in location.load_error["message"]
    assert CodeLocation.objects.get(name="other.py").status == LocationStatus.LOADED
    # ...and a later fix is picked up by the next reload.
    (workspace_dir / "defs.py").write_text(DEFS)
    assert location_reload(name="defs.py", supervisor=running).status == LocationStatus.LOADED


def test_reload_refuses_unknown_names(running):
    with pytest.raises(NotFound):
        location_reload(name="nope", supervisor=running)


def test_a_reload_asked_for_elsewhere_is_served_by_the_supervisor(running, workspace_dir):
    # A webserver replica or the admin has no supervisor: the request goes through the database.
    before = CodeLocation.objects.get(name="defs.py")
    other_before = CodeLocation.objects.get(name="other.py").server
    (workspace_dir / "defs.py").write_text(DEFS.replace("def hourly(", "def every_hour(").replace(
        "schedules=[hourly,", "schedules=[every_hour,"))
    requested = location_reload(name="defs.py")
    assert requested.status == LocationStatus.LOADING and requested.reload_requested_at is not None
    reloaded = wait_for(lambda: (loc := CodeLocation.objects.get(name="defs.py")).status == LocationStatus.LOADED
                        and loc.server["pid"] != before.server["pid"] and loc)
    assert "every_hour" in {s["name"] for s in reloaded.snapshot["schedules"]}
    time.sleep(1.5)  # served once: the restarted server is newer than the request
    assert CodeLocation.objects.get(name="defs.py").server["pid"] == reloaded.server["pid"]
    assert CodeLocation.objects.get(name="other.py").server == other_before


def test_location_reload_command_waits_for_the_outcome(running):
    out = StringIO()
    call_command("location_reload", "defs.py", "--wait", stdout=out)
    assert out.getvalue() == "defs.py: LOADED\n"
    with pytest.raises(CommandError, match="code location 'nope' not found"):
        call_command("location_reload", "nope")


def test_admin_action_requests_a_reload(running, admin_client):
    before = CodeLocation.objects.get(name="other.py").server["pid"]
    location_id = CodeLocation.objects.get(name="other.py").pk
    response = admin_client.post("/admin/workspace/codelocation/",
                                 {"action": "reload", "_selected_action": [location_id]}, follow=True)
    assert response.status_code == 200 and b"Reload requested for 1 location(s)." in response.content
    wait_for(lambda: CodeLocation.objects.get(name="other.py").server["pid"] != before)


def test_a_code_server_run_elsewhere_is_loaded_and_reloaded(tmp_path, defs_file):
    server = start_code_server(tmp_path, "-f", str(defs_file), "--location-name", "remote")
    try:
        entry = LocationEntry(name="remote", kind="code_server", host="127.0.0.1", port=server.info["port"])
        workspace_apply(entries=[entry])
        location = location_load(entry=entry)
        assert location.status == LocationStatus.LOADED and location.server["port"] == server.info["port"]
        # the server reports where its code is, so run workers can load the same job
        assert location.origin["python_file"] == os.path.abspath(defs_file)
        assert location.origin["executable_path"] == sys.executable
        assert (location.origin["kind"], location.origin["host"]) == ("code_server", "127.0.0.1")
        assert location_reload(name="remote").snapshot_id == location.snapshot_id
        server.process.terminate()
        server.process.wait(10)
        gone = location_reload(name="remote")
        assert gone.status == LocationStatus.ERROR and gone.load_error["cls_name"] == "CodeServerUnavailable"
    finally:
        if server.process.poll() is None:
            server.process.kill()


def test_apply_adds_updates_and_removes_locations():
    a = LocationEntry(name="a", kind="python_module", module_name="a")
    b = LocationEntry(name="b", kind="python_module", module_name="b")
    workspace_apply(entries=[a, b])
    CodeLocation.objects.filter(name="a").update(status=LocationStatus.LOADED)
    moved = LocationEntry(name="a", kind="python_module", module_name="a2")
    locations = workspace_apply(entries=[moved])
    assert [loc.name for loc in locations] == ["a"]
    assert list(CodeLocation.objects.values_list("name", "status")) == [("a", LocationStatus.LOADING)]
    assert CodeLocation.objects.get(name="a").origin["module_name"] == "a2"


def test_workspace_load_command_prints_each_locations_status(workspace_dir):
    out = StringIO()
    call_command("workspace_load", "-w", str(workspace_dir / "workspace.yaml"), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("broken: ERROR — DefinitionsLoadError")
    assert lines[1].startswith("defs.py: LOADED (127.0.0.1:")
    assert lines[2].startswith("elsewhere: ERROR — CodeServerStartError")


def test_workspace_load_command_refuses_a_bad_workspace(tmp_path):
    (tmp_path / "workspace.yaml").write_text("load_from:\n  - python_files: a.py\n")
    with pytest.raises(CommandError, match="unknown entry type 'python_files'"):
        call_command("workspace_load", "-w", str(tmp_path / "workspace.yaml"))


def test_a_snapshot_with_text_beyond_ascii_is_stored_and_read_back_as_sent(tmp_path):
    # the code server's canonical JSON keeps such characters as UTF-8 (not \u escapes); the database
    # must store the document as sent and give back the same snapshot
    (tmp_path / "unicode_defs.py").write_text(
        'import orchestra as dg\n\n'
        '@dg.asset(description="Données — ünïcode ✓ \\U0001f600", metadata={"équipe": "naïve ☃"})\n'
        'def cafe():\n    return 1\n\n'
        'defs = dg.Definitions(assets=[cafe])\n', encoding="utf-8")
    server = start_code_server(tmp_path, "-f", str(tmp_path / "unicode_defs.py"), "--location-name", "unicode")
    try:
        document = server.client.snapshot_document()
        assert "Données — ünïcode ✓ \U0001f600" in document.text
        entry = LocationEntry(name="unicode", kind="code_server", host="127.0.0.1", port=server.info["port"])
        workspace_apply(entries=[entry])
        location = location_load(entry=entry)
        assert location.status == LocationStatus.LOADED and location.snapshot_id == document.snapshot_id
        stored = location_snapshot(name="unicode")
        assert stored == server.client.snapshot()["snapshot"]
        node = next(n for n in stored["asset_nodes"] if n["key"] == ["cafe"])
        assert node["description"] == "Données — ünïcode ✓ \U0001f600"
        assert node["metadata"] == [{"label": "équipe", "type": "text", "data": "naïve ☃"}]
    finally:
        server.process.terminate()
        server.process.wait(10)
