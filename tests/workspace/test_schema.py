"""GraphQL workspace, repositories and jobs read from stored snapshots; reload and shutdown mutations."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.runs.test_schema import gql
from tests.workspace.stored import store_broken_location, store_location
from workspace.config import LocationEntry
from workspace.models import CodeLocation, LocationStatus

pytestmark = pytest.mark.django_db

WORKSPACE = """
{ workspaceOrError { __typename ... on Workspace { id locationEntries {
    id name loadStatus updatedTimestamp displayMetadata { key value }
    locationOrLoadError { __typename
      ... on RepositoryLocation { name isReloadSupported repositories { name } }
      ... on PythonError { message className stack } } } } } }
"""

REPOSITORIES = """
{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
    id name location { id name }
    jobs { id name description isJob isAssetJob }
    pipelines { name }
    schedules { name cronSchedule pipelineName mode }
    sensors { name minIntervalSeconds }
    assetNodes { id assetKey { path } groupName description jobNames opName isMaterializable dependencyKeys { path } }
} } } }
"""

# Verbatim from dagster_graphql/client/client_queries.py (how the client finds a job's location).
CLIENT_JOB_NAMES = """
query GraphQLClientGetJobNames {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } pipelines { name } } }
    ... on PythonError { message }
  }
}
"""

# Verbatim from dagster_graphql/client/client_queries.py.
CLIENT_RELOAD = """
mutation GraphQLClientReloadCodeLocation($repositoryLocationName: String!) {
   reloadRepositoryLocation(repositoryLocationName: $repositoryLocationName) {
      __typename
      ... on WorkspaceLocationEntry {
        name
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { isReloadSupported repositories { name } }
          ... on PythonError { message }
        }
      }
      ... on ReloadNotSupported { message }
      ... on RepositoryLocationNotFound { message }
   }
}
"""

SHUTDOWN = """
mutation($name: String!) { shutdownRepositoryLocation(repositoryLocationName: $name) { __typename
    ... on ShutdownRepositoryLocationSuccess { repositoryLocationName }
    ... on RepositoryLocationNotFound { message } ... on UnauthorizedError { message }
    ... on PythonError { message } } }
"""


@pytest.fixture
def reload_timeout(settings):
    """A short reload wait: no supervisor serves these tests' locations."""
    config = settings.INSTANCE.config.model_copy(
        update={"code_servers": settings.INSTANCE.config.code_servers.model_copy(update={"reload_timeout": 1})})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)


def test_workspace_lists_loaded_failed_and_loading_locations(client, tmp_path):
    store_location(tmp_path, name="data")
    store_broken_location("broken")
    CodeLocation.objects.create(name="starting", origin={"name": "starting", "kind": "python_file"})
    data = gql(client, WORKSPACE)["data"]["workspaceOrError"]
    assert data["__typename"] == "Workspace"
    entries = {e["name"]: e for e in data["locationEntries"]}
    assert list(entries) == ["broken", "data", "starting"]
    loaded = entries["data"]
    assert loaded["loadStatus"] == "LOADED"
    assert loaded["locationOrLoadError"] == {"__typename": "RepositoryLocation", "name": "data",
                                             "isReloadSupported": True, "repositories": [{"name": "__repository__"}]}
    assert {"key": "python_file", "value": str(tmp_path / "data_defs.py")} in loaded["displayMetadata"]
    failed = entries["broken"]["locationOrLoadError"]
    assert entries["broken"]["loadStatus"] == "LOADED"  # Dagster: done loading, with an error
    assert failed["__typename"] == "PythonError" and failed["className"] == "SyntaxError"
    assert "invalid syntax" in failed["message"] and failed["stack"]
    assert entries["starting"]["loadStatus"] == "LOADING" and entries["starting"]["locationOrLoadError"] is None


def test_location_statuses_answer_each_locations_load_state_in_one_query(client, tmp_path):
    store_location(tmp_path)
    store_broken_location()
    query = """{ locationStatusesOrError { __typename ... on WorkspaceLocationStatusEntries {
        entries { id name loadStatus updateTimestamp versionKey } } } }"""
    with CaptureQueriesContext(connection) as queries:
        data = gql(client, query)["data"]["locationStatusesOrError"]
    assert len(queries) == 1
    data_location, broken = CodeLocation.objects.get(name="data"), CodeLocation.objects.get(name="broken")
    assert data["entries"] == [
        {"id": "broken", "name": "broken", "loadStatus": "LOADED", "versionKey": str(broken.updated_at.timestamp()),
         "updateTimestamp": pytest.approx(broken.updated_at.timestamp())},
        {"id": "data", "name": "data", "loadStatus": "LOADED", "versionKey": data_location.snapshot_id,
         "updateTimestamp": pytest.approx(data_location.updated_at.timestamp())},
    ]


def test_repositories_serve_jobs_schedules_sensors_and_asset_nodes_from_the_snapshot(client, tmp_path):
    store_location(tmp_path)
    [repo] = gql(client, REPOSITORIES)["data"]["repositoriesOrError"]["nodes"]
    assert repo["name"] == "__repository__" and repo["location"] == {"id": "data", "name": "data"}
    jobs = {j["name"]: j for j in repo["jobs"]}
    assert set(jobs) == {"__ASSET_JOB", "etl", "plain"}
    assert jobs["etl"]["description"] == "Emit a number and double it."
    assert jobs["etl"]["isJob"] and not jobs["etl"]["isAssetJob"] and jobs["__ASSET_JOB"]["isAssetJob"]
    assert [p["name"] for p in repo["pipelines"]] == [j["name"] for j in repo["jobs"]]
    assert repo["schedules"] == [{"name": "hourly", "cronSchedule": "0 * * * *", "pipelineName": "plain",
                                  "mode": "default"}]
    assert repo["sensors"] == [{"name": "watcher", "minIntervalSeconds": 45}]
    nodes = {tuple(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
    assert nodes[("clean",)]["dependencyKeys"] == [{"path": ["raw"]}]
    assert nodes[("clean",)]["groupName"] == "warehouse" and nodes[("clean",)]["description"] == "Cleaned rows."
    assert nodes[("raw",)]["jobNames"] == ["__ASSET_JOB"] and nodes[("raw",)]["isMaterializable"]


def test_dagsters_client_finds_job_locations_with_its_own_query(client, tmp_path):
    store_location(tmp_path, name="data")
    store_location(tmp_path, name="more")
    store_broken_location()
    data = gql(client, CLIENT_JOB_NAMES)["data"]["repositoriesOrError"]
    assert data["__typename"] == "RepositoryConnection"
    assert [n["location"]["name"] for n in data["nodes"]] == ["data", "more"]  # the broken one has no repository
    assert {"name": "etl"} in data["nodes"][0]["pipelines"]


def test_workspace_and_repository_lists_take_one_query_however_many_locations(client, tmp_path):
    def count(query: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            gql(client, query)
        return len(queries)

    store_location(tmp_path, name="a")
    few = count(WORKSPACE), count(REPOSITORIES)
    for name in ("b", "c", "d"):
        store_location(tmp_path, name=name)
    store_broken_location()
    assert (count(WORKSPACE), count(REPOSITORIES)) == few == (1, 1)


def test_repository_by_selector_or_repository_not_found(client, tmp_path):
    store_location(tmp_path)
    query = """query($s: RepositorySelector!) { repositoryOrError(repositorySelector: $s) { __typename
        ... on Repository { name jobs { name } } ... on RepositoryNotFoundError { message repositoryName } } }"""
    found = gql(client, query, {"s": {"repositoryLocationName": "data", "repositoryName": "__repository__"}})
    assert found["data"]["repositoryOrError"]["name"] == "__repository__"
    missing = gql(client, query, {"s": {"repositoryLocationName": "data", "repositoryName": "other"}})
    assert missing["data"]["repositoryOrError"] == {"__typename": "RepositoryNotFoundError",
                                                    "message": "Could not find Repository data.other",
                                                    "repositoryName": "other"}
    listed = """query($s: RepositorySelector) { repositoriesOrError(repositorySelector: $s) { __typename } }"""
    assert gql(client, listed, {"s": {"repositoryLocationName": "gone", "repositoryName": "__repository__"}})[
        "data"]["repositoriesOrError"]["__typename"] == "RepositoryNotFoundError"


def test_pipeline_or_error_finds_a_job_by_selector(client, tmp_path):
    store_location(tmp_path)
    query = """query($p: PipelineSelector!) { pipelineOrError(params: $p) { __typename
        ... on Pipeline { name isJob repository { name } } ... on PipelineNotFoundError { message pipelineName } } }"""
    selector = {"repositoryLocationName": "data", "repositoryName": "__repository__", "pipelineName": "etl"}
    assert gql(client, query, {"p": selector})["data"]["pipelineOrError"] == {
        "__typename": "Pipeline", "name": "etl", "isJob": True, "repository": {"name": "__repository__"}}
    missing = gql(client, query, {"p": {**selector, "pipelineName": "nope"}})["data"]["pipelineOrError"]
    assert missing["__typename"] == "PipelineNotFoundError" and missing["pipelineName"] == "nope"


def test_reload_of_an_unknown_location_is_not_found(client):
    result = gql(client, CLIENT_RELOAD, {"repositoryLocationName": "nope"})["data"]["reloadRepositoryLocation"]
    assert result == {"__typename": "RepositoryLocationNotFound", "message": "Location nope does not exist."}


def test_reload_nobody_serves_answers_the_location_still_loading(client, tmp_path, reload_timeout):
    store_location(tmp_path)
    result = gql(client, CLIENT_RELOAD, {"repositoryLocationName": "data"})["data"]["reloadRepositoryLocation"]
    assert result == {"__typename": "WorkspaceLocationEntry", "name": "data", "locationOrLoadError": None}
    location = CodeLocation.objects.get(name="data")
    assert location.status == LocationStatus.LOADING and location.reload_requested_at is not None


def test_reload_workspace_requests_every_location(client, tmp_path, reload_timeout):
    store_location(tmp_path, name="a")
    store_location(tmp_path, name="b")
    query = "mutation { reloadWorkspace { __typename ... on Workspace { locationEntries { name loadStatus } } } }"
    result = gql(client, query)["data"]["reloadWorkspace"]
    assert result == {"__typename": "Workspace", "locationEntries": [{"name": "a", "loadStatus": "LOADING"},
                                                                     {"name": "b", "loadStatus": "LOADING"}]}


def test_shutdown_restarts_a_local_location_and_refuses_a_remote_one(client, tmp_path):
    store_location(tmp_path)
    result = gql(client, SHUTDOWN, {"name": "data"})["data"]["shutdownRepositoryLocation"]
    assert result == {"__typename": "ShutdownRepositoryLocationSuccess", "repositoryLocationName": "data"}
    assert CodeLocation.objects.get(name="data").reload_requested_at is not None
    remote = LocationEntry(name="remote", kind="code_server", host="127.0.0.1", port=1)
    CodeLocation.objects.create(name="remote", origin=remote.origin(), status=LocationStatus.LOADED)
    refused = gql(client, SHUTDOWN, {"name": "remote"})["data"]["shutdownRepositoryLocation"]
    assert refused["__typename"] == "PythonError" and "did not start" in refused["message"]
    missing = gql(client, SHUTDOWN, {"name": "nope"})["data"]["shutdownRepositoryLocation"]
    assert missing["__typename"] == "RepositoryLocationNotFound"


def test_reload_and_shutdown_without_permission_change_nothing(client, tmp_path, login_as):
    store_location(tmp_path)
    login_as("launcher")  # launchers may not reload code locations or the workspace
    for query, variables, field in [
        (CLIENT_RELOAD, {"repositoryLocationName": "data"}, "reloadRepositoryLocation"),
        (SHUTDOWN, {"name": "data"}, "shutdownRepositoryLocation"),
        ("mutation { reloadWorkspace { __typename } }", {}, "reloadWorkspace"),
    ]:
        assert gql(client, query, variables)["data"][field]["__typename"] == "UnauthorizedError"
    location = CodeLocation.objects.get(name="data")
    assert location.status == LocationStatus.LOADED and location.reload_requested_at is None
