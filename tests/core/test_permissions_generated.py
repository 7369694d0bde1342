"""Permission checks at every edge, generated from the GraphQL schema and the OpenAPI document (issue #11).

Every root mutation field of `orchestra_site.schema.schema` and every non-GET operation of
`/api/openapi.json` is checked: anonymous is refused (401), a viewer is denied (UnauthorizedError / 403)
and nothing changes, and a user holding only `least_role(permission)` gets past the check. A new mutation
or endpoint fails here by name until it has a rule (`<app>/permissions.py`) and a case below.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import graphene
import pytest
from graphql import GraphQLNonNull, GraphQLUnionType

from core.permissions import Permission, least_role
from orchestra_site.api import OPERATION_RULES
from orchestra_site.schema import MUTATION_RULES, schema
from runs import services
from runs.models import Run, RunStatus
from scheduling.models import Backfill, BackfillStatus, InstigatorState
from scheduling.services import instigators_reconcile
from tests.workspace.stored import store_location
from workspace.models import CodeLocation

pytestmark = pytest.mark.django_db

A, B = "loc_a", "loc_b"
REPOSITORY = "__repository__"
MUTATION_FIELDS = sorted(schema.graphql_schema.mutation_type.fields)


@dataclasses.dataclass
class World:
    """Two stored locations; in A a queued run, a finished run, a requested and a failed backfill."""

    queued: str
    finished: str
    requested_backfill: str
    failed_backfill: str
    queued_b: str


@pytest.fixture
def world(tmp_path, settings) -> World:
    config = settings.INSTANCE.config
    code_servers = config.code_servers.model_copy(update={"reload_timeout": 0})  # nobody serves reloads here
    from core.instance_config import RunQueueConfig

    config = config.model_copy(update={"run_queue": RunQueueConfig(), "code_servers": code_servers})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)  # queued: launches start nothing
    for name in (A, B):
        store_location(tmp_path, name=name)
        instigators_reconcile(location_name=name, force=True)
    queued = services.run_submit(job_name="plain", location_name=A)
    finished = services.run_submit(job_name="plain", location_name=A)
    services.run_terminate(run_id=finished.run_id)
    queued_b = services.run_submit(job_name="plain", location_name=B)
    requested = Backfill.objects.create(location_name=A, job_name="plain", partition_names=["x"])
    failed = Backfill.objects.create(location_name=A, job_name="plain", partition_names=["x"],
                                     status=BackfillStatus.FAILED)
    return World(queued=queued.run_id, finished=finished.run_id, requested_backfill=requested.backfill_id,
                 failed_backfill=failed.backfill_id, queued_b=queued_b.run_id)


def state() -> Any:
    """Everything a mutation or endpoint here could change."""
    return (
        sorted(Run.objects.values_list("run_id", "status")),
        sorted(InstigatorState.objects.values_list("kind", "location_name", "name", "status", "cursor")),
        sorted(Backfill.objects.values_list("backfill_id", "status")),
        sorted(CodeLocation.objects.values_list("name", "status", "reload_requested_at")),
    )


# --- GraphQL ----------------------------------------------------------------------------------------

SCHEDULE = {"repositoryLocationName": A, "repositoryName": REPOSITORY, "scheduleName": "hourly"}
SENSOR = {"repositoryLocationName": A, "repositoryName": REPOSITORY, "sensorName": "watcher"}
LAUNCH = {"selector": {"repositoryLocationName": A, "repositoryName": REPOSITORY, "jobName": "plain"}}

# The arguments each mutation is called with, aimed at objects in location A.
MUTATION_CASES: dict[str, Any] = {
    "launchRun": lambda w: {"executionParams": LAUNCH},
    "launchPipelineExecution": lambda w: {"executionParams": LAUNCH},
    "launchRunReexecution": lambda w: {"reexecutionParams": {"parentRunId": w.finished, "strategy": "ALL_STEPS"}},
    "launchPipelineReexecution": lambda w: {"reexecutionParams": {"parentRunId": w.finished,
                                                                  "strategy": "ALL_STEPS"}},
    "terminateRun": lambda w: {"runId": w.queued},
    "terminatePipelineExecution": lambda w: {"runId": w.queued},
    "terminateRuns": lambda w: {"runIds": [w.queued]},
    "deleteRun": lambda w: {"runId": w.finished},
    "deletePipelineRun": lambda w: {"runId": w.finished},
    "reloadRepositoryLocation": lambda w: {"repositoryLocationName": A},
    "shutdownRepositoryLocation": lambda w: {"repositoryLocationName": A},
    "reloadWorkspace": lambda w: {},
    "startSchedule": lambda w: {"scheduleSelector": SCHEDULE},
    "resetSchedule": lambda w: {"scheduleSelector": SCHEDULE},
    "stopRunningSchedule": lambda w: {"id": f"{REPOSITORY}@{A}:schedule:hourly"},
    "startSensor": lambda w: {"sensorSelector": SENSOR},
    "resetSensor": lambda w: {"sensorSelector": SENSOR},
    "setSensorCursor": lambda w: {"sensorSelector": SENSOR, "cursor": "c1"},
    "stopSensor": lambda w: {"id": f"{REPOSITORY}@{A}:sensor:watcher"},
    "launchPartitionBackfill": lambda w: {"backfillParams": {
        "selector": {"partitionSetName": "plain_partition_set",
                     "repositorySelector": {"repositoryLocationName": A, "repositoryName": REPOSITORY}},
        "partitionNames": ["x"]}},
    "resumePartitionBackfill": lambda w: {"backfillId": w.failed_backfill},
    "cancelPartitionBackfill": lambda w: {"backfillId": w.requested_backfill},
    "reexecutePartitionBackfill": lambda w: {"reexecutionParams": {"parentRunId": w.failed_backfill,
                                                                   "strategy": "ALL_STEPS"}},
}


def mutation_document(field: str) -> str:
    """The mutation `field` with every argument as a variable, selecting each result's type name."""
    definition = schema.graphql_schema.mutation_type.fields[field]
    variables = ", ".join(f"${name}: {arg.type}" for name, arg in definition.args.items())
    arguments = ", ".join(f"{name}: ${name}" for name in definition.args)
    result = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
    members = {t.name for t in result.types} if isinstance(result, GraphQLUnionType) else set()
    if "UnauthorizedError" in members:
        selection = "__typename ... on UnauthorizedError { message }"
    else:  # one answer per object (terminateRuns)
        selection = "__typename ... on TerminateRunsResult { terminateRunResults { __typename } }"
    head = f"mutation({variables})" if variables else "mutation"
    call = f"{field}({arguments})" if arguments else field
    return f"{head} {{ {call} {{ {selection} }} }}"


def call_mutation(client, field: str, variables: dict) -> tuple[int, Any]:
    response = client.post("/graphql", json.dumps({"query": mutation_document(field), "variables": variables}),
                           content_type="application/json")
    body = response.json()
    return response.status_code, (body.get("data") or {}).get(field, body)


def outcome_types(result: dict) -> list[str]:
    if result["__typename"] == "TerminateRunsResult":
        return [r["__typename"] for r in result["terminateRunResults"]]
    return [result["__typename"]]


def test_every_mutation_field_has_a_permission_rule():
    missing = [field for field in MUTATION_FIELDS if field not in MUTATION_RULES]
    assert not missing, f"mutations without a rule in <app>/permissions.py MUTATION_RULES: {missing}"


def test_every_mutation_can_answer_unauthorized():
    """A denied mutation answers UnauthorizedError in its result union; per-object ones in each result."""
    lacking = []
    for field in MUTATION_FIELDS:
        definition = schema.graphql_schema.mutation_type.fields[field]
        result = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        members = {t.name for t in result.types} if isinstance(result, GraphQLUnionType) else set()
        if "UnauthorizedError" not in members and not MUTATION_RULES[field].per_item:
            lacking.append(field)
    assert not lacking, f"result unions without UnauthorizedError: {lacking}"


@pytest.mark.parametrize("field", MUTATION_FIELDS)
def test_mutation_refuses_anonymous_and_viewer_and_admits_the_least_role(field, world, client, login_mode,
                                                                          login_as):
    assert field in MUTATION_CASES, f"no generated-test case for mutation {field}: add one to MUTATION_CASES"
    rule = MUTATION_RULES[field]
    variables = MUTATION_CASES[field](world)
    before = state()

    status, _ = call_mutation(client, field, variables)
    assert status == 401

    login_as("viewer")
    status, result = call_mutation(client, field, variables)
    assert status == 200 and set(outcome_types(result)) == {"UnauthorizedError"}, result
    assert state() == before, f"{field} changed something for a viewer"

    login_as(least_role(rule.permission).label)
    status, result = call_mutation(client, field, variables)
    assert status == 200 and "UnauthorizedError" not in outcome_types(result), result


def test_a_mutation_without_a_rule_is_refused_and_never_resolves():
    from core.graphql import UnauthorizedError
    from core.guards import guard_mutations

    ran = []

    class Done(graphene.ObjectType):
        ok = graphene.Boolean()

    class Outcome(graphene.Union):
        class Meta:
            types = (Done, UnauthorizedError)

    class Mutation(graphene.ObjectType):
        act = graphene.NonNull(Outcome, resolver=lambda root, info: ran.append(1) or Done(ok=True))

    class Query(graphene.ObjectType):
        ping = graphene.Boolean()

    unruled = graphene.Schema(query=Query, mutation=Mutation)
    guard_mutations(unruled, {})
    result = unruled.execute("mutation { act { __typename ... on UnauthorizedError { message } } }")
    assert result.data["act"]["__typename"] == "UnauthorizedError" and "act" in result.data["act"]["message"]
    assert ran == []


# --- REST -------------------------------------------------------------------------------------------

# The path parameters, query string and body each operation is called with, aimed at objects in location A.
OPERATION_CASES: dict[str, Any] = {
    "runs_api_launch_launch_run": lambda w: ({}, "", {"job_name": "plain", "location_name": A}),
    "runs_api_delete_run": lambda w: ({"run_id": w.finished}, "", None),
    "runs_api_launch_terminate_run": lambda w: ({"run_id": w.queued}, "", {}),
    "runs_api_launch_reexecute_run": lambda w: ({"run_id": w.finished}, "", {"strategy": "ALL_STEPS"}),
    "workspace_api_reload_location": lambda w: ({"name": A}, "timeout=0", None),
    "scheduling_api_start_schedule": lambda w: ({"location": A, "name": "hourly"}, "", None),
    "scheduling_api_stop_schedule": lambda w: ({"location": A, "name": "hourly"}, "", None),
    "scheduling_api_reset_schedule": lambda w: ({"location": A, "name": "hourly"}, "", None),
    "scheduling_api_start_sensor": lambda w: ({"location": A, "name": "watcher"}, "", None),
    "scheduling_api_stop_sensor": lambda w: ({"location": A, "name": "watcher"}, "", None),
    "scheduling_api_reset_sensor": lambda w: ({"location": A, "name": "watcher"}, "", None),
    "scheduling_api_set_sensor_cursor": lambda w: ({"location": A, "name": "watcher"}, "", {"cursor": "c1"}),
    "scheduling_api_create_backfill": lambda w: ({}, "", {"location_name": A, "job_name": "plain",
                                                          "all_partitions": True}),
    "scheduling_api_cancel_backfill": lambda w: ({"backfill_id": w.requested_backfill}, "", None),
    "scheduling_api_reexecute_backfill": lambda w: ({"backfill_id": w.failed_backfill}, "", None),
    "scheduling_api_resume_backfill": lambda w: ({"backfill_id": w.failed_backfill}, "", None),
}


def _openapi() -> dict:
    from orchestra_site.api import api

    return api.get_openapi_schema()


def state_changing_operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path) of every non-GET operation in the OpenAPI document."""
    return sorted((op["operationId"], method.upper(), path) for path, ops in _openapi()["paths"].items()
                  for method, op in ops.items() if method.upper() not in {"GET", "HEAD", "OPTIONS"})


OPERATIONS = state_changing_operations()


def test_the_served_openapi_document_lists_the_same_operations(client):
    served = client.get("/api/openapi.json").json()
    ids = sorted(op["operationId"] for ops in served["paths"].values() for method, op in ops.items()
                 if method.upper() != "GET")
    assert ids == [op_id for op_id, _, _ in OPERATIONS]


def test_every_state_changing_operation_has_a_permission_rule():
    missing = [op_id for op_id, _, _ in OPERATIONS if op_id not in OPERATION_RULES]
    assert not missing, f"operations without a rule in <app>/permissions.py OPERATION_RULES: {missing}"


def call_operation(client, method: str, path: str, params: dict, query: str, body: Any):
    url = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], path) + (f"?{query}" if query else "")
    data = json.dumps(body) if body is not None else None
    return client.generic(method, url, data or "", content_type="application/json")


@pytest.mark.parametrize("operation_id, method, path", OPERATIONS)
def test_operation_refuses_anonymous_and_viewer_and_admits_the_least_role(operation_id, method, path, world,
                                                                          client, login_mode, login_as):
    assert operation_id in OPERATION_CASES, f"no generated-test case for {operation_id}: add one to OPERATION_CASES"
    rule = OPERATION_RULES[operation_id]
    params, query, body = OPERATION_CASES[operation_id](world)
    before = state()

    assert call_operation(client, method, path, params, query, body).status_code == 401

    login_as("viewer")
    response = call_operation(client, method, path, params, query, body)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden" and response.json()["message"]
    assert state() == before, f"{operation_id} changed something for a viewer"

    login_as(least_role(rule.permission).label)
    response = call_operation(client, method, path, params, query, body)
    assert response.status_code != 403 and response.status_code < 500, response.content


# --- scoped to one code location --------------------------------------------------------------------


def test_a_launcher_in_b_cannot_launch_terminate_or_reexecute_in_a_but_can_in_b(world, client, login_as):
    login_as("launcher", B)
    before = state()
    launch_a = call_mutation(client, "launchRun", {"executionParams": LAUNCH})[1]
    assert launch_a["__typename"] == "UnauthorizedError" and repr(A) in launch_a["message"]
    assert call_mutation(client, "terminateRun", {"runId": world.queued})[1]["__typename"] == "UnauthorizedError"
    reexecute = {"reexecutionParams": {"parentRunId": world.finished, "strategy": "ALL_STEPS"}}
    assert call_mutation(client, "launchRunReexecution", reexecute)[1]["__typename"] == "UnauthorizedError"
    assert call_operation(client, "POST", "/api/runs", {}, "", {"job_name": "plain", "location_name": A}
                          ).status_code == 403
    assert call_operation(client, "POST", "/api/runs", {}, "", {"job_name": "plain", "location_name": A}
                          ).json()["code"] == "forbidden"
    assert call_operation(client, "POST", "/api/runs/{run_id}/terminate", {"run_id": world.queued}, "", {}
                          ).status_code == 403
    assert client.post(f"/runs/{world.queued}/terminate").status_code == 403
    assert client.post(f"/locations/{A}/jobs/plain/", {"run_config": ""}).status_code == 403
    assert state() == before

    launch_b = {"selector": {**LAUNCH["selector"], "repositoryLocationName": B}}
    assert call_mutation(client, "launchRun", {"executionParams": launch_b})[1]["__typename"] == "LaunchRunSuccess"
    both = call_mutation(client, "terminateRuns", {"runIds": [world.queued, world.queued_b]})[1]
    assert outcome_types(both) == ["UnauthorizedError", "TerminateRunSuccess"]
    assert Run.objects.get(run_id=world.queued).status == RunStatus.QUEUED
    assert Run.objects.get(run_id=world.queued_b).status == RunStatus.CANCELED


def test_a_launcher_job_name_without_location_is_checked_where_the_job_is(world, client, login_as, tmp_path):
    CodeLocation.objects.filter(name=B).delete()  # `plain` is then only in A
    login_as("launcher", B)
    response = call_operation(client, "POST", "/api/runs", {}, "", {"job_name": "plain"})
    assert response.status_code == 403 and repr(A) in response.json()["message"]


def test_an_editor_in_b_cannot_reload_a_or_the_workspace_but_can_reload_b(world, client, login_as):
    login_as("editor", B)
    refused = call_mutation(client, "reloadRepositoryLocation", {"repositoryLocationName": A})[1]
    assert refused["__typename"] == "UnauthorizedError"
    assert call_mutation(client, "reloadWorkspace", {})[1]["__typename"] == "UnauthorizedError"
    assert call_operation(client, "POST", "/api/locations/{name}/reload", {"name": A}, "timeout=0", None
                          ).status_code == 403
    assert client.post(f"/deployment/locations/{A}/reload").status_code == 403
    assert CodeLocation.objects.get(name=A).reload_requested_at is None
    allowed = call_operation(client, "POST", "/api/locations/{name}/reload", {"name": B}, "timeout=0", None)
    assert allowed.status_code == 200
    assert CodeLocation.objects.get(name=B).reload_requested_at is not None


def test_a_launcher_in_a_cannot_reload_a(world, client, login_as):
    login_as("launcher", A)
    assert call_operation(client, "POST", "/api/locations/{name}/reload", {"name": A}, "timeout=0", None
                          ).status_code == 403
    assert call_mutation(client, "reloadRepositoryLocation", {"repositoryLocationName": A}
                         )[1]["__typename"] == "UnauthorizedError"


# --- GraphQL `permissions` --------------------------------------------------------------------------

PERMISSIONS = """
{ permissions { permission value disabledReason }
  workspaceOrError { ... on Workspace { locationEntries { name permissions { permission value } } } }
  locationStatusesOrError { ... on WorkspaceLocationStatusEntries { entries { name permissions { permission value } } } }
}
"""


def _held(entries: list[dict]) -> set[str]:
    return {p["permission"] for p in entries if p["value"]}


def test_permissions_answers_dagster_names_for_the_caller_and_per_location(world, client, login_as):
    login_as("launcher", B)
    data = json.loads(client.post("/graphql", json.dumps({"query": PERMISSIONS}),
                                  content_type="application/json").content)["data"]
    assert {p["permission"] for p in data["permissions"]} == {p.value for p in Permission}
    assert _held(data["permissions"]) == set()  # nothing instance-wide
    assert all(p["disabledReason"] for p in data["permissions"])
    for entries in (data["workspaceOrError"]["locationEntries"], data["locationStatusesOrError"]["entries"]):
        by_name = {e["name"]: _held(e["permissions"]) for e in entries}
        assert by_name[A] == set()
        assert "launch_pipeline_execution" in by_name[B] and "reload_repository_location" not in by_name[B]

    login_as("editor")
    data = json.loads(client.post("/graphql", json.dumps({"query": PERMISSIONS}),
                                  content_type="application/json").content)["data"]
    assert {"reload_workspace", "wipe_assets", "launch_pipeline_execution"} <= _held(data["permissions"])
    assert "manage_users" not in _held(data["permissions"])


def test_has_permission_fields_answer_for_the_object_s_location(world, client, login_as):
    login_as("launcher", B)
    query = """query($a: ID!, $b: ID!) {
      a: runOrError(runId: $a) { ... on Run { hasTerminatePermission hasReExecutePermission hasDeletePermission } }
      b: runOrError(runId: $b) { ... on Run { hasTerminatePermission hasReExecutePermission hasDeletePermission } }
    }"""
    data = json.loads(client.post("/graphql", json.dumps({"query": query, "variables": {
        "a": world.queued, "b": world.queued_b}}), content_type="application/json").content)["data"]
    assert data["a"] == {"hasTerminatePermission": False, "hasReExecutePermission": False,
                         "hasDeletePermission": False}
    assert data["b"] == {"hasTerminatePermission": True, "hasReExecutePermission": True,
                         "hasDeletePermission": False}


# --- the UI hides what the user may not do ----------------------------------------------------------


def test_run_page_shows_terminate_only_to_who_may_terminate_there(world, client, login_as):
    login_as("viewer")
    assert b">Terminate</button>" not in client.get(f"/runs/{world.queued}/").content
    login_as("launcher", B)
    assert b">Terminate</button>" not in client.get(f"/runs/{world.queued}/").content
    assert b">Terminate</button>" in client.get(f"/runs/{world.queued_b}/").content
    assert b"Re-execute" not in client.get(f"/runs/{world.finished}/").content
    login_as("launcher", A)
    assert b">Terminate</button>" in client.get(f"/runs/{world.queued}/").content
    assert b"Re-execute" in client.get(f"/runs/{world.finished}/").content


def test_pages_hide_launch_materialize_reload_and_toggles_from_a_viewer(world, client, login_as):
    login_as("viewer")
    assert b"Launch run</button>" not in client.get(f"/locations/{A}/jobs/plain/").content
    assert b"Materialize</button>" not in client.get("/assets/raw/").content
    assert b"Reload</button>" not in client.get("/deployment/").content
    automation = client.get("/automation/").content
    assert b"Start</button>" not in automation and b"Set cursor</button>" not in automation

    login_as("launcher")
    assert b"Launch run</button>" in client.get(f"/locations/{A}/jobs/plain/").content
    assert b"Materialize</button>" in client.get("/assets/raw/").content
    assert b"Reload</button>" not in client.get("/deployment/").content  # reload needs an editor
    automation = client.get("/automation/").content
    assert b"Start</button>" in automation and b"Set cursor</button>" not in automation

    login_as("editor", A)
    html = client.get("/deployment/").content.decode()
    assert html.count("Reload</button>") == 1 and f"/deployment/locations/{A}/reload" in html


def test_hiding_buttons_costs_no_query_per_row(world, client, login_as, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login_as("launcher", A)
    client.get("/automation/")
    with CaptureQueriesContext(connection) as two_locations:
        assert client.get("/automation/").status_code == 200
    for name in ("loc_c", "loc_d", "loc_e"):
        store_location(tmp_path, name=name)
        instigators_reconcile(location_name=name, force=True)
    with CaptureQueriesContext(connection) as five_locations:
        html = client.get("/automation/").content.decode()
    assert html.count("Start</button>") == 2  # the schedule and the sensor in A, none elsewhere
    assert len(five_locations) == len(two_locations)


# --- every UI page's POST ---------------------------------------------------------------------------

# A value for each URL parameter name the UI uses, aimed at objects in location A.
URL_SAMPLES = {"run_id": lambda w: w.queued, "file_key": lambda w: "x", "location_name": lambda w: A,
               "name": lambda w: A, "job_name": lambda w: "plain", "key": lambda w: "raw",
               "kind": lambda w: "schedule", "action": lambda w: "start", "prefix": lambda w: "nope",
               "backfill_id": lambda w: w.requested_backfill, "graph_path": lambda w: "nope"}
NOT_UI = ("admin/", "api/", "graphql", "health", "static/", "oidc/", "login/", "logout/")
# POSTs that only read: a viewer may send them (none now: the launchpad checks config through /graphql).
READ_ONLY_POSTS: set[str] = set()


def ui_patterns() -> list[tuple[str, str, list[str]]]:
    """(route, URL name, parameter names) of every server-rendered page in the URL map."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route and not route.startswith(NOT_UI):
                found.append((route, pattern.name or "", list(pattern.pattern.converters)))

    walk(get_resolver().url_patterns, "")
    return sorted(found)


@pytest.mark.parametrize("route, url_name, names", ui_patterns())
def test_no_ui_page_changes_anything_for_a_viewer_s_post(route, url_name, names, world, client, login_as):
    missing = [name for name in names if name not in URL_SAMPLES]
    assert not missing, f"add a sample value for URL parameter(s) {missing} of {route}"
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: URL_SAMPLES[m.group(1)](world), route)
    login_as("viewer")
    before = state()
    # Form fields the UI's forms send, so each view gets as far as its permission check.
    response = client.post(path, {"key": "raw", "strategy": "ALL_STEPS", "cursor": "c1", "run_config": "",
                                  "role": "admin", "name": "t", "action": "terminate", "run_id": world.queued})
    if url_name not in READ_ONLY_POSTS:
        assert response.status_code in (403, 405), f"POST {path} answered {response.status_code} to a viewer"
    assert state() == before


def test_a_launcher_token_scoped_to_a_cannot_launch_terminate_or_reload_in_b(world, login_as):
    """The issue's case, through the real Bearer path: the token's own role and scope decide."""
    from django.test import Client

    from core.services import token_create

    owner = login_as("admin", username="token-owner")
    _, plaintext = token_create(user=owner, role="launcher", name="ci", location_name=A, actor=None)
    api = Client(headers={"Authorization": f"Bearer {plaintext}"})
    before = state()
    launch_b = {"selector": {**LAUNCH["selector"], "repositoryLocationName": B}}
    assert call_mutation(api, "launchRun", {"executionParams": launch_b})[1]["__typename"] == "UnauthorizedError"
    assert call_mutation(api, "terminateRun", {"runId": world.queued_b})[1]["__typename"] == "UnauthorizedError"
    assert call_mutation(api, "reloadRepositoryLocation", {"repositoryLocationName": B}
                         )[1]["__typename"] == "UnauthorizedError"
    assert call_operation(api, "POST", "/api/runs", {}, "", {"job_name": "plain", "location_name": B}
                          ).status_code == 403
    assert state() == before
    assert call_mutation(api, "launchRun", {"executionParams": LAUNCH})[1]["__typename"] == "LaunchRunSuccess"
    assert call_mutation(api, "reloadRepositoryLocation", {"repositoryLocationName": A}  # editor's, not launcher's
                         )[1]["__typename"] == "UnauthorizedError"
