"""Asset backfills by backfill policy, with real runs: a `single_run()` asset is one run over the partition
range, a `multi_run(N)` asset one run per chunk of at most N partitions (Dagster's range tags), and a
downstream asset's partition runs only after the run materializing the same upstream partition succeeded."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runs import selectors as run_selectors
from runs.models import Run, RunStatus
from scheduling.backfills import backfill_create, backfill_progress, backfill_reexecute_failed
from scheduling.models import Backfill, BackfillStatus
from tests.conftest import REPO, child_env
from tests.runs.holding_launcher import HoldingLauncher, use_holding_launcher
from tests.workspace.conftest import start_code_server
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = """
import os

import orchestra as dg

MARKS = {marks!r}
daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


def record(line):
    with open(os.path.join(MARKS, "log"), "a") as log:
        log.write(line + "\\n")


@dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
def events(context) -> None:
    if os.path.exists(os.path.join(MARKS, "fail_events")):
        raise Exception("events failed")
    keys = context.partition_keys
    record(f"events {{keys[0]}}..{{keys[-1]}}")


@dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=2))
def chunks(context) -> None:
    keys = context.partition_keys
    record(f"chunks {{keys[0]}}..{{keys[-1]}}")


@dg.asset(partitions_def=daily, deps=[events])
def report(context) -> None:
    record(f"report {{context.partition_key}}")


defs = dg.Definitions(assets=[events, chunks, report])
"""

LOCATION = "policies"
DAYS = [f"2024-01-0{day}" for day in range(1, 6)]
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture(autouse=True)
def queued_runs(settings):
    """Runs go to a launcher that starts nothing: the test executes each in a real run worker."""
    use_holding_launcher(settings)


@pytest.fixture
def code(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    location = store_location(tmp_path, name=LOCATION, source=DEFS.format(marks=str(marks)))
    server = start_code_server(tmp_path, "-f", location.origin["python_file"], "--location-name", LOCATION)
    yield marks, server.client
    server.process.terminate()
    server.process.wait(10)


def runs_of(backfill: Backfill) -> list[Run]:
    return list(
        Run.objects.filter(tags__key="dagster/backfill", tags__value=backfill.backfill_id).order_by("id")
    )


def tags(run: Run) -> dict[str, str]:
    return dict(run.tags.values_list("key", "value"))


def execute(home, run: Run) -> None:
    """Run a submitted run in a real run worker process, as the subprocess launcher would."""
    proc = subprocess.run(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run", run.run_id],
        env=child_env(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    run.refresh_from_db()
    assert run.status in (RunStatus.SUCCESS, RunStatus.FAILURE), proc.stderr


def materialized(run: Run) -> list[str]:
    events = run_selectors.events_after(
        run_id=run.run_id, limit=10_000, event_types=["ASSET_MATERIALIZATION"]
    )
    return sorted(e.partition or "" for e in events)


def test_single_and_multi_run_policies_make_range_runs_and_downstream_partitions_wait_for_them(
    code, child_home
):
    marks, client = code
    backfill = backfill_create(
        location_name=LOCATION,
        asset_selection=["events", "chunks", "report"],
        partition_range=(DAYS[0], DAYS[-1]),
        client=client,
    )
    assert [(u["assets"], u["partitions"], u["ranged"]) for u in backfill.run_plan[:4]] == [
        (["events"], DAYS, True),
        (["chunks"], DAYS[:2], True),
        (["chunks"], DAYS[2:4], True),
        (["chunks"], DAYS[4:], True),
    ]
    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    # the report partitions wait for the events run: nothing of them is submitted yet
    assert (backfill.status, backfill.submitted) == (BackfillStatus.REQUESTED, 4)
    single, *chunked = runs_of(backfill)
    assert [r.asset_selection for r in (single, *chunked)] == [
        [["events"]],
        [["chunks"]],
        [["chunks"]],
        [["chunks"]],
    ]
    assert {k: tags(single).get(k) for k in (RANGE_START, RANGE_END, "dagster/partition")} == {
        RANGE_START: DAYS[0],
        RANGE_END: DAYS[-1],
        "dagster/partition": None,
    }
    assert [(tags(r)[RANGE_START], tags(r)[RANGE_END]) for r in chunked] == [
        (DAYS[0], DAYS[1]),
        (DAYS[2], DAYS[3]),
        (DAYS[4], DAYS[4]),
    ]

    for run in (single, *chunked):
        execute(child_home, run)
        assert run.status == RunStatus.SUCCESS
    assert materialized(single) == DAYS  # one run, a materialization per partition
    assert sorted(materialized(chunked[0]) + materialized(chunked[1]) + materialized(chunked[2])) == DAYS

    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    reports = runs_of(backfill)[4:]
    assert [tags(r)["dagster/partition"] for r in reports] == DAYS
    assert all(RANGE_START not in tags(r) and r.asset_selection == [["report"]] for r in reports)
    for run in reports:
        execute(child_home, run)
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_SUCCESS
    log = (marks / "log").read_text().splitlines()
    assert log[0] == f"events {DAYS[0]}..{DAYS[-1]}"
    assert sorted(log[1:4]) == [
        f"chunks {DAYS[0]}..{DAYS[1]}",
        f"chunks {DAYS[2]}..{DAYS[3]}",
        f"chunks {DAYS[4]}..{DAYS[4]}",
    ]
    assert log[4:] == [f"report {day}" for day in DAYS]
    assert len(HoldingLauncher.launched) == 9


def test_a_failed_upstream_run_skips_the_downstream_partitions_and_reexecution_takes_them_again(
    code, child_home
):
    marks, client = code
    (marks / "fail_events").touch()
    backfill = backfill_create(
        location_name=LOCATION,
        asset_selection=["events", "report"],
        partition_names=DAYS[:3],
        client=client,
    )
    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    [single] = runs_of(backfill)
    execute(child_home, single)
    assert single.status == RunStatus.FAILURE

    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    assert backfill.status == BackfillStatus.COMPLETED_FAILED
    assert runs_of(backfill) == [single]  # no report run: its upstream partitions were not materialized
    assert [u["skipped"] for u in backfill.run_plan] == [False, True, True, True]
    assert not (marks / "log").exists()

    (marks / "fail_events").unlink()
    again = backfill_reexecute_failed(backfill_id=backfill.backfill_id, client=client)
    assert (again.asset_selection, again.partition_names) == (["events", "report"], DAYS[:3])


def test_assets_without_a_policy_keep_one_run_per_partition_and_no_plan(code, child_home):
    _, client = code
    backfill = backfill_create(
        location_name=LOCATION, asset_selection=["report"], partition_names=DAYS[:2], client=client
    )
    assert backfill.run_plan == []
    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    assert [tags(r)["dagster/partition"] for r in runs_of(backfill)] == DAYS[:2]
