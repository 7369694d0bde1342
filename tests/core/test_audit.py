"""The audit log: every state change records who, what, when and from where; runs record who launched them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.audit import DAGSTER_USER_TAG, DETAILS_MAX_CHARS, LAUNCHED_BY_TAG, as_actor
from core.instance_config import AuditRetentionEntry, RetentionConfig
from core.models import AuditEntry
from core.permissions import SYSTEM, Actor
from core.services import audit_purge, audit_record
from runs import services as run_services
from runs.models import Run
from runs.services import EventInput
from scheduling.services import instigators_reconcile
from tests.runs.locations import queued as use_queue
from tests.runs.locations import use_instance
from tests.runs.test_schema import gql, runs_page
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db

LAUNCH_RUN = """
mutation($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId tags { key value } } }
    ... on UnauthorizedError { message }
  }
}
"""
DELETE_RUN = """
mutation($runId: String!) { deleteRun(runId: $runId) { __typename } }
"""


@pytest.fixture
def location(tmp_path):
    location = store_location(tmp_path)
    instigators_reconcile(location_name="data")
    return location


@pytest.fixture
def queued(settings):
    use_queue(settings)


def post(client, path: str, body: dict | None = None, method: str = "post", **headers):
    return getattr(client, method)(path, json.dumps(body) if body is not None else "",
                                   content_type="application/json", headers=headers)


def launch_params() -> dict:
    return {"executionParams": {
        "selector": {"repositoryLocationName": "data", "repositoryName": "__repository__", "jobName": "etl"},
        "runConfigData": {"ops": {"emit": {"config": {"n": 2}}}}}}


def rest_launch(client, **extra) -> dict:
    body = {"job_name": "etl", "location_name": "data", "run_config": {"ops": {"emit": {"config": {"n": 3}}}},
            **extra}
    response = post(client, "/api/runs", body)
    assert response.status_code == 201, response.content
    return response.json()


def submit(actor=None, job_name: str = "etl") -> Run:
    config = {"ops": {"emit": {"config": {"n": 1}}}} if job_name == "etl" else {}
    return run_services.run_submit(job_name=job_name, location_name="data", run_config=config, actor=actor)


def tags_of(run_id: str) -> dict[str, str]:
    return dict(Run.objects.get(run_id=run_id).tags.values_list("key", "value"))


def only(action: str) -> AuditEntry:
    [entry] = AuditEntry.objects.filter(action=action)
    return entry


# --- who launched a run ---------------------------------------------------------------------------


def test_a_graphql_launch_by_a_user_records_one_entry_and_the_launched_by_tags(client, login_as, location, queued):
    alice = login_as("launcher", username="alice")
    result = gql(client, LAUNCH_RUN, launch_params())["data"]["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess"
    run_id = result["run"]["runId"]
    entry = only("run.launch")
    assert (entry.actor_kind, entry.actor_name, entry.actor_user_id, entry.actor_token_id) == (
        "user", "alice", alice.pk, None)
    assert (entry.address, entry.target_type, entry.target_id, entry.location_name) == (
        "127.0.0.1", "run", run_id, "data")
    assert entry.details == {"job_name": "etl"}
    tags = {t["key"]: t["value"] for t in result["run"]["tags"]}
    assert tags[LAUNCHED_BY_TAG] == "user:alice" and tags[DAGSTER_USER_TAG] == "alice"


def test_a_rest_launch_with_an_api_token_records_the_token(client, login_mode, location, queued):
    from django.contrib.auth import get_user_model

    from core.services import token_create

    owner = get_user_model().objects.create(username="robot-owner")
    token, plaintext = token_create(user=owner, role="launcher", name="ci", actor=SYSTEM)
    response = post(client, "/api/runs", {"job_name": "plain", "location_name": "data"},
                    Authorization=f"Bearer {plaintext}")
    assert response.status_code == 201, response.content
    run_id = response.json()["run_id"]
    entry = only("run.launch")
    assert (entry.actor_kind, entry.actor_name, entry.actor_token_id, entry.actor_user_id, entry.address) == (
        "token", "ci", token.pk, owner.pk, "127.0.0.1")
    tags = tags_of(run_id)
    assert tags[LAUNCHED_BY_TAG] == "token:ci" and DAGSTER_USER_TAG not in tags
    assert response.json()["launched_by"] == "token:ci"


def test_a_token_actor_given_to_run_submit_is_recorded_as_is(location, queued):
    run = submit(Actor(kind="token", name="deploy-bot", user_id=None, token_id=42, address="10.0.0.7"))
    assert tags_of(run.run_id)[LAUNCHED_BY_TAG] == "token:deploy-bot"
    entry = only("run.launch")
    assert (entry.actor_kind, entry.actor_token_id, entry.address) == ("token", 42, "10.0.0.7")


def test_the_caller_cannot_choose_who_launched_the_run(client, login_as, location, queued):
    login_as("launcher", username="alice")
    run = rest_launch(client, tags={LAUNCHED_BY_TAG: "user:root", DAGSTER_USER_TAG: "root", "owner": "ana"})
    assert run["tags"][LAUNCHED_BY_TAG] == "user:alice" and run["tags"][DAGSTER_USER_TAG] == "alice"
    assert run["tags"]["owner"] == "ana"


def test_a_run_submitted_without_an_actor_is_launched_by_the_system(location, queued):
    run = submit()
    tags = tags_of(run.run_id)
    assert tags[LAUNCHED_BY_TAG] == "system:orchestra" and DAGSTER_USER_TAG not in tags
    assert only("run.launch").actor_kind == "system"


def test_a_reexecution_records_its_own_actor(client, login_as, location, queued):
    parent = submit(Actor(kind="schedule", name="hourly"))
    run_services.event_store(run_id=parent.run_id, events=[EventInput(event_type="RUN_START"),
                                                           EventInput(event_type="RUN_SUCCESS")])
    login_as("launcher", username="bob")
    response = post(client, f"/api/runs/{parent.run_id}/reexecute", {"strategy": "ALL_STEPS"})
    assert response.status_code == 201, response.content
    child = response.json()
    assert tags_of(parent.run_id)[LAUNCHED_BY_TAG] == "schedule:hourly"
    assert child["tags"][LAUNCHED_BY_TAG] == "user:bob" and child["tags"][DAGSTER_USER_TAG] == "bob"
    entry = AuditEntry.objects.get(action="run.launch", target_id=child["run_id"])
    assert entry.actor_name == "bob" and entry.details == {"job_name": "etl", "parent_run_id": parent.run_id}
    # A parent launched by a user does not hand its `dagster/user` to a re-execution the system starts.
    run_services.event_store(run_id=child["run_id"], events=[EventInput(event_type="RUN_START"),
                                                             EventInput(event_type="RUN_SUCCESS")])
    from runs.reexecution import run_reexecute

    retry = run_reexecute(parent_run_id=child["run_id"], strategy="ALL_STEPS")
    assert tags_of(retry.run_id)[LAUNCHED_BY_TAG] == "system:orchestra"
    assert DAGSTER_USER_TAG not in tags_of(retry.run_id)


def test_the_runs_list_filters_by_who_launched_them_in_rest_graphql_and_the_ui(client, location, queued):
    by_alice = [submit(Actor(kind="user", name="alice")) for _ in range(2)]
    submit(Actor(kind="schedule", name="hourly"))
    submit(Actor(kind="user", name="bob"))
    body = client.get("/api/runs", {"launched_by": "user:alice"}).json()
    assert [r["run_id"] for r in body["results"]] == [r.run_id for r in reversed(by_alice)]
    assert {r["launched_by"] for r in body["results"]} == {"user:alice"}
    assert len(client.get("/api/runs", {"launched_by": "schedule:hourly"}).json()["results"]) == 1
    assert client.get("/api/runs", {"launched_by": "user:nobody"}).json()["results"] == []
    page = runs_page(client, filter={"tags": [{"key": LAUNCHED_BY_TAG, "value": "user:alice"}]})
    assert [r["runId"] for r in page["results"]] == [r.run_id for r in reversed(by_alice)]

    html = client.get("/runs/", {"launched_by": "user:alice"}).content.decode()
    shown = {r.run_id for r in Run.objects.all() if f'href="/runs/{r.run_id}/"' in html}
    assert shown == {r.run_id for r in by_alice}
    assert 'name="launched_by" value="user:alice"' in html and "Launched by" in html


def test_the_run_page_says_who_launched_the_run(client, location, queued):
    run = submit(Actor(kind="sensor", name="watcher"))
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert 'id="run-launched-by"><a href="/runs/?launched_by=sensor%3Awatcher">sensor:watcher</a>' in html


# --- one entry per state change, none for a refused one -------------------------------------------


def test_each_kind_of_state_change_leaves_exactly_one_entry_with_the_actor_and_address(client, login_as, location,
                                                                                       queued):
    editor = login_as("editor", username="ed")
    AuditEntry.objects.all().delete()  # the fixture's own user and role entries
    queued_run = submit(SYSTEM)
    finished = submit(SYSTEM, job_name="plain")
    run_services.event_store(run_id=finished.run_id, events=[EventInput(event_type="RUN_START"),
                                                             EventInput(event_type="RUN_SUCCESS")])
    before = set(AuditEntry.objects.values_list("id", flat=True))

    steps = [
        ("run.launch", lambda: gql(client, LAUNCH_RUN, launch_params())["data"]["launchRun"]["__typename"]
         == "LaunchRunSuccess", "run"),
        ("run.terminate", lambda: post(client, f"/api/runs/{queued_run.run_id}/terminate").status_code == 200, "run"),
        ("run.delete", lambda: gql(client, DELETE_RUN, {"runId": finished.run_id})["data"]["deleteRun"][
            "__typename"] == "DeletePipelineRunSuccess", "run"),
        ("location.reload", lambda: post(client, "/api/locations/data/reload?timeout=0").status_code == 200,
         "location"),
        ("schedule.start", lambda: post(client, "/api/schedules/data/hourly/start").status_code == 200, "schedule"),
        ("schedule.stop", lambda: post(client, "/api/schedules/data/hourly/stop").status_code == 200, "schedule"),
        ("sensor.cursor_set", lambda: post(client, "/api/sensors/data/watcher/cursor", {"cursor": "42"},
                                           method="put").status_code == 200, "sensor"),
    ]
    for action, act, target_type in steps:
        assert act(), action
        new = AuditEntry.objects.exclude(id__in=before)
        assert [(e.action, e.actor_kind, e.actor_name, e.actor_user_id, e.address, e.target_type, e.location_name)
                for e in new] == [(action, "user", "ed", editor.pk, "127.0.0.1", target_type, "data")], action
        before |= {e.id for e in new}
    assert only("run.terminate").target_id == queued_run.run_id
    assert only("run.delete").target_id == finished.run_id
    assert only("sensor.cursor_set").details == {"cursor": "42", "previous": None}


def test_a_refused_or_failed_action_leaves_no_entry(client, login_as, location, queued):
    run = submit(SYSTEM)
    login_as("viewer", username="vic")
    AuditEntry.objects.all().delete()
    assert post(client, "/api/runs", {"job_name": "plain", "location_name": "data"}).status_code == 403
    assert post(client, f"/api/runs/{run.run_id}/terminate").status_code == 403
    assert post(client, "/api/schedules/data/hourly/start").status_code == 403
    assert gql(client, LAUNCH_RUN, launch_params())["data"]["launchRun"]["__typename"] == "UnauthorizedError"
    login_as("editor", username="ed")
    AuditEntry.objects.all().delete()
    bad_config = {"job_name": "etl", "location_name": "data", "run_config": {"ops": {"emit": {"config": {"n": "x"}}}}}
    assert post(client, "/api/runs", bad_config).status_code == 422
    assert post(client, "/api/runs", {"job_name": "nope", "location_name": "data"}).status_code == 404
    assert post(client, "/api/runs/no-such-run/terminate").status_code == 404
    assert post(client, "/api/sensors/data/nope/cursor", {"cursor": "1"}, method="put").status_code == 404
    run_services.run_terminate(run_id=run.run_id)
    AuditEntry.objects.all().delete()
    assert post(client, f"/api/runs/{run.run_id}/terminate").status_code == 409  # already finished
    assert not AuditEntry.objects.exists()


def test_an_idempotent_resubmission_records_only_the_first_launch(client, location, queued):
    first = post(client, "/api/runs", {"job_name": "plain", "location_name": "data"}, **{"Idempotency-Key": "k"})
    second = post(client, "/api/runs", {"job_name": "plain", "location_name": "data"}, **{"Idempotency-Key": "k"})
    assert first.json()["run_id"] == second.json()["run_id"]
    assert AuditEntry.objects.filter(action="run.launch").count() == 1


# --- stored as data, bounded ----------------------------------------------------------------------


def test_hostile_text_is_stored_as_data_and_details_are_bounded():
    actor = Actor(kind="user", name="eve\x00<script>\udcff", address="::1")
    entry = audit_record(actor=actor, action="run.launch", target_type="run", target_id="a\x00b" + "x" * 1000,
                         details={"k\x00": ["v\udcff", float("nan")], "big": "y" * (DETAILS_MAX_CHARS * 3)})
    entry.refresh_from_db()
    assert entry.actor_name == "eve\\x00<script>\\udcff" and entry.address == "::1"
    assert entry.target_id.startswith("a\\x00b") and len(entry.target_id) == 255
    assert entry.details["truncated"] is True and len(json.dumps(entry.details)) < DETAILS_MAX_CHARS + 500
    small = audit_record(actor=None, action="x", target_type="t", target_id=1, details={"k\x00": ["v\udcff"]})
    small.refresh_from_db()
    assert small.details == {"k\\x00": ["v\\udcff"]} and small.actor_label == "system:orchestra"


def test_a_user_given_as_actor_is_recorded_as_that_user():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    user = get_user_model().objects.create(username="carol")
    assert as_actor(user) == Actor(kind="user", name="carol", user_id=user.pk)
    assert as_actor(AnonymousUser()).kind == "anonymous"
    assert as_actor(None) is SYSTEM


# --- the audit page and the admin -----------------------------------------------------------------


def _entries(n: int, **fields) -> None:
    for i in range(n):
        audit_record(actor=Actor(kind="user", name=f"u{i % 3}", address="10.0.0.1"), action="run.launch",
                     target_type="run", target_id=f"run-{i}", location_name="data", **fields)


def test_the_audit_page_costs_the_same_queries_for_any_number_of_entries(client):
    _entries(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/deployment/audit").status_code == 200
    _entries(60)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/deployment/audit").content.decode()
    assert len(many) == len(few)
    assert html.count("<tr>") == 1 + 50  # the header and one page


def test_the_audit_page_filters_by_actor_action_target_location_and_time_and_pages_by_cursor(client):
    _entries(55)
    audit_record(actor=Actor(kind="schedule", name="hourly"), action="schedule.start", target_type="schedule",
                 target_id="hourly", location_name="other")
    old = audit_record(actor=None, action="location.reload", target_type="location", target_id="data")
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))

    def shown(**query) -> list[str]:
        response = client.get("/deployment/audit", query)
        assert response.status_code == 200
        return [e.target_id for e in response.context["entries"]]

    assert shown(actor="schedule") == ["hourly"] == shown(actor="schedule:hourly")
    assert len(shown(actor="user:u0")) == 19
    assert shown(action="schedule.") == ["hourly"] and shown(action="location.reload") == ["data"]
    assert shown(target="run:run-7") == ["run-7"]
    assert shown(location="other") == ["hourly"]
    two_days_ago = (timezone.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert shown(until=two_days_ago) == ["data"]
    assert "data" not in shown(since=two_days_ago, action="location.reload")
    first = client.get("/deployment/audit", {"action": "run.launch"})
    assert len(first.context["entries"]) == 50 and first.context["next_url"]
    rest = client.get("/deployment/audit" + first.context["next_url"])
    assert [e.target_id for e in rest.context["entries"]] == [f"run-{i}" for i in range(4, -1, -1)]
    assert rest.context["next_url"] is None and rest.context["first_url"]
    assert "is not a cursor" in client.get("/deployment/audit", {"cursor": "x"}).content.decode()
    assert "must be a date" in client.get("/deployment/audit", {"since": "yesterday"}).content.decode()


def test_the_audit_page_shows_hostile_text_escaped(client):
    audit_record(actor=Actor(kind="user", name="<script>alert(1)</script>"), action="run.launch",
                 target_type="run", target_id="<b>x</b>", details={"x": "<img src=x>"})
    html = client.get("/deployment/audit").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x>" not in html and "<b>x</b>" not in html


def test_the_admin_lists_entries_read_only(client):
    from django.contrib.auth import get_user_model

    _entries(3)
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    client.force_login(admin)
    response = client.get("/admin/core/auditentry/", {"q": "run-1", "actor_kind": "user"})
    assert response.status_code == 200 and "run-1" in response.content.decode()
    entry = AuditEntry.objects.first()
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    assert client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# --- retention ------------------------------------------------------------------------------------


def test_retention_purges_entries_older_than_the_configured_days(settings):
    _entries(4)
    ages = {"run-0": 400, "run-1": 40, "run-2": 10, "run-3": 0}
    for target_id, days in ages.items():
        AuditEntry.objects.filter(target_id=target_id).update(created_at=timezone.now() - dt.timedelta(days=days))
    assert audit_purge() == 1  # the default keeps a year
    assert set(AuditEntry.objects.values_list("target_id", flat=True)) == {"run-1", "run-2", "run-3"}
    use_instance(settings, retention=RetentionConfig(audit=AuditRetentionEntry(purge_after_days=30)))
    assert audit_purge() == 1
    assert set(AuditEntry.objects.values_list("target_id", flat=True)) == {"run-2", "run-3"}
    use_instance(settings, retention=RetentionConfig(audit=AuditRetentionEntry(purge_after_days=-1)))
    AuditEntry.objects.update(created_at=timezone.now() - dt.timedelta(days=5000))
    assert audit_purge() == 0 and AuditEntry.objects.count() == 2


def test_the_retention_duty_is_the_daemon_task_beat_sends(settings):
    from core.tasks import audit_purge_task

    _entries(2)
    AuditEntry.objects.filter(target_id="run-0").update(created_at=timezone.now() - dt.timedelta(days=366))
    assert audit_purge_task.apply().get() == 1
    assert list(AuditEntry.objects.values_list("target_id", flat=True)) == ["run-1"]


def test_orchestra_yaml_takes_an_audit_retention_entry():
    from core.instance_config import parse_instance_config

    assert parse_instance_config("", "t").retention.audit.purge_after_days == 365
    config = parse_instance_config("retention: {audit: {purge_after_days: 90}}\n", "t")
    assert config.retention.audit.purge_after_days == 90
    with pytest.raises(Exception, match="purge_after_days"):
        parse_instance_config("retention: {audit: {purge_after_days: -5}}\n", "t")
