"""The run page's remaining actions and its behaviour at scale: re-execute selected steps, open in launchpad,
the launchpad's asset selection, downloading a step's captured output, and a run of 1,000 steps and 50,000
events paged rather than sent whole."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import compute_logs, services
from runs.models import Run, RunStatus
from runs.reexecution import STEP_SELECTION_TAG
from runs.services import EventInput
from runs.views import EVENT_PAGE
from tests.runs.locations import queued
from tests.runs.test_schema import gql
from tests.runs.test_schema_mutations import LAUNCH_RUN, REEXECUTE
from tests.ui.big_run import big_run_create
from tests.ui.live import live_config, live_poll
from tests.ui.test_launchpad import check as check_config
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def data(tmp_path, settings):
    """The `data` location (tests/workspace/stored.py) stored as LOADED; submitted runs stay QUEUED."""
    queued(settings)
    return store_location(tmp_path)


def _finished_etl(status=RunStatus.FAILURE, **kwargs) -> Run:
    run = services.run_create(
        job_name="etl", location_name="data", run_config={"ops": {"emit": {"config": {"n": 3}}}}, **kwargs
    )
    events = [
        EventInput(event_type="RUN_START"),
        EventInput(event_type="STEP_START", step_key="emit"),
        EventInput(event_type="STEP_SUCCESS", step_key="emit"),
        EventInput(event_type="STEP_START", step_key="double"),
        EventInput(event_type="STEP_FAILURE", step_key="double"),
        EventInput(event_type="RUN_FAILURE" if status == RunStatus.FAILURE else "RUN_SUCCESS"),
    ]
    services.event_store(run_id=run.run_id, events=events)
    run.refresh_from_db()
    return run


def _tags(run: Run) -> dict[str, str]:
    return {tag.key: tag.value for tag in run.tags.all()}


# ---------------------------------------------------------------------------------- re-execute selected


def test_a_finished_run_offers_its_steps_to_pick_and_re_executes_the_picked_ones(data, client):
    parent = _finished_etl()
    html = client.get(f"/runs/{parent.run_id}/").content.decode()
    assert 'id="reexecute-selected"' in html and "Re-execute selected" in html
    assert 'value="double" id="pick-double" form="reexecute-selected"' in html
    assert '<label class="gantt-step" role="rowheader" for="pick-double">' in html  # the chart picks too

    response = client.post(f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED", "step": ["double"]})
    child = Run.objects.exclude(pk=parent.pk).get()
    assert response.status_code == 302 and response.url == f"/runs/{child.run_id}/"
    assert child.step_keys_to_execute == ["double"] and child.parent_run_id == parent.run_id
    assert child.root_run_id == parent.run_id and child.run_config == parent.run_config
    assert _tags(child)[STEP_SELECTION_TAG] == "double"


def test_steps_that_never_started_are_listed_and_can_be_picked(data, client):
    parent = services.run_create(job_name="etl", location_name="data",
                                 run_config={"ops": {"emit": {"config": {"n": 3}}}})
    services.event_store(run_id=parent.run_id, events=[
        EventInput(event_type="RUN_START"), EventInput(event_type="STEP_START", step_key="emit"),
        EventInput(event_type="STEP_FAILURE", step_key="emit"), EventInput(event_type="RUN_FAILURE")])
    html = client.get(f"/runs/{parent.run_id}/").content.decode()
    # double was planned and never started: listed as NOT_STARTED, with its checkbox, after the steps that ran
    assert 'value="double" id="pick-double" form="reexecute-selected"' in html
    assert html.index('id="pick-emit"') < html.index('id="pick-double"')
    assert 'status-not_started">NOT_STARTED</span>' in html
    # The live page reads the same plan (Dagster's Run.executionPlan) once the run is finished, when it may pick.
    config = live_config(html)
    assert config["planSteps"] is True
    run = live_poll(client, config, steps=True, plan=True)["runOrError"]
    assert run["executionPlan"] == {"steps": [{"key": "emit"}, {"key": "double"}]}
    assert "executionPlan" not in live_poll(client, config, steps=True)["runOrError"]
    kinds = gql(client, "query($id: ID!) { runOrError(runId: $id) { ... on Run { executionPlan { steps { kind } } } } }",
                {"id": parent.run_id})
    assert kinds["data"]["runOrError"]["executionPlan"]["steps"] == [{"kind": "COMPUTE"}] * 2
    response = client.post(f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED", "step": ["double"]})
    child = Run.objects.exclude(pk=parent.pk).get()
    assert response.status_code == 302 and child.step_keys_to_execute == ["double"]


def test_an_asset_selected_run_lists_only_the_steps_of_its_selected_assets(data, client):
    parent = services.run_create(job_name="__ASSET_JOB", location_name="data", run_config={},
                                 asset_selection=[["clean"]])
    services.event_store(run_id=parent.run_id, events=[
        EventInput(event_type="RUN_START"), EventInput(event_type="STEP_START", step_key="clean"),
        EventInput(event_type="STEP_FAILURE", step_key="clean"), EventInput(event_type="RUN_FAILURE")])
    html = client.get(f"/runs/{parent.run_id}/").content.decode()
    assert 'id="pick-clean"' in html
    assert 'id="pick-raw"' not in html and "NOT_STARTED" not in html  # raw was not selected, so not planned
    response = client.post(f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED", "step": ["raw"]}, follow=True)
    assert "did not plan the steps" in response.content.decode() and Run.objects.count() == 1


def test_a_run_whose_job_is_gone_lists_only_the_steps_it_ran(data, client):
    parent = _finished_etl()
    data.delete()  # its code location (and with it the plan) is gone
    html = client.get(f"/runs/{parent.run_id}/").content.decode()
    assert html.count('form="reexecute-selected"') <= 2 and "NOT_STARTED" not in html
    assert live_poll(client, live_config(html), steps=True, plan=True)["runOrError"]["executionPlan"] is None


def test_re_executing_selected_steps_matches_graphql_launch_run_reexecution_with_step_keys(data, client):
    parent = _finished_etl()
    client.post(f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED", "step": ["double", "emit"]})
    from_page = Run.objects.exclude(pk=parent.pk).get()
    variables = {
        "executionParams": {
            "selector": {
                "repositoryLocationName": "data",
                "repositoryName": "__repository__",
                "jobName": "etl",
            },
            "runConfigData": parent.run_config,
            "stepKeys": ["emit", "double"],
            "executionMetadata": {
                "parentRunId": parent.run_id,
                "rootRunId": parent.run_id,
                "tags": [{"key": STEP_SELECTION_TAG, "value": "emit,double"}],
            },
        }
    }
    result = gql(client, REEXECUTE, variables)["data"]["launchRunReexecution"]
    assert result["__typename"] == "LaunchRunSuccess"
    from_graphql = Run.objects.get(run_id=result["run"]["runId"])
    for field in (
        "job_name",
        "location_name",
        "run_config",
        "step_keys_to_execute",
        "parent_run_id",
        "root_run_id",
        "op_selection",
        "asset_selection",
    ):
        assert getattr(from_page, field) == getattr(from_graphql, field), field
    assert from_page.step_keys_to_execute == ["emit", "double"]  # in the job's order, whatever the pick order
    assert _tags(from_page)[STEP_SELECTION_TAG] == _tags(from_graphql)[STEP_SELECTION_TAG]


def test_re_executing_no_step_or_an_unplanned_step_is_refused_with_a_message(data, client):
    parent = _finished_etl()
    response = client.post(f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED"}, follow=True)
    assert "select at least one step to re-execute" in response.content.decode()
    response = client.post(
        f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED", "step": [HOSTILE]}, follow=True
    )
    html = response.content.decode()
    assert "did not plan the steps" in html and "<script>alert" not in html
    assert Run.objects.count() == 1


def test_a_running_run_has_no_step_picker_and_cannot_be_re_executed(data, client):
    run = services.run_create(job_name="etl", location_name="data")
    services.event_store(
        run_id=run.run_id,
        events=[EventInput(event_type="RUN_START"), EventInput(event_type="STEP_START", step_key="emit")],
    )
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    # The re-execute forms are there for the live page to show once the run ends, hidden until then.
    assert re.search(r'id="reexecute-selected" data-step-picker data-when="finished" hidden>', html)
    assert 'type="checkbox"' not in html
    response = client.post(
        f"/runs/{run.run_id}/reexecute", {"strategy": "SELECTED", "step": ["emit"]}, follow=True
    )
    assert "only a finished run can be re-executed" in response.content.decode()
    assert Run.objects.count() == 1


def test_a_viewer_sees_no_picker_nor_launchpad_link_and_is_refused(data, client, login_as):
    parent = _finished_etl()
    login_as("viewer")
    html = client.get(f"/runs/{parent.run_id}/").content.decode()
    assert (
        "Re-execute selected" not in html
        and 'type="checkbox"' not in html
        and "Open in launchpad" not in html
    )
    response = client.post(f"/runs/{parent.run_id}/reexecute", {"strategy": "SELECTED", "step": ["double"]})
    assert response.status_code == 403 and Run.objects.count() == 1
    login_as("launcher", "data")
    html = client.get(f"/runs/{parent.run_id}/").content.decode()
    assert "Re-execute selected" in html and "Open in launchpad" in html


# ------------------------------------------------------------------------------------ open in launchpad


def test_open_in_launchpad_fills_the_form_with_the_run_s_config_tags_and_selection(data, client):
    run = services.run_submit(
        job_name="etl",
        location_name="data",
        run_config={"ops": {"emit": {"config": {"n": 7}}}},
        tags={"owner": HOSTILE, "dagster/partition": "2026-01-01"},
        op_selection=["emit"],
    )
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    link = f"/locations/data/jobs/etl/?from_run={run.run_id}#launchpad"
    assert f'href="{link}"' in html and "Open in launchpad" in html

    response = client.get(link.split("#")[0])
    assert response.status_code == 200
    page = response.content.decode()
    config = re.search(r'<textarea id="run_config"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert yaml.safe_load(config) == {"ops": {"emit": {"config": {"n": 7}}}}
    tags = re.search(r'<textarea id="tags"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "owner=&lt;script&gt;alert(1)&lt;/script&gt;" in tags and "<script>alert" not in page
    assert "team=data" in tags  # the job's own tags came with the run; the system's stay out
    assert "dagster/" not in tags and "orchestra/" not in tags
    assert 'id="op_selection" name="op_selection" value="emit"' in page
    assert "from run" in page and f'href="/runs/{run.run_id}/"' in page


def test_open_in_launchpad_keeps_an_asset_selection_and_refuses_a_run_of_another_job(data, client):
    run = services.run_submit(job_name="__ASSET_JOB", location_name="data", asset_selection=["clean"])
    page = client.get(f"/locations/data/jobs/__ASSET_JOB/?from_run={run.run_id}").content.decode()
    assert 'value="clean" checked' in page and 'value="raw">' in page
    other = client.get(f"/locations/data/jobs/plain/?from_run={run.run_id}")
    assert other.status_code == 400 and "is a run of __ASSET_JOB@data" in other.content.decode()
    assert client.get("/locations/data/jobs/plain/?from_run=nope").status_code == 400


# --------------------------------------------------------------------------------- launchpad assets


def test_the_launchpad_of_an_asset_job_lists_its_assets_and_launches_the_picked_ones(data, client):
    page = client.get("/locations/data/jobs/__ASSET_JOB/").content.decode()
    assert 'name="asset_selection" value="raw"' in page and 'name="asset_selection" value="clean"' in page
    assert 'name="asset_selection"' not in client.get("/locations/data/jobs/plain/").content.decode()

    response = client.post(
        "/locations/data/jobs/__ASSET_JOB/", {"run_config": "", "tags": "", "asset_selection": ["clean"]}
    )
    from_page = Run.objects.get()
    assert response.status_code == 302 and response.url == f"/runs/{from_page.run_id}/"
    result = gql(
        client,
        LAUNCH_RUN,
        {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": "data",
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": ["clean"]}],
                },
                "runConfigData": {},
            }
        },
    )["data"]["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess"
    from_graphql = Run.objects.get(run_id=result["run"]["runId"])
    assert from_page.asset_selection == from_graphql.asset_selection == [["clean"]]
    assert from_page.op_selection == from_graphql.op_selection


def test_the_launchpad_refuses_an_unknown_asset_and_an_op_selection_beside_assets(data, client):
    response = client.post("/locations/data/jobs/__ASSET_JOB/", {"asset_selection": [HOSTILE]})
    html = response.content.decode()
    assert response.status_code == 400 and "does not materialize" in html and "<script>alert" not in html
    response = client.post(
        "/locations/data/jobs/__ASSET_JOB/", {"asset_selection": ["raw"], "op_selection": "raw"}
    )
    assert response.status_code == 400 and "cannot be combined" in response.content.decode()
    # as you pick: the launchpad asks /graphql (tests/runs/test_schema_run_config.py checks the answers)
    check = check_config(client, "", job="__ASSET_JOB", assetSelection=[{"path": ["nope"]}])
    assert check["__typename"] == "InvalidSubsetError" and "does not materialize" in check["message"]
    check = check_config(client, "", job="__ASSET_JOB", assetSelection=[{"path": ["raw"]}])
    assert check["__typename"] == "PipelineConfigValidationValid"
    assert Run.objects.count() == 0


# ------------------------------------------------------------------------------------------- download


def test_a_step_s_stdout_downloads_whole_as_an_attachment(data, client):
    run = services.run_create(job_name="plain", location_name="data")
    services.event_store(
        run_id=run.run_id,
        events=[
            EventInput(
                event_type="LOGS_CAPTURED",
                message="Started capturing logs.",
                payload={"file_key": "hello", "step_keys": ["hello"], "pid": 1},
            )
        ],
    )
    manager = compute_logs.compute_log_manager()
    path = manager.get_captured_local_path(manager.build_log_key_for_run(run.run_id, "hello"), "out")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = "".join(f"line {n:06d} {HOSTILE}\n" for n in range(3_000))  # bigger than a tail chunk (64 KiB)
    with open(path, "w") as handle:
        handle.write(text)
    html = client.get(f"/runs/{run.run_id}/?logs=hello&io=stdout").content.decode()
    url = f"/api/runs/{run.run_id}/logs/hello/download?io=stdout"
    assert f'href="{url}" download' in html and "download the whole file" in html
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="hello.out"'
    assert b"".join(response.streaming_content).decode() == text


# --------------------------------------------------------------------------------------- a big run


@pytest.fixture
def big(data):
    return big_run_create(job_name="etl", location_name="data")


def _rows(html: str) -> list[str]:
    return re.findall(r'<div class="event [^"]*" role="row" id="event-(\d+)"', html)


def test_a_run_of_50000_events_opens_on_its_newest_page_and_pages_back_by_cursor(big, client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/runs/{big}/")
    html = response.content.decode()
    ids = [int(i) for i in _rows(html)]
    assert len(ids) == EVENT_PAGE and ids == sorted(ids) and "RUN_SUCCESS" in html
    assert len(queries) <= 12, [q["sql"] for q in queries.captured_queries]
    # every step, once, in the list; and the two steps of etl's plan that this run never started
    assert html.count('form="reexecute-selected"') == 1000 + 2
    assert len(response.content) < 2_500_000

    before = re.search(r'id="event-earlier" href="[^"]*\?before=(\d+)" hx-get="([^"]+)"', html)
    assert int(before.group(1)) == ids[0]
    with CaptureQueriesContext(connection) as page_back:
        earlier = client.get(before.group(2), HTTP_HX_REQUEST="true").content.decode()
    earlier_ids = [int(i) for i in _rows(earlier)]
    assert len(earlier_ids) == EVENT_PAGE and max(earlier_ids) < ids[0]
    assert 'hx-swap-oob="afterbegin"' in earlier and "Load earlier events" in earlier
    assert len(page_back) <= 4  # the run, its existence, one page of events (+ the session)


def test_a_live_big_run_reads_its_steps_only_after_a_step_event_arrived(data, client):
    run_id = big_run_create(job_name="etl", location_name="data", steps=300, events=3_000, finished=False)
    config = live_config(client.get(f"/runs/{run_id}/").content.decode())
    assert config["follow"] is True and config["finished"] is False
    services.event_store(run_id=run_id, events=[EventInput(message="a log line")])
    with CaptureQueriesContext(connection) as queries:
        poll = live_poll(client, config)
    events = poll["logsForRun"]["events"]
    assert [e["message"] for e in events] == ["a log line"] and "stepStats" not in poll["runOrError"]
    assert not any("STEP_START" in q["sql"] for q in queries.captured_queries)  # the steps were not even read
    assert len(queries) <= 4  # the run, the run's existence, its new events (+ the session)
    services.event_store(run_id=run_id, events=[EventInput(event_type="STEP_START", step_key="step_late")])
    poll = live_poll(client, config, after=poll["logsForRun"]["cursor"])
    assert poll["logsForRun"]["events"][0]["eventType"] == "STEP_START"  # run_live.js asks for the steps next
    with CaptureQueriesContext(connection) as with_steps:
        steps = live_poll(client, config, after=poll["logsForRun"]["cursor"], steps=True)["runOrError"]["stepStats"]
    assert len(steps) == 301 and steps[-1]["stepKey"] == "step_late" and steps[-1]["status"] == "IN_PROGRESS"
    assert len(with_steps) == len(queries) + 1  # one query for the stats of every step
