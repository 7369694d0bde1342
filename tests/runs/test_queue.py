"""The run queue's dequeue: priority order, max_concurrent_runs, tag limits, and concurrent dequeuers."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from core.instance_config import ClassEntry, ConcurrencyConfig, ConcurrencyRunsConfig, RunQueueConfig
from runs import selectors, services
from runs.models import Run, RunStatus
from runs.queue import IN_PROGRESS_STATUSES, run_queue_config, run_queue_dequeue
from runs.services import EventInput
from tests.runs.holding_launcher import HoldingLauncher, use_holding_launcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(settings):
    """Configure the instance's run queue: `queue(max_concurrent_runs=..., tag_concurrency_limits=[...])`."""
    use_holding_launcher(settings)
    original = settings.INSTANCE

    def configure(**run_queue):
        config = original.config.model_copy(
            update={"run_queue": RunQueueConfig.model_validate(run_queue), "run_coordinator": None}
        )
        settings.INSTANCE = dataclasses.replace(original, config=config)
        return run_queue_config()

    yield configure
    settings.INSTANCE = original


def _enqueue(name="job", **tags):
    run = services.run_create(job_name=name, tags=tags)
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_ENQUEUED")])
    return run.run_id


def _finish(run_ids):
    for run_id in run_ids:
        services.event_store(run_id=run_id, events=[EventInput(event_type="RUN_SUCCESS")])


def _status(run_id):
    return Run.objects.get(run_id=run_id).status


def test_without_a_queued_coordinator_dequeue_does_nothing(settings):
    assert not settings.INSTANCE.uses_queue
    run_id = _enqueue()
    assert run_queue_dequeue() == []
    assert _status(run_id) == RunStatus.QUEUED


def test_runs_leave_the_queue_by_priority_then_oldest_first(queue):
    queue(max_concurrent_runs=-1)
    low = _enqueue(**{"dagster/priority": "-1"})
    first = _enqueue()
    high = _enqueue(**{"dagster/priority": "5"})
    second = _enqueue(**{"dagster/priority": "not a number"})  # counts as 0, like Dagster
    higher = _enqueue(**{"dagster/priority": "10"})
    assert run_queue_dequeue() == [higher, high, first, second, low]
    assert HoldingLauncher.launched == [higher, high, first, second, low]
    for run_id in (low, first, high, second, higher):
        assert _status(run_id) == RunStatus.STARTING
        types = [e.event_type for e in selectors.events_after(run_id=run_id)]
        assert types == ["RUN_ENQUEUED", "RUN_DEQUEUED", "RUN_STARTING"]


def test_max_concurrent_runs_counts_runs_in_progress(queue):
    queue(max_concurrent_runs=3)
    running = services.run_create(job_name="job")
    services.event_store(run_id=running.run_id, events=[EventInput(event_type="RUN_STARTING"),
                                                        EventInput(event_type="RUN_START")])
    queued = [_enqueue() for _ in range(5)]
    assert run_queue_dequeue() == queued[:2]
    assert run_queue_dequeue() == []  # full: three runs hold a slot
    _finish([running.run_id, queued[0]])
    assert run_queue_dequeue() == queued[2:4]
    assert [_status(r) for r in queued[4:]] == [RunStatus.QUEUED]


@pytest.mark.parametrize("status_events", [["RUN_STARTING"], ["RUN_STARTING", "RUN_START", "RUN_CANCELING"]])
def test_starting_and_canceling_runs_hold_their_slot(queue, status_events):
    queue(max_concurrent_runs=1)
    busy = services.run_create(job_name="job")
    services.event_store(run_id=busy.run_id, events=[EventInput(event_type=t) for t in status_events])
    waiting = _enqueue()
    assert run_queue_dequeue() == []
    _finish([busy.run_id])
    assert run_queue_dequeue() == [waiting]


def test_zero_max_concurrent_runs_launches_nothing_and_limit_caps_one_call(queue):
    queue(max_concurrent_runs=0)
    run_ids = [_enqueue() for _ in range(3)]
    assert run_queue_dequeue() == []
    queue(max_concurrent_runs=-1)
    assert run_queue_dequeue(limit=2) == run_ids[:2]
    assert run_queue_dequeue() == run_ids[2:]


def test_a_tag_limit_without_value_counts_every_run_with_the_key(queue):
    queue(max_concurrent_runs=-1, tag_concurrency_limits=[{"key": "database", "limit": 2}])
    a = _enqueue(database="a")
    b = _enqueue(database="b")
    c = _enqueue(database="c")
    untagged = _enqueue()
    assert run_queue_dequeue() == [a, b, untagged]  # c is blocked, later runs pass it
    assert run_queue_dequeue() == []
    _finish([a])
    assert run_queue_dequeue() == [c]


def test_a_tag_limit_with_a_value_counts_only_that_value(queue):
    queue(max_concurrent_runs=-1, tag_concurrency_limits=[{"key": "database", "value": "redshift", "limit": 1}])
    first = _enqueue(database="redshift")
    second = _enqueue(database="redshift")
    other = _enqueue(database="postgres")
    assert run_queue_dequeue() == [first, other]
    _finish([first])
    assert run_queue_dequeue() == [second]


def test_a_per_unique_value_limit_counts_each_value_separately(queue):
    queue(
        max_concurrent_runs=-1,
        tag_concurrency_limits=[{"key": "tenant", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}],
    )
    a1, a2 = _enqueue(tenant="a"), _enqueue(tenant="a")
    b1, b2 = _enqueue(tenant="b"), _enqueue(tenant="b")
    assert run_queue_dequeue() == [a1, b1]
    assert run_queue_dequeue() == []
    _finish([b1])
    assert run_queue_dequeue() == [b2]
    assert _status(a2) == RunStatus.QUEUED


def test_tag_limits_count_runs_already_in_progress_and_blocked_runs_keep_their_place(queue):
    queue(max_concurrent_runs=2, tag_concurrency_limits=[{"key": "database", "limit": 1}])
    running = services.run_create(job_name="job", tags={"database": "x"})
    services.event_store(run_id=running.run_id, events=[EventInput(event_type="RUN_STARTING")])
    blocked = _enqueue(**{"database": "y", "dagster/priority": "3"})
    free = _enqueue()
    other = _enqueue()
    assert run_queue_dequeue() == [free]  # max 2: the running one and `free`
    _finish([running.run_id, free])
    assert run_queue_dequeue() == [blocked, other]  # priority first once the tag is free


def test_concurrency_runs_settings_override_the_queue_config(queue, settings):
    queue(max_concurrent_runs=5)
    config = settings.INSTANCE.config.model_copy(
        update={"concurrency": ConcurrencyConfig(runs=ConcurrencyRunsConfig(max_concurrent_runs=1))}
    )
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    assert run_queue_config().max_concurrent_runs == 1


def test_a_queued_run_coordinator_entry_configures_the_queue(queue, settings):
    config = settings.INSTANCE.config.model_copy(update={
        "run_queue": None,
        "run_coordinator": ClassEntry.model_validate({
            "module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": 4, "tag_concurrency_limits": [{"key": "k", "limit": 1}]},
        }),
    })
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    queue_config = run_queue_config()
    assert queue_config.max_concurrent_runs == 4 and queue_config.tag_concurrency_limits[0].key == "k"


def test_a_dequeued_run_whose_launch_did_not_happen_keeps_its_slot_and_is_not_dequeued_again(queue, settings):
    from core.instance_config import ClassEntry
    from runs.queue import run_queue_dequeue_detailed

    queue(max_concurrent_runs=1)
    broken = ClassEntry.model_validate({"module": "tests.runs.no_such_module", "class": "Launcher"})
    settings.INSTANCE = dataclasses.replace(
        settings.INSTANCE, config=settings.INSTANCE.config.model_copy(update={"run_launcher": broken})
    )
    first, second = _enqueue(), _enqueue()
    result = run_queue_dequeue_detailed()
    assert result.dequeued == [first] and result.launched == []
    assert "no_such_module" in result.errors[0]
    assert _status(first) == RunStatus.NOT_STARTED  # left for run monitoring to launch again
    assert run_queue_dequeue() == []
    assert _status(second) == RunStatus.QUEUED


def test_a_canceled_queued_run_is_not_dequeued(queue):
    queue(max_concurrent_runs=-1)
    canceled = _enqueue()
    services.event_store(run_id=canceled, events=[EventInput(event_type="RUN_CANCELED")])
    kept = _enqueue()
    assert run_queue_dequeue() == [kept]
    assert _status(canceled) == RunStatus.CANCELED


def test_two_dequeuers_at_once_never_take_the_same_run_nor_exceed_the_limits(queue):
    queue(max_concurrent_runs=4, tag_concurrency_limits=[{"key": "db", "value": "x", "limit": 1}])
    queued = [_enqueue(**({"db": "x"} if i % 3 == 0 else {})) for i in range(30)]
    taken: list[str] = []
    rounds = 0
    while len(taken) < len(queued):
        rounds += 1
        assert rounds < 60, "the queue did not drain"
        results: list[list[str]] = [[], []]
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def dequeuer(slot, barrier=barrier, results=results, errors=errors):
            from django.db import connections

            try:
                barrier.wait()
                results[slot] = run_queue_dequeue()
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=dequeuer, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        this_round = results[0] + results[1]
        assert len(set(this_round)) == len(this_round), "a run was dequeued twice"
        assert not set(this_round) & set(taken), "a run was dequeued twice"
        in_progress = Run.objects.filter(status__in=IN_PROGRESS_STATUSES)
        assert in_progress.count() <= 4
        assert sum(1 for r in in_progress.prefetch_related("tags") if selectors.run_tags(r).get("db") == "x") <= 1
        taken.extend(this_round)
        _finish(this_round[:3])  # free some slots, keep others busy
        if not this_round:
            _finish(list(in_progress.values_list("run_id", flat=True)))
    assert sorted(taken) == sorted(queued)
    for run_id in queued:
        assert len(selectors.events_after(run_id=run_id, event_types=["RUN_DEQUEUED"])) == 1


def test_a_dequeuer_waits_for_another_in_flight_so_runs_enqueued_meanwhile_cannot_exceed_the_limit(queue):
    """PostgreSQL: dequeuer A is held inside its claim (a trigger on the event log waits for a lock the
    test holds), runs are enqueued meanwhile, then dequeuer B starts. Without serialisation B would
    count A's runs as free slots (A has not committed) and take the new runs: 8 runs for 4 slots."""
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's IMMEDIATE transactions exclude a second dequeuer by construction")
    queue(max_concurrent_runs=4)
    first = [_enqueue() for _ in range(4)]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_hold_insert() RETURNS trigger AS $$ BEGIN "
            "PERFORM pg_advisory_xact_lock_shared(4242); RETURN NULL; END $$ LANGUAGE plpgsql;"
            "CREATE TRIGGER test_hold_insert BEFORE INSERT ON runs_eventlogentry "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_hold_insert();"
            "SELECT pg_advisory_lock(4242);"
        )
    results: dict[str, list[str]] = {}

    def dequeuer(name):
        from django.db import connections

        try:
            results[name] = run_queue_dequeue()
        finally:
            connections.close_all()

    def waiting_dequeuers():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            return cursor.fetchone()[0]

    def wait_for(count):
        for _ in range(600):
            if waiting_dequeuers() >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{count} dequeuer(s) never reached the held lock")

    try:
        a = threading.Thread(target=dequeuer, args=("a",))
        a.start()
        wait_for(1)  # A has counted, locked the queued rows and waits to write RUN_DEQUEUED
        later = [_enqueue() for _ in range(4)]
        b = threading.Thread(target=dequeuer, args=("b",))
        b.start()
        wait_for(2)  # B waits too: on the dequeue lock (or, unserialised, at its own insert)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(4242)")
    a.join()
    b.join()
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_hold_insert ON runs_eventlogentry; DROP FUNCTION test_hold_insert();")
    assert results == {"a": first, "b": []}
    assert Run.objects.filter(status__in=IN_PROGRESS_STATUSES).count() == 4
    assert all(_status(run_id) == RunStatus.QUEUED for run_id in later)
