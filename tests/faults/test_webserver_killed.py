"""Fault scenario: the webserver is SIGKILLed in the middle of a burst of launches (issue #12, invariants 4-5).

A real webserver process (uvicorn) takes 30 submissions — GraphQL `launchRun` with the run tag
`orchestra/idempotency_key`, and REST `POST /api/runs` with the `Idempotency-Key` header — from
clients that retry until answered. It is killed mid-burst and started again on the same port.
Every key ends with exactly one run, and every client's answer names that run; each client also
sends its submission once more after its answer (a retry whose first answer was lost), which must
answer the same run.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from runs.models import Run, RunTag
from runs.services import IDEMPOTENCY_KEY_TAG
from tests.faults.processes import add_to_instance, free_port, record_figure, wait_http, webserver
from tests.runs.test_schema_mutations import LAUNCH_RUN, params
from tests.workspace.stored import store_location

SUBMISSIONS = 30


def _post(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _submit(base: str, index: int) -> str:
    """One submission, retried (same key) until a run is answered; answers its run id."""
    key = f"burst-{index}"
    while True:
        try:
            if index % 2:
                status, body = _post(f"{base}/api/runs", {"job_name": "etl", "location_name": "data",
                                                          "run_config": {"ops": {"emit": {"config": {"n": index}}}}},
                                     {"Idempotency-Key": key})
                if status == 201:
                    return body["run_id"]
            else:
                variables = params(run_config={"ops": {"emit": {"config": {"n": index}}}})
                variables["executionParams"]["executionMetadata"] = {"tags": [{"key": IDEMPOTENCY_KEY_TAG,
                                                                                "value": key}]}
                status, body = _post(f"{base}/graphql", {"query": LAUNCH_RUN, "variables": variables})
                result = (body.get("data") or {}).get("launchRun") or {}
                if status == 200 and result.get("__typename") == "LaunchRunSuccess":
                    return result["run"]["runId"]
                assert status >= 500 or not body, (status, body)  # only a dying server may fail a submission
        except (OSError, http.client.HTTPException, json.JSONDecodeError):
            pass  # refused, reset or cut short (IncompleteRead): the webserver is down; retry with the same key
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_webserver_killed_mid_burst_leaves_exactly_one_run_per_idempotency_key(child_home, tmp_path):
    store_location(tmp_path)
    add_to_instance(child_home, "run_queue:\n  max_concurrent_runs: 0\n")  # runs stay QUEUED: no daemon here
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = webserver(child_home, port, tmp_path / "webserver.log").start()
    wait_http(server, f"{base}/health")

    answers: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            time.sleep(0.02 * index)  # a burst spread over the kill
            first = _submit(base, index)
            again = _submit(base, index)  # a client whose first answer was lost sends it again
            answers[index] = [first, again]
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(SUBMISSIONS)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while Run.objects.count() < SUBMISSIONS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # mid-burst: some requests are in flight, some committed but unanswered
        killed_at = Run.objects.count()
        server = webserver(child_home, port, tmp_path / "webserver.log").start()
        wait_http(server, f"{base}/health")
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.stop()

    assert not errors, errors
    assert 0 < killed_at < SUBMISSIONS, f"the kill did not land mid-burst ({killed_at} runs then)"
    assert len(answers) == SUBMISSIONS
    keys = dict(RunTag.objects.filter(key=IDEMPOTENCY_KEY_TAG).values_list("value", "run__run_id"))
    record_figure("webserver killed mid-burst", runs=SUBMISSIONS, lost=SUBMISSIONS - len(keys),
                  duplicated=Run.objects.count() - len(keys))
    assert Run.objects.count() == SUBMISSIONS, "a submission became two runs (or none)"
    for index, (first, again) in answers.items():
        assert first == again == keys[f"burst-{index}"], index
