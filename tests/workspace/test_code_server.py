"""`orchestra code-server start` as a real process: health, snapshot, evaluations, partitions, errors as data."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from orchestra import __version__
from orchestra._core.snapshot.plain import canonical_json
from tests.workspace.conftest import start_code_server
from workspace.client import CodeServerRequestError, CodeServerUnavailable


def raw(server, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.client.url}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_health_names_the_location_and_carries_the_version(code_server):
    health = code_server.client.health()
    assert health["status"] == "ok" and health["loaded"] is True
    assert health["location_name"] == "defs.py"
    assert health["version"] == __version__ and health["api_version"] == 1
    assert health["pid"] == code_server.process.pid == code_server.info["pid"]
    assert health["server_id"] == code_server.info["server_id"]


def test_snapshot_lists_the_definitions(code_server):
    answer = code_server.client.snapshot()
    assert answer["error"] is None and answer["version"] == __version__
    snapshot = answer["snapshot"]
    assert snapshot["location_name"] == "defs.py" and snapshot["snapshot_id"]
    assert {j["name"] for j in snapshot["jobs"]} >= {"my_job", "regional_job"}
    assert [s["name"] for s in snapshot["schedules"]] == ["failing_schedule", "hourly"]
    assert [s["name"] for s in snapshot["sensors"]] == ["counting_sensor", "slow_sensor"]


def test_the_snapshot_document_is_the_snapshot_as_canonical_json(code_server):
    # what the host stores without decoding it: the same snapshot, its id and the server's in headers
    answer = code_server.client.snapshot()
    document = code_server.client.snapshot_document()
    assert json.loads(document.text) == answer["snapshot"]
    assert document.text == canonical_json(answer["snapshot"])
    assert document.snapshot_id == answer["snapshot"]["snapshot_id"]
    assert document.server_id == answer["server_id"] and document.version == __version__
    assert document.api_version == 1


def test_schedule_evaluation_at_a_given_time(code_server):
    when = dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC)
    answer = code_server.client.evaluate_schedule("hourly", when)
    assert answer["error"] is None and answer["skip_message"] is None
    [request] = answer["run_requests"]
    assert request["run_key"] == "2026-01-02T03:00:00+00:00"
    assert request["tags"] == {"team": "data", "dagster/schedule_name": "hourly"}
    assert answer["version"] == __version__


def test_schedule_accepts_iso_times_with_an_offset(code_server):
    _, answer = raw(code_server, "POST", "/schedules/hourly/evaluate", b'{"scheduled_time": "2026-01-02T04:00:00+01:00"}')
    assert answer["run_requests"][0]["run_key"] == "2026-01-02T03:00:00+00:00"


def test_a_failing_schedule_is_an_error_as_data_and_the_server_keeps_answering(code_server):
    answer = code_server.client.evaluate_schedule("failing_schedule", time.time())
    assert answer["run_requests"] == []
    error = answer["error"]
    assert error["cls_name"] == "ScheduleExecutionError"
    assert "failing_schedule" in error["message"]
    assert error["cause"]["cls_name"] == "ValueError" and "the schedule broke" in error["cause"]["message"]
    assert any("defs.py" in frame for frame in error["cause"]["stack"])
    assert code_server.client.health()["status"] == "ok"


def test_sensor_evaluation_takes_and_returns_the_cursor(code_server):
    answer = code_server.client.evaluate_sensor("counting_sensor", cursor="41", last_run_key="run-41",
                                                last_tick_time=time.time() - 30)
    assert answer["error"] is None and answer["cursor"] == "42"
    assert [r["run_key"] for r in answer["run_requests"]] == ["run-42"]
    assert answer["run_requests"][0]["tags"] == {"dagster/sensor_name": "counting_sensor"}


def test_a_slow_sensor_hits_the_timeout_with_a_clear_error(code_server):
    started = time.monotonic()
    answer = code_server.client.evaluate_sensor("slow_sensor", cursor="7", last_run_key=None, last_tick_time=None)
    assert time.monotonic() - started < 10
    assert answer["error"]["cls_name"] == "EvaluationTimeout"
    assert "did not finish within 2 seconds" in answer["error"]["message"]
    assert answer["cursor"] == "7" and answer["run_requests"] == []
    # The stuck thread does not block other questions, and a per-request timeout is honoured.
    assert code_server.client.evaluate_sensor("counting_sensor", cursor=None, last_run_key=None,
                                              last_tick_time=None)["cursor"] == "1"
    quick = code_server.client.evaluate_sensor("slow_sensor", cursor=None, last_run_key=None, last_tick_time=None,
                                               timeout=0.2)
    assert "within 0.2 seconds" in quick["error"]["message"]


def test_partition_keys_and_per_partition_config_and_tags(code_server):
    assert code_server.client.partition_keys("regional_job")["partition_keys"] == ["east", "west"]
    assert code_server.client.partition_keys("regional_job_partition_set")["job_name"] == "regional_job"
    east, west = code_server.client.partition_details("regional_job", ["east", "west"])["partitions"]
    assert east["run_config"] == {}
    assert east["tags"]["region"] == "east" and east["tags"]["dagster/partition"] == "east"
    assert west["error"]["cls_name"] == "RuntimeError" and "no config for the west" in west["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/sensors/nope/evaluate", b"{}", 404, "no sensor named 'nope' in code location 'defs.py'"),
        ("POST", "/schedules/nope/evaluate", b"{}", 404, "no schedule named 'nope'"),
        ("GET", "/partitions/my_job", None, 404, "job 'my_job' in code location 'defs.py' is not partitioned"),
        ("GET", "/partitions/nope", None, 404, "no job or partition set named 'nope'"),
        ("GET", "/nowhere", None, 404, "no such endpoint: GET /nowhere"),
        ("GET", "/sensors/counting_sensor/evaluate", None, 405, "use POST"),
        ("POST", "/sensors/counting_sensor/evaluate", b'{"cursor": 4}', 400, "'cursor' must be str or null, got 4"),
        ("POST", "/sensors/counting_sensor/evaluate", b'{"cursr": "4"}', 400, "unknown field(s): cursr"),
        ("POST", "/sensors/counting_sensor/evaluate", b'{"x', 400, "request body is not valid JSON"),
        ("POST", "/sensors/counting_sensor/evaluate", b"[1]", 400, "request body must be a JSON object, got list"),
        ("POST", "/schedules/hourly/evaluate", b'{"scheduled_time": "2026-01-02T03:00"}', 400,
         "'scheduled_time' must carry a UTC offset"),
        ("POST", "/schedules/hourly/evaluate", b'{"scheduled_time": "soon"}', 400,
         "'scheduled_time' must be a POSIX timestamp or an ISO 8601 time"),
        ("POST", "/schedules/hourly/evaluate", b'{"timeout": -1}', 400, "'timeout' must be a positive number"),
        ("GET", "/partitions/regional_job?keys=east", None, 400, "unknown query parameter(s): keys"),
    ],
)
def test_bad_questions_get_json_errors_naming_the_problem(code_server, method, path, body, status, message):
    code, answer = raw(code_server, method, path, body)
    assert code == status
    assert message in answer["error"]
    assert answer["version"] == __version__


def test_client_raises_request_errors_with_the_status(code_server):
    with pytest.raises(CodeServerRequestError) as caught:
        code_server.client.evaluate_sensor("nope", cursor=None, last_run_key=None, last_tick_time=None)
    assert caught.value.status == 404 and "no sensor named 'nope'" in str(caught.value)


def test_a_syntax_error_is_served_as_the_load_error(tmp_path):
    (tmp_path / "broken.py").write_text("import orchestra as dg\n\ndef oops(:\n    pass\n")
    server = start_code_server(tmp_path, "-f", str(tmp_path / "broken.py"), "--location-name", "broken")
    try:
        assert server.client.health()["loaded"] is False
        assert server.client.snapshot_document() is None  # 409: the envelope carries the error
        answer = server.client.snapshot()
        assert answer["snapshot"] is None and answer["location_name"] == "broken"
        error = answer["error"]
        assert error["cls_name"] == "DefinitionsLoadError"
        assert "broken.py" in error["message"] and "line 3" in error["message"]
        assert error["cause"]["cls_name"] == "SyntaxError"
        with pytest.raises(CodeServerRequestError) as caught:
            server.client.evaluate_sensor("any", cursor=None, last_run_key=None, last_tick_time=None)
        assert caught.value.status == 409 and caught.value.body["load_error"]["cls_name"] == "DefinitionsLoadError"
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_module_with_attribute_and_working_directory(tmp_path, defs_file):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "my_defs.py").write_text(defs_file.read_text())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = start_code_server(elsewhere, "-m", "pkg.my_defs", "-a", "defs", "-d", str(tmp_path))
    try:
        answer = server.client.snapshot()
        assert answer["error"] is None and answer["location_name"] == "pkg.my_defs:defs"
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_sigterm_stops_the_server(code_server):
    code_server.process.terminate()
    assert code_server.process.wait(10) == 0
    with pytest.raises(CodeServerUnavailable):
        code_server.client.health()


def test_exactly_one_code_pointer_is_required():
    result = subprocess.run([sys.executable, "-m", "orchestra", "code-server", "start", "-f", "a.py", "-m", "b"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "give exactly one of -f/--python-file, -m/--module-name or --package-name (got -f, -m)" in result.stderr


def test_the_code_server_imports_no_django():
    # The server runs in the user's environment: only the SDK may be loaded there.
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, orchestra._code_server.server, orchestra._cli.code_server; "
                               "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                               "('django', 'core', 'workspace', 'runs', 'celery')))"],
        capture_output=True, text=True, timeout=30,
    )
    assert probe.stdout.strip() == "[]", probe.stderr
