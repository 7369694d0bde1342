"""The storage contract: the same behaviour on SQLite and PostgreSQL (the suite runs once per storage)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import InvalidInput, NotFound
from runs import selectors, services
from runs.models import AssetIndex, EventLogEntry, Run, RunStatus, RunTag
from runs.services import EventInput, RunEventLogClosed
from tests.conftest import run_child

pytestmark = pytest.mark.django_db


def _store(run_id, *types, step_key=None, **kwargs):
    return services.event_store(
        run_id=run_id, events=[EventInput(event_type=t, step_key=step_key, **kwargs) for t in types]
    )


def test_run_create_stores_config_selection_and_tags():
    run = services.run_create(
        job_name="etl",
        run_config={"ops": {"a": {"config": {"x": 1}}}},
        tags={"team": "data", "dagster/partition": "2024-01-01"},
        op_selection=["a*"],
        location_name="loc",
    )
    fetched = selectors.run_get(run_id=run.run_id)
    assert fetched.job_name == "etl"
    assert fetched.status == RunStatus.NOT_STARTED
    assert fetched.run_config == {"ops": {"a": {"config": {"x": 1}}}}
    assert fetched.op_selection == ["a*"]
    assert selectors.run_tags(fetched) == {"team": "data", "dagster/partition": "2024-01-01"}


def test_run_get_unknown_id_raises_not_found():
    with pytest.raises(NotFound, match="nope"):
        selectors.run_get(run_id="nope")


@pytest.mark.parametrize(
    "tags, message",
    [({"": "x"}, "non-empty"), ({"k": 1}, "string value"), ("k=v", "mapping"), ({"k" * 300: "v"}, "at most"), ({"k": "v" * 601}, "at most 600")],
)
def test_run_create_refuses_bad_tags_and_writes_nothing(tags, message):
    with pytest.raises(InvalidInput, match=message):
        services.run_create(job_name="etl", tags=tags)
    assert Run.objects.count() == 0


def test_run_status_follows_run_events_with_start_and_end_times():
    run = services.run_create(job_name="etl")
    assert _store(run.run_id, "RUN_ENQUEUED").status == RunStatus.QUEUED
    assert _store(run.run_id, "RUN_STARTING").status == RunStatus.STARTING
    _store(run.run_id, "RUN_START")
    run.refresh_from_db()
    assert run.status == RunStatus.STARTED and run.started_at is not None and run.ended_at is None
    _store(run.run_id, "STEP_START", "STEP_SUCCESS", step_key="a")
    _store(run.run_id, "RUN_SUCCESS")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS
    assert run.ended_at is not None and run.ended_at >= run.started_at


def test_a_batch_applies_its_events_in_order():
    run = services.run_create(job_name="etl")
    result = _store(run.run_id, "RUN_STARTING", "RUN_START", "RUN_FAILURE")
    assert result.status == RunStatus.FAILURE
    assert [e.event_type for e in selectors.events_after(run_id=run.run_id)] == [
        "RUN_STARTING",
        "RUN_START",
        "RUN_FAILURE",
    ]


def test_event_log_closes_at_the_terminal_event():
    run = services.run_create(job_name="etl")
    _store(run.run_id, "RUN_START", "RUN_CANCELED")
    with pytest.raises(RunEventLogClosed):
        _store(run.run_id, "STEP_SUCCESS", step_key="straggler")
    with pytest.raises(RunEventLogClosed):
        _store(run.run_id, "RUN_SUCCESS")
    # Engine events without a step ("process exited") are still recorded after the end.
    _store(run.run_id, "ENGINE_EVENT", message="Process for run exited")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELED
    assert [e.event_type for e in selectors.events_after(run_id=run.run_id)] == [
        "RUN_START",
        "RUN_CANCELED",
        "ENGINE_EVENT",
    ]


def test_non_strict_store_counts_refused_events_and_keeps_the_rest():
    run = services.run_create(job_name="etl")
    _store(run.run_id, "RUN_START", "RUN_SUCCESS")
    result = services.event_store(
        run_id=run.run_id,
        events=[EventInput("STEP_SUCCESS", step_key="late"), EventInput(None, message="bye")],
        strict=False,
    )
    assert result.refused == 1
    assert [e.message for e in result.stored] == ["bye"]


def test_event_store_for_unknown_run_raises_not_found():
    with pytest.raises(NotFound):
        _store("missing-run", "RUN_START")


def test_longest_allowed_tag_value_of_wide_characters_is_stored():
    run = services.run_create(job_name="etl", tags={"wide": "🚀" * 600})
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id))["wide"] == "🚀" * 600


def test_hostile_strings_are_stored_verbatim():
    run = services.run_create(job_name="etl", tags={"note": "'; DROP TABLE runs_run; --"})
    hostile = "<script>alert(1)</script>\x1b[31m\u202e \\u0000 \"quoted\" 🚀"
    services.event_store(
        run_id=run.run_id, events=[EventInput(None, message=hostile, payload={"k": hostile, "n": [1, {"x": None}]})]
    )
    [event] = selectors.events_after(run_id=run.run_id)
    assert event.message == hostile and event.payload == {"k": hostile, "n": [1, {"x": None}]}
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id))["note"] == "'; DROP TABLE runs_run; --"


def test_events_after_pages_by_cursor_and_filters_types():
    run = services.run_create(job_name="etl")
    stored = services.event_store(
        run_id=run.run_id, events=[EventInput("ENGINE_EVENT", message=str(i)) for i in range(10)]
    ).stored
    page = selectors.events_after(run_id=run.run_id, cursor=stored[3].id, limit=4)
    assert [e.message for e in page] == ["4", "5", "6", "7"]
    _store(run.run_id, "RUN_START")
    assert [e.event_type for e in selectors.events_after(run_id=run.run_id, event_types=["RUN_START"])] == [
        "RUN_START"
    ]


def _make_runs(n, job="etl", **kwargs):
    return [services.run_create(job_name=job, **kwargs) for _ in range(n)]


def test_run_list_is_newest_first_and_pages_by_cursor_without_overlap():
    runs = _make_runs(7)
    first = selectors.run_list(limit=3)
    second = selectors.run_list(limit=3, cursor=first[-1].run_id)
    third = selectors.run_list(limit=3, cursor=second[-1].run_id)
    seen = [r.run_id for r in first + second + third]
    assert seen == [r.run_id for r in reversed(runs)]


def test_run_list_filters_by_status_job_ids_and_time():
    a, b = _make_runs(2, job="a")
    (c,) = _make_runs(1, job="c")
    _store(a.run_id, "RUN_START", "RUN_SUCCESS")
    _store(b.run_id, "RUN_START", "RUN_FAILURE")
    Run.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(days=2))
    f = selectors.RunFilter
    ids = lambda filt: {r.run_id for r in selectors.run_list(filters=filt)}  # noqa: E731
    assert ids(f(statuses=[RunStatus.SUCCESS])) == {a.run_id}
    assert ids(f(statuses=["SUCCESS", "FAILURE"])) == {a.run_id, b.run_id}
    assert ids(f(job_name="c")) == {c.run_id}
    assert ids(f(run_ids=[a.run_id, c.run_id])) == {a.run_id, c.run_id}
    assert ids(f(created_before=timezone.now() - timedelta(days=1))) == {c.run_id}
    assert ids(f(created_after=timezone.now() - timedelta(days=1))) == {a.run_id, b.run_id}
    assert selectors.run_count(filters=f(job_name="a")) == 2


def test_run_list_filters_by_tags_all_must_match():
    x = services.run_create(job_name="j", tags={"team": "data", "env": "prod"})
    y = services.run_create(job_name="j", tags={"team": "data", "env": "dev"})
    services.run_create(job_name="j", tags={"team": "web"})
    f = selectors.RunFilter
    ids = lambda filt: {r.run_id for r in selectors.run_list(filters=filt)}  # noqa: E731
    assert ids(f(tags={"team": "data"})) == {x.run_id, y.run_id}
    assert ids(f(tags={"team": "data", "env": "prod"})) == {x.run_id}
    assert ids(f(tags={"env": ["prod", "dev"]})) == {x.run_id, y.run_id}
    assert ids(f(tags={"team": "nobody"})) == set()


def test_run_list_query_count_is_constant(django_assert_num_queries):
    for i in range(30):
        services.run_create(job_name="j", tags={"i": str(i), "team": "data"})
    for limit in (1, 30):
        with django_assert_num_queries(2):  # runs, then all their tags
            runs = selectors.run_list(limit=limit, filters=selectors.RunFilter(tags={"team": "data"}))
            assert all(selectors.run_tags(r)["team"] == "data" for r in runs)
    first = selectors.run_list(limit=10)
    with django_assert_num_queries(2):  # a cursor is a subquery, not a query of its own
        page = selectors.run_list(limit=10, cursor=first[-1].run_id, filters=selectors.RunFilter(tags={"team": "data"}))
    assert len(page) == 10 and page[0].id < first[-1].id


def test_run_list_rejects_bad_limit_and_unknown_cursor():
    with pytest.raises(InvalidInput):
        selectors.run_list(limit=0)
    with pytest.raises(NotFound):
        selectors.run_list(cursor="no-such-run")


def test_run_tags_add_overwrites_and_adds():
    run = services.run_create(job_name="j", tags={"a": "1"})
    services.run_tags_add(run_id=run.run_id, tags={"a": "2", "b": "3"})
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id)) == {"a": "2", "b": "3"}


def test_asset_index_tracks_latest_materialization_per_partition():
    r1, r2 = _make_runs(2)
    mat = "ASSET_MATERIALIZATION"
    services.event_store(
        run_id=r1.run_id,
        events=[
            EventInput(mat, step_key="s", asset_key="sales/daily", partition="2024-01-01"),
            EventInput(mat, step_key="s", asset_key="sales/daily", partition="2024-01-02"),
        ],
    )
    services.event_store(
        run_id=r2.run_id,
        events=[
            EventInput(mat, step_key="s", asset_key="sales/daily", partition="2024-01-01"),
            EventInput("ASSET_OBSERVATION", asset_key="raw"),
        ],
    )
    rows = {row.partition: row for row in selectors.asset_latest(asset_key="sales/daily")}
    assert rows["2024-01-01"].last_run_id == r2.run_id
    assert rows["2024-01-01"].last_materialization.run_id == r2.run_id
    assert rows["2024-01-02"].last_run_id == r1.run_id
    assert AssetIndex.objects.get(asset_key="raw").last_observation.event_type == "ASSET_OBSERVATION"
    history = selectors.asset_materializations(asset_key="sales/daily", partitions=["2024-01-01"])
    assert [e.run_id for e in history] == [r2.run_id, r1.run_id]


def test_run_delete_removes_tags_and_events():
    run = services.run_create(job_name="j", tags={"a": "1"})
    _store(run.run_id, "RUN_START")
    services.run_delete(run_id=run.run_id)
    assert not Run.objects.filter(run_id=run.run_id).exists()
    assert not RunTag.objects.exists() and not EventLogEntry.objects.exists()
    with pytest.raises(NotFound):
        services.run_delete(run_id=run.run_id)


_APPEND_SCRIPT = """
import django, sys
django.setup()
from runs.services import event_store, EventInput
writer = sys.argv[1] if len(sys.argv) > 1 else "{writer}"
for batch in range({batches}):
    event_store(run_id="{run_id}", events=[
        EventInput("ENGINE_EVENT", message=f"{writer}:{{batch * {size} + i}}") for i in range({size})
    ])
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_appending_to_one_run_lose_nothing_and_keep_order(child_home):
    import subprocess
    import sys

    from tests.conftest import REPO, child_env

    run = services.run_create(job_name="etl")
    batches, size = 40, 5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _APPEND_SCRIPT.format(writer=w, batches=batches, size=size, run_id=run.run_id)],
            env=child_env(child_home),
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in ("A", "B")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    events = selectors.events_after(run_id=run.run_id, limit=10_000)
    assert len(events) == 2 * batches * size
    for writer in ("A", "B"):
        numbers = [int(e.message.split(":")[1]) for e in events if e.message.startswith(writer)]
        assert numbers == list(range(batches * size))


@pytest.mark.django_db(transaction=True)
def test_child_process_sees_the_same_storage(child_home):
    run = services.run_create(job_name="shared")
    result = run_child(
        child_home,
        "import django; django.setup()\n"
        "from runs.selectors import run_get\n"
        f"print(run_get(run_id='{run.run_id}').job_name)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "shared"
