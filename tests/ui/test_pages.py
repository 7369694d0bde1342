"""The server-rendered UI: every page renders from real stored data, actions change state, lists stay at a
constant number of queries, and strings from user code, tags and logs are escaped."""

from __future__ import annotations

import os
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from runs import compute_logs, services
from runs.models import Run, RunStatus
from runs.services import EventInput
from scheduling.models import InstigatorState, InstigatorStatus, Tick, TickStatus
from scheduling.services import instigators_reconcile
from tests.runs.locations import queued
from tests.ui.live import live_config, live_poll
from tests.workspace.stored import store_broken_location, store_location
from workspace.models import CodeLocation

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def data(tmp_path, settings):
    """The `data` location of tests/workspace/stored.py (jobs etl and plain, assets raw and clean, a
    schedule and a sensor) stored as LOADED, and a queued run coordinator: submitted runs stay QUEUED."""
    queued(settings)
    return store_location(tmp_path)


def _run(job="plain", tags=None, status=None, location="data"):
    run = services.run_create(job_name=job, location_name=location, tags=tags or {})
    if status is not None:
        Run.objects.filter(pk=run.pk).update(status=status)
        run.refresh_from_db()
    return run


def _ids(html: str) -> list[str]:
    return re.findall(r'href="/runs/([0-9a-f-]{36})/"', html)


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -------------------------------------------------------------------------------------------- runs


def test_root_redirects_to_the_overview(client):
    assert client.get("/").url == "/overview/"


def test_runs_list_shows_runs_newest_first_with_tags(data, client):
    first, second = _run(tags={"team": "data"}), _run(job="etl", tags={"team": "ml"})
    response = client.get("/runs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _ids(html) == [second.run_id, first.run_id]
    assert "team=ml" in html and "team=data" in html
    assert 'src="/static/vendor/htmx-2.0.11/htmx.min.js"' in html


def test_runs_list_filters_by_status_job_tag_and_time(data, client):
    a = _run(tags={"team": "data"}, status=RunStatus.SUCCESS)
    b = _run(job="etl", tags={"team": "data"}, status=RunStatus.FAILURE)
    c = _run(job="etl", tags={"team": "ml"}, status=RunStatus.FAILURE)
    assert _ids(client.get("/runs/?status=FAILURE").content.decode()) == [c.run_id, b.run_id]
    assert _ids(client.get("/runs/?status=FAILURE&status=SUCCESS").content.decode()) == [c.run_id, b.run_id, a.run_id]
    assert _ids(client.get("/runs/?job=plain").content.decode()) == [a.run_id]
    assert _ids(client.get("/runs/?tag=team%3Ddata").content.decode()) == [b.run_id, a.run_id]
    assert _ids(client.get("/runs/?tag=team%3Ddata&job=etl").content.decode()) == [b.run_id]
    Run.objects.filter(pk=a.pk).update(created_at="2020-01-01T00:00:00Z")
    assert _ids(client.get("/runs/?created_before=2021-01-01T00:00").content.decode()) == [a.run_id]
    assert a.run_id not in _ids(client.get("/runs/?created_after=2021-01-01T00:00").content.decode())


def test_runs_list_filters_by_target_asset_and_backfill_in_constant_queries(data, client):
    planned, materialized, other = _run(job="etl"), _run(job="etl"), _run(job="etl", tags={"dagster/backfill": "bf1"})
    services.event_store(run_id=planned.run_id, events=[
        EventInput(event_type="ASSET_MATERIALIZATION_PLANNED", asset_key="warehouse/clean")])
    services.event_store(run_id=materialized.run_id, events=[
        EventInput(event_type="ASSET_MATERIALIZATION", asset_key="warehouse/clean", step_key="clean"),
        EventInput(event_type="ASSET_MATERIALIZATION_PLANNED", asset_key="raw")])
    services.event_store(run_id=other.run_id, events=[EventInput(event_type="ASSET_OBSERVATION", asset_key="warehouse/clean")])
    html = client.get("/runs/?asset=warehouse/clean").content.decode()
    assert _ids(html) == [materialized.run_id, planned.run_id]  # an observation does not target the asset
    assert 'name="asset" value="warehouse/clean"' in html
    assert _ids(client.get("/runs/?asset=raw&job=etl").content.decode()) == [materialized.run_id]
    assert _ids(client.get("/runs/?asset=nothing").content.decode()) == []
    assert _ids(client.get("/runs/?backfill=bf1").content.decode()) == [other.run_id]
    with CaptureQueriesContext(connection) as queries:
        client.get("/runs/?asset=warehouse/clean")
    for _ in range(5):
        services.event_store(run_id=_run(job="etl").run_id, events=[
            EventInput(event_type="ASSET_MATERIALIZATION_PLANNED", asset_key="warehouse/clean")])
    with CaptureQueriesContext(connection) as more:
        client.get("/runs/?asset=warehouse/clean")
    assert len(more) == len(queries)


def test_bad_filters_answer_400_with_the_reason(data, client):
    response = client.get("/runs/?status=NOPE")
    assert response.status_code == 400 and "unknown run status &#x27;NOPE&#x27;" in response.content.decode()
    assert client.get("/runs/?created_after=yesterday").status_code == 400
    assert client.get("/runs/?tag=novalue").status_code == 400
    assert client.get("/runs/?cursor=no-such-run").status_code == 400


def test_runs_list_pages_with_the_api_cursor(data, client):
    runs = [_run() for _ in range(55)]
    html = client.get("/runs/").content.decode()
    page1 = _ids(html)
    assert page1 == [r.run_id for r in reversed(runs)][:50]
    next_url = re.search(r'href="\?([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert next_url == f"cursor={runs[5].run_id}"
    api = client.get("/api/runs", {"limit": 50}).json()
    assert api["next_cursor"] == runs[5].run_id  # the same cursor as the REST API
    page2 = client.get("/runs/?" + next_url).content.decode()
    assert _ids(page2) == [r.run_id for r in reversed(runs[:5])]
    assert 'rel="next"' not in page2


def test_runs_list_makes_a_constant_number_of_queries(data, client):
    for n in range(5):
        _run(tags={"team": "data", "n": str(n)})
    with CaptureQueriesContext(connection) as few:
        assert client.get("/runs/?tag=team%3Ddata").status_code == 200
    for n in range(45):
        _run(tags={"team": "data", "n": str(n)})
    with CaptureQueriesContext(connection) as many:
        html = client.get("/runs/?tag=team%3Ddata").content.decode()
    assert len(_ids(html)) == 50
    assert len(few) == len(many) <= 3


def test_hostile_tags_and_log_messages_are_escaped(data, client):
    run = _run(tags={"note": HOSTILE})
    services.event_store(run_id=run.run_id, events=[EventInput(message=HOSTILE)])
    assert_escaped(client.get("/runs/").content.decode())
    assert_escaped(client.get(f"/runs/{run.run_id}/").content.decode())
    assert_escaped(client.get(f"/runs/{run.run_id}/events?before=999999999").content.decode())


def test_unknown_ids_answer_404(data, client):
    assert client.get("/runs/no-such-run/").status_code == 404
    assert client.get("/runs/no-such-run/events?before=1").status_code == 404
    assert client.post("/runs/no-such-run/terminate").status_code == 404
    assert client.get("/locations/data/jobs/nope/").status_code == 404
    assert client.get("/locations/nowhere/jobs/etl/").status_code == 404
    assert client.get("/assets/no/such/asset/").status_code == 404
    assert client.post("/deployment/locations/nowhere/reload").status_code == 404


# ---------------------------------------------------------------------------------------- run page


def test_run_page_shows_header_steps_and_events(data, client):
    run = _run(job="etl", tags={"team": "data"})
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="RUN_START", message="Started execution of run."),
        EventInput(event_type="STEP_START", step_key="emit", message="Started execution of step emit."),
        EventInput(event_type="STEP_SUCCESS", step_key="emit", message="Finished execution of step emit."),
        EventInput(event_type="STEP_START", step_key="double", message="Started execution of step double."),
        EventInput(event_type="STEP_FAILURE", step_key="double", message="Execution of step double failed."),
    ])
    response = client.get(f"/runs/{run.run_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "STARTED" in html and "team=data" in html and 'href="/locations/data/jobs/etl/"' in html
    steps = re.search(r'<div id="run-steps">(.*?)</div>', html, re.S).group(1)
    assert re.search(r"<td>emit</td><td><span[^>]*>SUCCESS</span>", steps)
    assert re.search(r"<td>double</td><td><span[^>]*>FAILURE</span>", steps)
    assert html.index("Started execution of run.") < html.index("Execution of step double failed.")
    live = live_config(html)  # the run is not finished: the page follows it through /graphql
    assert live["follow"] and not live["finished"] and live["graphql"] == "/graphql"
    assert "/static/ui/run_live.js" in html and "hx-trigger" not in html.split('id="run-live"')[0].split("<main>")[1]
    assert f'action="/runs/{run.run_id}/terminate"' in html


def test_the_live_page_reads_only_later_events_through_graphql_and_sees_the_run_end(data, client):
    run = _run()
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START", message="first event")])
    config = live_config(client.get(f"/runs/{run.run_id}/").content.decode())
    services.event_store(run_id=run.run_id, events=[EventInput(message="second event")])
    poll = live_poll(client, config)
    assert [e["message"] for e in poll["logsForRun"]["events"]] == ["second event"]
    assert poll["runOrError"]["status"] == "STARTED" and poll["runOrError"]["canTerminate"] is True
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_SUCCESS", message="done")])
    final = live_poll(client, config, after=poll["logsForRun"]["cursor"])
    assert [e["message"] for e in final["logsForRun"]["events"]] == ["done"]
    assert final["runOrError"]["status"] == "SUCCESS" and final["runOrError"]["endTime"] is not None
    assert live_config(client.get(f"/runs/{run.run_id}/").content.decode())["finished"] is True  # no poll then


def test_the_removed_fragment_polls_are_gone(data, client):
    """Live parts read /graphql now: the event poll answers only "Load earlier events", the log tail is gone."""
    run = _run()
    assert client.get(f"/runs/{run.run_id}/events?after=0").status_code == 400
    assert client.get(f"/runs/{run.run_id}/logs/emit/tail?io=stdout").status_code == 404


def test_the_event_log_opens_on_its_newest_events_and_pages_back_by_event_id(data, client):
    run = _run()
    services.event_store(run_id=run.run_id, events=[EventInput(message=f"line {n:04d}") for n in range(510)])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "line 0509" in html and "line 0010" in html and "line 0009" not in html and "Load earlier events" in html
    before = re.search(r'\?before=(\d+)" hx-get', html).group(1)
    earlier = client.get(f"/runs/{run.run_id}/?before={before}").content.decode()  # without JavaScript too
    assert "line 0000" in earlier and "line 0009" in earlier and "line 0010" not in earlier
    assert "Load earlier events" not in earlier and "Newer events" in earlier
    after = re.search(r'id="event-poll" href="[^"]*\?after=(\d+)"', earlier).group(1)
    newer = client.get(f"/runs/{run.run_id}/?after={after}").content.decode()
    assert "line 0010" in newer and "line 0509" in newer and "line 0009" not in newer


def test_step_output_is_shown_and_tailed(data, client):
    run = _run()
    services.event_store(run_id=run.run_id, events=[EventInput(
        event_type="LOGS_CAPTURED", message="Started capturing logs.",
        payload={"file_key": "emit", "step_keys": ["emit"], "pid": 1})])
    manager = compute_logs.compute_log_manager()
    path = manager.get_captured_local_path(manager.build_log_key_for_run(run.run_id, "emit"), "out")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("hello from emit " + HOSTILE + "\n")
    html = client.get(f"/runs/{run.run_id}/?logs=emit&io=stdout").content.decode()
    assert "hello from emit" in html
    assert_escaped(html)
    config = live_config(html)
    offset = len(("hello from emit " + HOSTILE + "\n").encode())
    assert config["log"] == {"logKey": [run.run_id, "compute_logs", "emit"], "io": "stdout", "cursor": f"{offset}:0"}
    with open(path, "a") as handle:
        handle.write("more output\n")
    tail = live_poll(client, config)["capturedLogs"]  # capturedLogs from where the page left off
    assert tail["stdout"] == "more output\n" and tail["cursor"] == f"{offset + 12}:0"
    assert live_config(client.get(f"/runs/{run.run_id}/?logs=emit&io=nope").content.decode())["log"] is None


def test_terminate_cancels_a_queued_run_and_refuses_without_csrf_token(data):
    run = services.run_submit(job_name="plain", location_name="data")
    assert run.status == RunStatus.QUEUED
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/runs/{run.run_id}/terminate").status_code == 403
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
    page = strict.get(f"/runs/{run.run_id}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(f"/runs/{run.run_id}/terminate", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.url == f"/runs/{run.run_id}/"
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    again = strict.post(f"/runs/{run.run_id}/terminate", {"csrfmiddlewaretoken": token}, follow=True)
    assert "CANCELED" in again.content.decode()  # the refusal is shown as a message


def test_reexecute_submits_a_child_run(data, client):
    run = services.run_submit(job_name="plain", location_name="data")
    services.run_terminate(run_id=run.run_id)
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "Re-execute all steps" in html and "Terminate" not in html
    response = client.post(f"/runs/{run.run_id}/reexecute", {"strategy": "ALL_STEPS"})
    child = Run.objects.exclude(pk=run.pk).get()
    assert response.url == f"/runs/{child.run_id}/"
    assert child.parent_run_id == run.run_id and child.root_run_id == run.run_id
    bad = client.post(f"/runs/{run.run_id}/reexecute", {"strategy": "SOMETIMES"}, follow=True)
    assert "unknown re-execution strategy" in bad.content.decode() and Run.objects.count() == 2


def test_reexecute_refuses_without_csrf_token(data):
    run = services.run_submit(job_name="plain", location_name="data")
    services.run_terminate(run_id=run.run_id)
    assert Client(enforce_csrf_checks=True).post(f"/runs/{run.run_id}/reexecute",
                                                  {"strategy": "ALL_STEPS"}).status_code == 403
    assert Run.objects.count() == 1


# ---------------------------------------------------------------------------------------------- jobs


def test_jobs_list_shows_jobs_of_loaded_locations(data, client):
    store_broken_location()
    html = client.get("/jobs/").content.decode()
    assert 'href="/locations/data/jobs/etl/"' in html and 'href="/locations/data/jobs/plain/"' in html
    assert "__ASSET_JOB" not in html


def test_launchpad_prefills_the_required_config_and_launches(data, client):
    html = client.get("/locations/data/jobs/etl/").content.decode()
    scaffold = re.search(r'<textarea id="run_config"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "emit:" in scaffold and "n: 0" in scaffold and "double" not in scaffold
    response = client.post("/locations/data/jobs/etl/", {
        "run_config": "ops:\n  emit:\n    config:\n      n: 3\n", "tags": "team=ui\nnote=" + HOSTILE})
    run = Run.objects.get()
    assert response.status_code == 302 and response.url == f"/runs/{run.run_id}/"
    assert run.run_config == {"ops": {"emit": {"config": {"n": 3}}}} and run.status == RunStatus.QUEUED
    assert {t.key: t.value for t in run.tags.all()}["team"] == "ui"
    assert_escaped(client.get("/locations/data/jobs/etl/").content.decode())  # recent runs show the tag


def test_launchpad_shows_config_errors_at_their_path(data, client):
    response = client.post("/locations/data/jobs/etl/", {"run_config": "ops:\n  emit:\n    config:\n      n: nope\n"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<code>ops.emit.config.n</code>" in html and "RUNTIME_TYPE_MISMATCH" in html
    assert "n: nope" in html  # the user's text is kept
    assert Run.objects.count() == 0
    assert "not valid YAML" in client.post("/locations/data/jobs/etl/", {"run_config": "ops: [\n"}).content.decode()
    assert "must be key=value" in client.post("/locations/data/jobs/plain/", {"tags": "oops"}).content.decode()


def test_launch_refuses_without_csrf_token(data):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/locations/data/jobs/plain/", {"run_config": ""}).status_code == 403
    assert Run.objects.count() == 0


# -------------------------------------------------------------------------------------------- assets


def _materialize(run, key, message="materialized"):
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="ASSET_MATERIALIZATION", step_key=key, message=message, asset_key=key,
                   payload={"asset_key": key.split("/")})])


def test_asset_catalog_shows_latest_materialization_and_filters(data, client):
    run = _run(job="__ASSET_JOB")
    _materialize(run, "raw")
    html = client.get("/assets/").content.decode()
    assert 'href="/assets/raw/"' in html and 'href="/assets/clean/"' in html and "warehouse" in html
    row = re.search(r'<tr><td><a href="/assets/raw/">.*?</tr>', html, re.S).group(0)
    assert run.run_id in row
    assert "never" in re.search(r'<tr><td><a href="/assets/clean/">.*?</tr>', html, re.S).group(0)
    assert 'href="/assets/clean/"' not in client.get("/assets/?prefix=raw").content.decode()
    assert 'href="/assets/raw/"' not in client.get("/assets/?group=nothing").content.decode()


def test_asset_catalog_makes_a_constant_number_of_queries(data, client):
    client.get("/assets/")  # the first request decodes the location's snapshot (one query more)
    with CaptureQueriesContext(connection) as few:
        client.get("/assets/")
    for _ in range(10):
        _materialize(_run(job="__ASSET_JOB"), "raw")
        _materialize(_run(job="__ASSET_JOB"), "clean")
    with CaptureQueriesContext(connection) as many:
        client.get("/assets/")
    assert len(few) == len(many) <= 3  # locations, latest materializations, check results


def test_asset_page_shows_history_and_materializes(data, client):
    runs = [_run(job="__ASSET_JOB") for _ in range(3)]
    for run in runs:
        _materialize(run, "clean")
    html = client.get("/assets/clean/").content.decode()
    assert "Cleaned rows." in html and 'href="/assets/raw/"' in html
    assert [m for m in re.findall(r'href="/runs/([0-9a-f-]{36})/"', html)] == [r.run_id for r in reversed(runs)]
    response = client.post("/assets/clean/")
    run = Run.objects.get(job_name="__ASSET_JOB", status=RunStatus.QUEUED)
    assert response.url == f"/runs/{run.run_id}/"
    assert run.asset_selection == [["clean"]]  # stored as key paths
    assert Client(enforce_csrf_checks=True).post("/assets/clean/").status_code == 403


# ---------------------------------------------------------------------------------------- deployment


def test_deployment_shows_locations_errors_and_daemons(data, client):
    store_broken_location()
    services.daemon_heartbeat_record(daemon_type="SENSOR", daemon_id="d1")
    html = client.get("/deployment/").content.decode()
    assert "data" in html and "LOADED" in html and "ERROR" in html
    assert "SyntaxError: invalid syntax (broken.py, line 3)" in html
    assert re.search(r"<td>SENSOR</td><td>yes</td>\s*<td><span[^>]*>HEALTHY</span>", html)
    assert re.search(r"<td>BACKFILL</td><td>yes</td>\s*<td><span[^>]*>NOT RUNNING</span>", html)


def test_reload_records_the_request(data, client):
    assert CodeLocation.objects.get(name="data").reload_requested_at is None
    assert Client(enforce_csrf_checks=True).post("/deployment/locations/data/reload").status_code == 403
    assert CodeLocation.objects.get(name="data").reload_requested_at is None
    response = client.post("/deployment/locations/data/reload")
    assert response.status_code == 302 and response.url == "/deployment/"
    assert CodeLocation.objects.get(name="data").reload_requested_at is not None


# ---------------------------------------------------------------------------------------- automation


def test_automation_lists_schedules_and_sensors_with_last_ticks_and_toggles(data, client):
    instigators_reconcile(location_name="data", force=True)
    schedule = InstigatorState.objects.get(name="hourly")
    Tick.objects.create(state=schedule, kind=schedule.kind, status=TickStatus.SKIPPED, skip_reason="nothing " + HOSTILE)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/automation/").content.decode()
    assert len(queries) <= 3
    assert "hourly" in html and "watcher" in html and "nothing" in html
    assert_escaped(html)
    action = "stop" if schedule.status == InstigatorStatus.RUNNING else "start"
    assert Client(enforce_csrf_checks=True).post(f"/automation/schedule/data/hourly/{action}").status_code == 403
    response = client.post(f"/automation/schedule/data/hourly/{action}")
    assert response.status_code == 302
    after = InstigatorState.objects.get(pk=schedule.pk).status
    assert after == (InstigatorStatus.STOPPED if action == "stop" else InstigatorStatus.RUNNING)
    client.post("/automation/sensor/data/watcher/start")
    assert InstigatorState.objects.get(name="watcher").status == InstigatorStatus.RUNNING
    client.post("/automation/sensor/data/watcher/stop")
    assert InstigatorState.objects.get(name="watcher").status == InstigatorStatus.STOPPED
    assert client.post("/automation/sensor/data/nope/start").status_code == 404
    assert client.post("/automation/sensor/data/watcher/explode").status_code == 404


def test_asset_catalog_pages_by_key(data, client, tmp_path, monkeypatch):
    from runs import views

    monkeypatch.setattr(views, "ASSET_PAGE", 1)
    html = client.get("/assets/").content.decode()
    assert 'href="/assets/clean/"' in html and 'href="/assets/raw/"' not in html
    next_url = re.search(r'href="\?([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert next_url == "after=clean"
    second = client.get("/assets/?" + next_url).content.decode()
    assert 'href="/assets/raw/"' in second and 'href="/assets/clean/"' not in second and 'rel="next"' not in second


def test_static_files_are_served_from_the_vendored_copy(client):
    response = client.get("/static/vendor/htmx-2.0.11/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content if response.streaming else [response.content])
    assert client.get("/static/ui/ui.css").status_code == 200


def test_actions_the_caller_may_not_take_are_refused(data, client, login_as):
    login_as("viewer")
    run = services.run_submit(job_name="plain", location_name="data")
    assert client.post(f"/runs/{run.run_id}/terminate").status_code == 403
    assert client.post("/locations/data/jobs/plain/", {"run_config": ""}).status_code == 403
    assert client.post("/assets/raw/").status_code == 403
    assert client.post("/deployment/locations/data/reload").status_code == 403
    assert Run.objects.get().status == RunStatus.QUEUED and Run.objects.count() == 1
    assert CodeLocation.objects.get(name="data").reload_requested_at is None


def test_pages_show_a_location_s_new_snapshot_once_it_is_stored(data, client, tmp_path):
    from tests.workspace.stored import DEFS

    assert 'href="/locations/data/jobs/etl/"' in client.get("/jobs/").content.decode()
    store_location(tmp_path, source=DEFS.replace("def etl():", "def etl_renamed():").replace("jobs=[etl,", "jobs=[etl_renamed,"))
    html = client.get("/jobs/").content.decode()
    assert 'href="/locations/data/jobs/etl_renamed/"' in html and 'href="/locations/data/jobs/etl/"' not in html
    assert client.get("/locations/data/jobs/etl/").status_code == 404
