"""Backfills of partitioned assets: one run of the implicit asset job per partition, with the selection as its
asset selection; progress, refusals, GraphQL and the CLI, against a real code server."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from core.exceptions import InvalidInput, NotFound
from runs import selectors
from runs.models import Run, RunStatus
from runs.services import EventInput, event_store
from scheduling.backfills import (
    backfill_cancel,
    backfill_create,
    backfill_progress,
    backfill_reexecute_failed,
)
from scheduling.models import Backfill, BackfillStatus
from tests.cli.test_job_cli import orchestra
from tests.conftest import REPO, child_env
from tests.runs.holding_launcher import HoldingLauncher, use_holding_launcher
from tests.workspace.conftest import start_code_server
from workspace.config import LocationEntry
from workspace.models import CodeLocation

pytestmark = pytest.mark.django_db(transaction=True)

ASSET_LOCATION = "asset_defs"

DEFS = '''
import orchestra as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=daily)
def raw():
    return 1


@dg.asset(partitions_def=daily, key_prefix=["shop"])
def clean(raw):
    return raw


@dg.asset(partitions_def=dg.WeeklyPartitionsDefinition(start_date="2024-01-01"))
def weekly_totals():
    return 1


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
def lettered():
    return 1


@dg.asset
def plain():
    return 1


defs = dg.Definitions(assets=[raw, clean, weekly_totals, lettered, plain])
'''

PAIR = ["raw", "shop/clean"]
JANUARY = [f"2024-01-{day:02d}" for day in range(1, 32)]


@pytest.fixture(scope="module")
def asset_code_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("asset-backfill-code-server")
    (tmp_path / "defs.py").write_text(DEFS)
    server = start_code_server(tmp_path, "-f", str(tmp_path / "defs.py"), "--location-name", ASSET_LOCATION)
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture
def assets(asset_code_server) -> CodeLocation:
    from workspace.services import location_load

    entry = LocationEntry(name=ASSET_LOCATION, kind="code_server", host=asset_code_server.info["host"],
                          port=asset_code_server.info["port"])
    location = location_load(entry=entry, client=asset_code_server.client)
    assert location.status == "LOADED", location.load_error
    return location


def runs_of(backfill: Backfill) -> list[Run]:
    return list(Run.objects.filter(tags__key="dagster/backfill", tags__value=backfill.backfill_id).order_by("id"))


def selection(run: Run) -> list[str]:
    return sorted("/".join(path) for path in run.asset_selection)


def finish(backfill: Backfill, event: str = "RUN_SUCCESS") -> None:
    for run in runs_of(backfill):
        event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START"), EventInput(event_type=event)])


def test_three_partitions_of_an_asset_pair_become_three_asset_job_runs_then_complete(assets):
    backfill = backfill_create(location_name=ASSET_LOCATION, asset_selection=PAIR,
                               partition_range=("2024-01-01", "2024-01-03"), tags={"team": "data"})
    assert (backfill.job_name, backfill.asset_selection, backfill.partition_names) == \
        ("__ASSET_JOB", PAIR, JANUARY[:3])
    backfill = backfill_progress(backfill_id=backfill.backfill_id, batch_size=2, max_batches=1)
    assert (backfill.status, backfill.submitted) == (BackfillStatus.REQUESTED, 2)
    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    runs = runs_of(backfill)
    assert len(runs) == 3
    for run, partition in zip(runs, JANUARY[:3], strict=True):
        tags = dict(run.tags.values_list("key", "value"))
        assert run.job_name == "__ASSET_JOB" and selection(run) == PAIR
        assert run.run_config == {} and run.status == RunStatus.QUEUED
        assert tags["dagster/backfill"] == backfill.backfill_id and tags["dagster/partition"] == partition
        assert tags["team"] == "data"
        assert "dagster/asset_partition_range_start" not in tags  # one run per partition: no range tags

    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.REQUESTED  # runs in flight
    finish(backfill)
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_SUCCESS


def test_a_failed_partition_is_reexecuted_as_an_asset_backfill_and_cancel_stops_it(assets):
    backfill = backfill_create(asset_selection=["raw"], partition_names=JANUARY[:2])  # the location is found
    assert backfill.location_name == ASSET_LOCATION
    backfill_progress(backfill_id=backfill.backfill_id)
    first, second = runs_of(backfill)
    event_store(run_id=first.run_id, events=[EventInput(event_type="RUN_START"), EventInput(event_type="RUN_SUCCESS")])
    event_store(run_id=second.run_id, events=[EventInput(event_type="RUN_START"), EventInput(event_type="RUN_FAILURE")])
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_FAILED

    again = backfill_reexecute_failed(backfill_id=backfill.backfill_id)
    assert (again.asset_selection, again.partition_names, again.from_failure_of) == \
        (["raw"], [JANUARY[1]], backfill.backfill_id)
    backfill_progress(backfill_id=again.backfill_id)
    assert backfill_cancel(backfill_id=again.backfill_id).status == BackfillStatus.CANCELED
    assert [run.status for run in runs_of(again)] == [RunStatus.CANCELED]


def test_static_partitions_and_all_partitions(assets):
    backfill = backfill_create(location_name=ASSET_LOCATION, asset_selection=["lettered"], all_partitions=True)
    assert backfill.partition_names == ["a", "b"]


def test_assets_of_different_partitions_or_none_are_refused_with_the_reason(assets):
    with pytest.raises(InvalidInput, match="share one partitions definition") as refused:
        backfill_create(location_name=ASSET_LOCATION, asset_selection=["raw", "weekly_totals"], all_partitions=True)
    assert "'raw': DailyPartitionsDefinition from 2024-01-01" in str(refused.value)
    assert "'weekly_totals': WeeklyPartitionsDefinition from 2024-01-0" in str(refused.value)
    with pytest.raises(InvalidInput, match="'plain' have no partitions"):
        backfill_create(location_name=ASSET_LOCATION, asset_selection=["raw", "plain"], all_partitions=True)
    with pytest.raises(InvalidInput, match="no assets 'nope'"):
        backfill_create(location_name=ASSET_LOCATION, asset_selection=["nope"], all_partitions=True)
    with pytest.raises(InvalidInput, match="no partitions named '1999-01-01'"):
        backfill_create(location_name=ASSET_LOCATION, asset_selection=PAIR, partition_names=["1999-01-01"])
    with pytest.raises(InvalidInput, match="exactly one of job_name or asset_selection"):
        backfill_create(location_name=ASSET_LOCATION, job_name="__ASSET_JOB", asset_selection=PAIR,
                        all_partitions=True)
    with pytest.raises(NotFound):
        backfill_create(asset_selection=["nope"], all_partitions=True)
    assert not Backfill.objects.exists()


LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId launchedRunIds }
  ... on PartitionKeysNotFoundError { message } ... on PythonError { message } } }
query One($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { id status isAssetBackfill assetSelection { path } partitionNames
    runs { runId tags { key value } } } } }
"""


def gql(client, variables: dict, operation: str) -> dict:
    response = client.post("/graphql", json.dumps({"query": LAUNCH, "variables": variables,
                                                   "operationName": operation}), content_type="application/json")
    assert response.status_code == 200, response.content
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def test_graphql_launches_an_asset_backfill(client, assets):
    params = {"assetSelection": [{"path": ["raw"]}, {"path": ["shop", "clean"]}], "partitionNames": JANUARY[:3],
              "tags": [{"key": "team", "value": "data"}], "forceSynchronousSubmission": True}
    launched = gql(client, {"params": params}, "Launch")["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess" and len(launched["launchedRunIds"]) == 3, launched
    one = gql(client, {"id": launched["backfillId"]}, "One")["partitionBackfillOrError"]
    assert one["isAssetBackfill"] is True and one["assetSelection"] == [{"path": ["raw"]}, {"path": ["shop", "clean"]}]
    assert sorted(t["value"] for r in one["runs"] for t in r["tags"] if t["key"] == "dagster/partition") == JANUARY[:3]
    assert selection(Run.objects.get(run_id=launched["launchedRunIds"][0])) == PAIR

    mixed = {**params, "assetSelection": [{"path": ["raw"]}, {"path": ["weekly_totals"]}]}
    refused = gql(client, {"params": mixed}, "Launch")["launchPartitionBackfill"]
    assert refused["__typename"] == "PythonError" and "share one partitions definition" in refused["message"]
    missing = gql(client, {"params": {**params, "partitionNames": ["1999-01-01"]}}, "Launch")
    assert missing["launchPartitionBackfill"]["__typename"] == "PartitionKeysNotFoundError"
    assert Backfill.objects.count() == 1


def test_rest_creates_an_asset_backfill(client, assets):
    response = client.post("/api/backfills", json.dumps({"asset_selection": PAIR, "partition_names": JANUARY[:2]}),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["job_name"], body["asset_selection"], body["location_name"]) == ("__ASSET_JOB", PAIR, ASSET_LOCATION)


def test_cli_create_is_launch_with_an_asset_selection(child_home, assets):
    created = orchestra(child_home, "backfill", "create", "--select", "raw,shop/clean", "--from", "2024-01-01",
                        "--to", "2024-01-03", "--noprompt")
    assert created.returncode == 0, created.stderr
    backfill = Backfill.objects.get()
    assert created.stdout == f"Launched backfill {backfill.backfill_id} of assets raw, shop/clean: 3 partitions\n"
    assert (backfill.asset_selection, backfill.partition_names) == (PAIR, JANUARY[:3])
    shown = orchestra(child_home, "backfill", "show", backfill.backfill_id)
    assert "Assets: raw, shop/clean" in shown.stdout

    mixed = orchestra(child_home, "backfill", "launch", "--select", "raw,weekly_totals", "--all", "--noprompt")
    assert mixed.returncode == 1 and "share one partitions definition" in mixed.stderr
    both = orchestra(child_home, "backfill", "launch", "-j", "x", "--select", "raw", "--all", "--noprompt")
    assert both.returncode == 2 and "exactly one of -j/--job JOB or --select" in both.stderr
    assert Backfill.objects.count() == 1


def test_an_asset_backfill_run_materializes_its_partition_in_a_real_run_worker(child_home, assets, settings,
                                                                                 tmp_path):
    """The run of the implicit asset job (whose own partitions are another asset's) executes the selected
    assets for the run's partition in `orchestra api execute-run`."""
    config = settings.INSTANCE.config.model_copy(update={"run_queue": None, "run_coordinator": None})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    use_holding_launcher(settings)
    code = tmp_path / "code"
    code.mkdir()
    (code / "defs.py").write_text(DEFS)
    CodeLocation.objects.filter(name=ASSET_LOCATION).update(origin={
        "name": ASSET_LOCATION, "kind": "python_file", "python_file": str(code / "defs.py"),
        "working_directory": str(code)})

    backfill = backfill_create(location_name=ASSET_LOCATION, asset_selection=PAIR, partition_names=["2024-01-02"])
    backfill_progress(backfill_id=backfill.backfill_id)
    (run,) = runs_of(backfill)
    assert HoldingLauncher.launched == [run.run_id]
    proc = subprocess.run([sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run",
                           run.run_id], env=child_env(child_home), cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS
    materialized = selectors.events_after(run_id=run.run_id, limit=1000, event_types=["ASSET_MATERIALIZATION"])
    assert sorted(e.asset_key for e in materialized) == PAIR
    assert {e.partition for e in materialized} == {"2024-01-02"}
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_SUCCESS
