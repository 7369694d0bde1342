"""Compute logs through the run worker: every executor captures each step's output; REST and GraphQL read it back."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runs import compute_logs, selectors, services
from runs.models import RunStatus
from runs.services import EventInput
from tests.conftest import REPO, child_env

DEFS = textwrap.dedent(
    """
    import os
    import subprocess
    import sys
    import orchestra as dg

    @dg.op
    def first():
        print("first on stdout")
        print("first on stderr", file=sys.stderr)
        os.write(1, b"first raw \\xff\\xfe\\x1b[31m bytes\\n")
        subprocess.run(["echo", "first child echo"], check=True)
        return 1

    @dg.op
    def second(value):
        print("second on stdout " + "y" * 200_000)
        return value + 1

    @dg.job
    def talk():
        second(first())

    defs = dg.Definitions(jobs=[talk])
    """
)


@pytest.fixture
def code(tmp_path, child_home):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    # The child writes its compute logs where this (webserver) process reads them.
    base_dir = compute_logs.compute_log_manager().base_dir
    with open(child_home / "orchestra.yaml", "a") as f:
        f.write(f"compute_logs:\n  module: orchestra._core.compute_logs\n  class: LocalComputeLogManager\n"
                f"  config:\n    base_dir: {base_dir}\n")
    return tmp_path


def _execute(child_home, code, executor):
    origin = {"python_file": str(code / "code" / "defs.py"), "attribute": "defs"}
    run = services.run_create(job_name="talk", origin=origin,
                              run_config={"execution": {"config": {executor: {}}}})
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    proc = subprocess.run(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run", run.run_id],
        env=child_env(child_home), cwd=REPO, capture_output=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert selectors.run_get(run_id=run.run_id).status == RunStatus.SUCCESS
    return run.run_id, proc


def _captures(run_id):
    return selectors.events_after(run_id=run_id, event_types=["LOGS_CAPTURED"])


def _files(run_id, file_key):
    folder = compute_logs.compute_log_manager().base_dir
    out = open(f"{folder}/{run_id}/compute_logs/{file_key}.out", "rb").read()
    err = open(f"{folder}/{run_id}/compute_logs/{file_key}.err", "rb").read()
    return out, err


@pytest.mark.django_db(transaction=True)
def test_in_process_runs_capture_the_whole_process_under_one_file_key(child_home, code, client):
    run_id, proc = _execute(child_home, code, "in_process")
    [captured] = _captures(run_id)
    payload = captured.payload
    assert payload["step_keys"] == ["first", "second"] and len(payload["file_key"]) == 8
    assert {"external_url", "external_stdout_url", "external_stderr_url", "pid"} <= set(payload)
    assert captured.message.startswith("Started capturing logs in process (pid: ")
    out, err = _files(run_id, payload["file_key"])
    for line in (b"first on stdout\n", b"first raw \xff\xfe\x1b[31m bytes\n", b"first child echo\n",
                 b"second on stdout " + b"y" * 200_000 + b"\n"):
        assert line in out
    assert b"first on stderr\n" in err
    assert b"first child echo\n" in proc.stdout  # teed to the worker's own stdout

    # REST: read it all back in chunks with the byte cursor
    url = f"/api/runs/{run_id}/logs/{payload['file_key']}"
    text, cursor = "", 0
    while True:
        body = client.get(url, {"io": "stdout", "cursor": cursor, "limit": 65536}).json()
        text += body["data"]
        cursor = body["cursor"]
        if body["eof"]:
            break
    assert cursor == len(out) and text == out.decode("utf-8", "replace")
    assert "first raw \ufffd\ufffd\x1b[31m bytes" in text
    stderr = client.get(url, {"io": "stderr"}).json()
    assert "first on stderr\n" in stderr["data"] and stderr["eof"]
    listed = client.get(f"/api/runs/{run_id}/logs").json()
    assert listed == [{"file_key": payload["file_key"], "step_keys": ["first", "second"], "pid": payload["pid"]}]
    download = client.get(f"{url}/download", {"io": "stdout"})
    assert download.status_code == 200 and b"".join(download.streaming_content) == out


@pytest.mark.django_db(transaction=True)
def test_multiprocess_runs_capture_each_step_in_its_own_process(child_home, code, client):
    run_id, _ = _execute(child_home, code, "multiprocess")
    captures = _captures(run_id)
    by_step = {tuple(c.payload["step_keys"]): c.payload for c in captures}
    assert set(by_step) == {("first",), ("second",)}
    first_out, first_err = _files(run_id, by_step[("first",)]["file_key"])
    second_out, _ = _files(run_id, by_step[("second",)]["file_key"])
    assert b"first on stdout\n" in first_out and b"first child echo\n" in first_out
    assert b"first on stderr\n" in first_err
    assert b"second" not in first_out and b"first" not in second_out
    # each announced by its own step process, after the step worker started
    starts = {e.step_key: e.payload["pid"] for e in selectors.events_after(run_id=run_id, event_types=["STEP_START"])}
    assert by_step[("first",)]["pid"] == starts["first"] and by_step[("second",)]["pid"] == starts["second"]
    # a step key reads the capture that lists it
    body = client.get(f"/api/runs/{run_id}/logs/first", {"io": "stdout"}).json()
    assert "first on stdout\n" in body["data"] and "second" not in body["data"]


LOGS_QUERY = """
query Logs($logKey: [String!]!, $cursor: String, $limit: Int) {
  capturedLogs(logKey: $logKey, cursor: $cursor, limit: $limit) { logKey stdout stderr cursor }
  capturedLogsMetadata(logKey: $logKey) { stdoutDownloadUrl stdoutLocation stderrDownloadUrl stderrLocation }
}
"""


EVENTS_QUERY = """
query Events($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection { events { __typename ... on LogsCapturedEvent { fileKey logKey stepKeys pid } } }
  }
}
"""


def _gql(client, variables):
    response = client.post("/graphql", json.dumps({"query": LOGS_QUERY, "variables": variables}),
                           content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_graphql_reads_captured_logs_with_dagsters_fields_and_cursor(child_home, code, client):
    run_id, _ = _execute(child_home, code, "in_process")
    [captured] = _captures(run_id)
    log_key = [run_id, "compute_logs", captured.payload["file_key"]]
    out, err = _files(run_id, log_key[2])
    status, body = _gql(client, {"logKey": log_key, "limit": 10})
    assert status == 200, body
    logs = body["data"]["capturedLogs"]
    assert logs["logKey"] == log_key and logs["stdout"] == out[:10].decode() and logs["cursor"] == f"10:{min(10, len(err))}"
    status, body = _gql(client, {"logKey": log_key, "cursor": logs["cursor"]})
    rest = body["data"]["capturedLogs"]
    assert rest["stdout"] == out[10:].decode("utf-8", "replace") and rest["cursor"] == f"{len(out)}:{len(err)}"
    events = client.post("/graphql", json.dumps({"query": EVENTS_QUERY, "variables": {"runId": run_id}}),
                         content_type="application/json").json()["data"]["logsForRun"]["events"]
    [event] = [e for e in events if e["__typename"] == "LogsCapturedEvent"]
    assert event["fileKey"] == event["logKey"] == log_key[2] and event["stepKeys"] == ["first", "second"]
    metadata = body["data"]["capturedLogsMetadata"]
    assert metadata["stdoutLocation"].endswith(f"/{run_id}/compute_logs/{log_key[2]}.out")
    download = client.get(metadata["stderrDownloadUrl"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == err


TRAVERSALS = ["..", "../../etc/passwd", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%2f..%2fsecret",
              "%2fetc%2fpasswd", "a%00b", "..%5c..%5cwindows"]


@pytest.mark.django_db
@pytest.mark.parametrize("file_key", TRAVERSALS)
def test_rest_refuses_file_keys_that_are_not_plain_names(client, file_key):
    run = services.run_create(job_name="talk", origin={})
    response = client.get(f"/api/runs/{run.run_id}/logs/{file_key}", {"io": "stdout"})
    assert response.status_code == 400, response.content
    assert "is not a plain name" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"io": "../stdout"}, {"io": "stdin"}, {"cursor": -5}, {"limit": 0},
                                   {"limit": 10**9}, {"io": "stdout\x00"}])
def test_rest_refuses_bad_io_types_cursors_and_limits(client, query):
    run = services.run_create(job_name="talk", origin={})
    response = client.get(f"/api/runs/{run.run_id}/logs/abcdefgh", query)
    assert response.status_code == 400, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("run_id", ["..", "%2e%2e", "a%00b", "nope"])
def test_rest_answers_unknown_or_hostile_run_ids_with_4xx(client, run_id):
    response = client.get(f"/api/runs/{run_id}/logs/abcdefgh")
    assert response.status_code == (404 if run_id == "nope" else 400), response.content
    assert client.get(f"/api/runs/{run_id}/logs").status_code in (400, 404)


@pytest.mark.django_db
def test_a_capture_not_started_reads_empty_and_not_at_eof(client):
    run = services.run_create(job_name="talk", origin={})
    body = client.get(f"/api/runs/{run.run_id}/logs/abcdefgh", {"cursor": 3}).json()
    assert body == {"data": "", "cursor": 3, "eof": False}
    assert client.get(f"/api/runs/{run.run_id}/logs/abcdefgh/download").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("log_key", [["..", "compute_logs", "k"], ["r", "..", "k"], ["r", "compute_logs", "../../x"],
                                     ["/etc", "passwd"], ["r", "compute_logs", "a\x00b"], []])
def test_graphql_refuses_hostile_log_keys_with_400(client, log_key):
    status, body = _gql(client, {"logKey": log_key})
    assert status == 400, body
    assert "not a plain name" in body["errors"][0]["message"] or "non-empty" in body["errors"][0]["message"]


@pytest.mark.django_db
def test_graphql_refuses_a_malformed_cursor(client):
    status, body = _gql(client, {"logKey": ["r", "compute_logs", "k"], "cursor": "x:y"})
    assert status == 400 and "cursor" in body["errors"][0]["message"]


@pytest.mark.django_db
def test_a_tail_ends_when_the_run_finishes_even_if_its_capture_was_never_completed(client):
    # a step process killed with SIGKILL leaves its files without the `.complete` marker
    run = services.run_create(job_name="talk", origin={})
    path = Path(compute_logs.compute_log_manager().base_dir) / run.run_id / "compute_logs"
    path.mkdir(parents=True)
    (path / "killedxx.out").write_bytes(b"last words\n")
    url = f"/api/runs/{run.run_id}/logs/killedxx"
    assert client.get(url).json() == {"data": "last words\n", "cursor": 11, "eof": False}
    services.event_store(run_id=run.run_id, events=[EventInput(event_type=t) for t in
                                                    ("RUN_STARTING", "RUN_START", "RUN_FAILURE")])
    assert selectors.run_get(run_id=run.run_id).status == RunStatus.FAILURE
    assert client.get(url).json() == {"data": "last words\n", "cursor": 11, "eof": True}
    assert client.get(url, {"cursor": 5}).json() == {"data": "words\n", "cursor": 11, "eof": True}
    assert client.get(f"/api/runs/{run.run_id}/logs/nevercap").json()["eof"] is True
