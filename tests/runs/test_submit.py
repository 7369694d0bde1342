"""run_submit / run_launch / run_terminate against a stored snapshot, the real database and real workers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import connection, connections, transaction
from django.utils import timezone

from core.exceptions import InvalidInput, NotFound
from core.instance_config import ClassEntry
from runs import selectors, services
from runs.launching import (
    DefaultRunCoordinator,
    QueuedRunCoordinator,
    instance_run_coordinator,
    instance_run_launcher,
)
from runs.models import IdempotencyKey, Run, RunStatus, RunTag
from runs.services import (
    IDEMPOTENCY_KEY_TAG,
    IdempotencyKeyTaken,
    JobNotFound,
    RunConfigInvalid,
    RunNotTerminable,
    SelectionInvalid,
    run_submit,
    run_terminate,
)
from tests.runs.locations import (
    join_reapers,
    queued,
    store_location,
    use_instance,
    wait_finished,
    wait_worker_exited,
)
from workspace.models import CodeLocation, LocationStatus

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@pytest.fixture
def location(tmp_path, settings, child_home):
    settings.ORCHESTRA_HOME = child_home  # run workers started by the launcher use the test database
    yield store_location(tmp_path)
    join_reapers()


def _types(run_id):
    return [e.event_type for e in selectors.events_after(run_id=run_id, limit=10_000)]


@pytest.mark.django_db(transaction=True)
def test_a_valid_submit_runs_to_success_through_the_default_launcher(location):
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS, tags={"team": "ops"})
    assert run.status == RunStatus.STARTING
    assert run.origin["python_file"] == location.origin["python_file"]
    assert run.origin["working_directory"] == location.origin["working_directory"]
    assert run.repository_name == "__repository__" and run.location_name == "launch_defs"
    job = next(j for j in location.snapshot["jobs"] if j["name"] == "chain")
    assert run.snapshot_id == job["snapshot_id"]
    # the job's run tags under the given ones, Dagster's code location tag and who launched it (no actor: the system)
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id)) == {
        "team": "ops", "owner": "job", "dagster/code_location": "launch_defs", "orchestra/launched_by": "system:orchestra"}
    assert run.launcher["pid"] > 0 and run.launcher["class"] == "launchers.subprocess.SubprocessRunLauncher"
    done = wait_worker_exited(run.run_id)
    assert done.status == RunStatus.SUCCESS
    types = _types(run.run_id)
    assert types[:3] == ["RUN_STARTING", "ENGINE_EVENT", "RUN_START"]
    assert types.count("STEP_SUCCESS") == 4 and types[-2:] == ["RUN_SUCCESS", "ENGINE_EVENT"]
    assert done.launcher["worker"]["pid"] == run.launcher["pid"]


@pytest.mark.django_db(transaction=True)
def test_bad_run_config_is_refused_with_every_error_and_no_run(location):
    with pytest.raises(RunConfigInvalid) as caught:
        run_submit(job_name="needs_config", location_name="launch_defs", run_config={
            "ops": {"configured_op": {"config": {"n": "three"}}, "nope": {}}, "execution": {"config": {"in_process": {}}},
        })
    errors = {(tuple(e["path"]), e["reason"]) for e in caught.value.errors}
    assert (("ops",), "FIELD_NOT_DEFINED") in errors
    assert (("ops", "configured_op", "config", "n"), "RUNTIME_TYPE_MISMATCH") in errors
    assert all(e["message"] for e in caught.value.errors)
    assert isinstance(caught.value, InvalidInput)
    assert "Error in config for job needs_config" in str(caught.value)
    with pytest.raises(RunConfigInvalid) as missing:
        run_submit(job_name="needs_config", location_name="launch_defs", run_config={})
    [error] = missing.value.errors
    assert error["reason"] == "MISSING_REQUIRED_FIELD" and error["path"] == []
    assert 'Missing required config entry "ops"' in error["message"]
    assert Run.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_unknown_jobs_and_locations_are_refused(location):
    with pytest.raises(JobNotFound, match="job 'nope' not found in code location 'launch_defs'") as caught:
        run_submit(job_name="nope", location_name="launch_defs")
    assert caught.value.kind == "job"
    with pytest.raises(JobNotFound, match="code location 'elsewhere' not found") as caught:
        run_submit(job_name="chain", location_name="elsewhere")
    assert caught.value.kind == "code location" and caught.value.key == "elsewhere"
    with pytest.raises(JobNotFound, match="repository 'other'") as caught:
        run_submit(job_name="chain", location_name="launch_defs", repository_name="other")
    assert caught.value.kind == "repository"
    CodeLocation.objects.filter(name="launch_defs").update(status=LocationStatus.ERROR, snapshot=None, snapshot_id="")
    with pytest.raises(JobNotFound, match="is not loaded") as caught:
        run_submit(job_name="chain", location_name="launch_defs")
    assert isinstance(caught.value, NotFound) and not caught.value.location_loaded
    assert Run.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_location_may_be_omitted_when_one_location_has_the_job(location, tmp_path, settings):
    queued(settings)
    run = run_submit(job_name="chain", run_config=IN_PROCESS)
    assert run.location_name == "launch_defs"
    other = tmp_path / "other"
    other.mkdir()
    store_location(other, name="second")
    with pytest.raises(InvalidInput, match="several code locations"):
        run_submit(job_name="chain")
    assert run_submit(job_name="chain", location_name="second").location_name == "second"


@pytest.mark.django_db(transaction=True)
def test_op_selection_uses_dagster_syntax_and_the_subset_schema(location, settings):
    queued(settings)
    # configured_op needs config, but it is not selected: the subset's schema does not ask for it
    run = run_submit(job_name="needs_config", location_name="launch_defs", op_selection=["*add_one"],
                     run_config=IN_PROCESS)
    assert run.op_selection == ["*add_one"]
    run = run_submit(job_name="chain", location_name="launch_defs", op_selection=["start+", "add_one_3"])
    assert run.op_selection == ["start+", "add_one_3"]
    with pytest.raises(RunConfigInvalid) as caught:
        run_submit(job_name="needs_config", location_name="launch_defs", op_selection=["add_one"],
                   run_config={"ops": {"configured_op": {"config": {"n": 1}}}})
    assert caught.value.errors[0]["reason"] == "FIELD_NOT_DEFINED"
    for bad in (["missing_op"], ["start", "*nothing*"], ["start.inner"]):
        with pytest.raises(SelectionInvalid):
            run_submit(job_name="chain", location_name="launch_defs", op_selection=bad)
    assert Run.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_asset_check_and_step_selections_are_checked_against_the_job(location, settings):
    queued(settings)
    run = run_submit(job_name="everything", location_name="launch_defs", asset_selection=["total"],
                     asset_check_selection=["total:total_positive"])
    assert run.asset_selection == [["total"]]
    assert run.asset_check_selection == [[["total"], "total_positive"]]
    with pytest.raises(SelectionInvalid, match="missing"):
        run_submit(job_name="everything", location_name="launch_defs", asset_selection=["missing"])
    with pytest.raises(SelectionInvalid, match="total:nope"):
        run_submit(job_name="everything", location_name="launch_defs", asset_check_selection=["total:nope"])
    with pytest.raises(SelectionInvalid, match="no_step"):
        run_submit(job_name="chain", location_name="launch_defs", step_keys_to_execute=["start", "no_step"])
    assert run_submit(job_name="chain", location_name="launch_defs",
                      step_keys_to_execute=["add_one_2"]).step_keys_to_execute == ["add_one_2"]
    with pytest.raises(InvalidInput, match="cannot be combined"):
        run_submit(job_name="everything", location_name="launch_defs", op_selection=["raw"], asset_selection=["raw"])
    assert Run.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_repeated_submission_with_an_idempotency_key_answers_the_first_run(location, settings):
    queued(settings)
    first = run_submit(job_name="chain", location_name="launch_defs", tags={IDEMPOTENCY_KEY_TAG: "k-1"})
    again = run_submit(job_name="chain", location_name="launch_defs", tags={IDEMPOTENCY_KEY_TAG: "k-1"},
                       run_config={"this": "is not even checked"})
    assert again.run_id == first.run_id
    other = run_submit(job_name="chain", location_name="launch_defs", tags={IDEMPOTENCY_KEY_TAG: "k-2"})
    assert other.run_id != first.run_id and Run.objects.count() == 2
    # a second run with the key is refused, whoever writes it
    with pytest.raises(IdempotencyKeyTaken), transaction.atomic():
        services.run_create(job_name="chain", tags={IDEMPOTENCY_KEY_TAG: "k-1"})
    assert Run.objects.count() == 2


def _age(run_id: str, hours: float) -> None:
    """Move a run, and the key it holds, `hours` into the past."""
    then = timezone.now() - timedelta(hours=hours)
    Run.objects.filter(run_id=run_id).update(created_at=then)
    IdempotencyKey.objects.filter(run_id=run_id).update(created_at=then)


@pytest.mark.django_db(transaction=True)
def test_an_idempotency_key_answers_its_run_for_24_hours_then_creates_a_new_run(location, settings):
    queued(settings)
    first = run_submit(job_name="chain", location_name="launch_defs", tags={IDEMPOTENCY_KEY_TAG: "daily"})
    _age(first.run_id, 23.9)
    assert run_submit(job_name="chain", location_name="launch_defs",
                      tags={IDEMPOTENCY_KEY_TAG: "daily"}).run_id == first.run_id
    _age(first.run_id, 24.1)
    second = run_submit(job_name="chain", location_name="launch_defs", tags={IDEMPOTENCY_KEY_TAG: "daily"})
    assert second.run_id != first.run_id and Run.objects.count() == 2
    # the key now answers the new run, for the next 24 hours
    assert run_submit(job_name="chain", location_name="launch_defs",
                      tags={IDEMPOTENCY_KEY_TAG: "daily"}).run_id == second.run_id
    assert set(RunTag.objects.filter(key=IDEMPOTENCY_KEY_TAG).values_list("run__run_id", flat=True)) == {
        first.run_id, second.run_id}
    assert list(IdempotencyKey.objects.values_list("key", "run_id")) == [("daily", second.run_id)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier_run", ["none", "older than 24 hours"])
def test_two_concurrent_submissions_with_one_key_create_one_run(location, settings, earlier_run):
    """The first submission holds its transaction open; the second passes the look-up (it cannot see the
    uncommitted run), waits on the unique key, the key's row lock or the write lock, and answers the
    first run. The same holds when the key's earlier run has aged out of the window."""
    queued(settings)
    if earlier_run != "none":
        old = run_submit(job_name="chain", location_name="launch_defs", tags={IDEMPOTENCY_KEY_TAG: "same"})
        _age(old.run_id, 25)
    results: dict[str, str] = {}
    release = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = run_submit(job_name="chain", location_name="launch_defs",
                                              tags={IDEMPOTENCY_KEY_TAG: "same"}).run_id
                release.wait(30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            results["second"] = run_submit(job_name="chain", location_name="launch_defs",
                                           tags={IDEMPOTENCY_KEY_TAG: "same"}).run_id
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    while "first" not in results:
        a.join(0.05)
    b = threading.Thread(target=second)
    b.start()
    if connection.vendor == "postgresql":  # wait until the second insert blocks on the first's index entry
        with connection.cursor() as cursor:
            for _ in range(600):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND datname = current_database()")  # the cluster is shared
                if cursor.fetchone()[0]:
                    break
                b.join(0.05)
    else:
        b.join(0.5)  # SQLite: the second waits for the write lock the first holds
    assert b.is_alive()  # it waits for the first to commit
    release.set()
    a.join(30)
    b.join(30)
    assert results["first"] == results["second"]
    new_runs = Run.objects.filter(created_at__gte=timezone.now() - timedelta(hours=1))
    assert new_runs.count() == 1
    assert RunTag.objects.filter(key=IDEMPOTENCY_KEY_TAG, value="same", run__in=new_runs).count() == 1
    assert list(IdempotencyKey.objects.values_list("run_id", flat=True)) == [results["first"]]


@pytest.mark.django_db(transaction=True)
def test_the_queued_coordinator_enqueues_the_run(location, settings):
    queued(settings)
    assert isinstance(instance_run_coordinator(), QueuedRunCoordinator)
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert run.status == RunStatus.QUEUED
    assert _types(run.run_id) == ["RUN_ENQUEUED"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["QUEUED", "NOT_STARTED"])
def test_terminating_a_run_that_has_not_started_cancels_it_at_once(location, settings, status):
    queued(settings)
    run = run_submit(job_name="chain", location_name="launch_defs")
    if status == "NOT_STARTED":
        Run.objects.filter(pk=run.pk).update(status=RunStatus.NOT_STARTED)
    done = run_terminate(run_id=run.run_id)
    assert done.status == RunStatus.CANCELED and done.ended_at is not None
    assert _types(run.run_id)[-2:] == ["RUN_CANCELING", "RUN_CANCELED"]
    # a canceled run is never launched
    assert services.run_launch(run_id=run.run_id).status == RunStatus.CANCELED


@pytest.mark.django_db(transaction=True)
def test_a_finished_or_unknown_run_cannot_be_terminated(location, settings):
    queued(settings)
    run = run_submit(job_name="chain", location_name="launch_defs")
    run_terminate(run_id=run.run_id)
    with pytest.raises(RunNotTerminable, match="CANCELED"):
        run_terminate(run_id=run.run_id)
    with pytest.raises(RunNotTerminable):
        run_terminate(run_id=run.run_id, force=True)
    with pytest.raises(NotFound):
        run_terminate(run_id="no-such-run")
    with pytest.raises(NotFound):
        services.run_launch(run_id="no-such-run")


@pytest.mark.django_db(transaction=True)
def test_launching_twice_launches_once(location, settings):
    queued(settings)
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert services.run_launch(run_id=run.run_id).status == RunStatus.QUEUED  # only NOT_STARTED runs launch
    Run.objects.filter(pk=run.pk).update(status=RunStatus.NOT_STARTED)  # as the dequeue leaves it
    first = services.run_launch(run_id=run.run_id)
    second = services.run_launch(run_id=run.run_id)
    assert first.status == RunStatus.STARTING and second.launcher["pid"] == first.launcher["pid"]
    assert wait_worker_exited(run.run_id).status == RunStatus.SUCCESS
    assert _types(run.run_id).count("RUN_STARTING") == 1 and _types(run.run_id).count("RUN_START") == 1


@pytest.mark.django_db(transaction=True)
def test_a_broken_location_executable_fails_the_run_with_the_reason(location, tmp_path):
    CodeLocation.objects.filter(pk=location.pk).update(
        origin={**location.origin, "executable_path": str(tmp_path / "no-such-python")})
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert run.status == RunStatus.FAILURE
    [engine] = selectors.events_after(run_id=run.run_id, event_types=["ENGINE_EVENT"])
    assert "no-such-python" in engine.message and engine.payload["error"]["cls_name"] == "FileNotFoundError"
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE"])
    assert failure.payload["failure_reason"] == "RUN_EXCEPTION"


@pytest.mark.django_db(transaction=True)
def test_an_interpreter_that_dies_at_once_fails_the_run_with_its_output(location, tmp_path):
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'this interpreter is broken' >&2\nexit 3\n")
    broken.chmod(0o755)
    CodeLocation.objects.filter(pk=location.pk).update(origin={**location.origin, "executable_path": str(broken)})
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    done = wait_finished(run.run_id)
    assert done.status == RunStatus.FAILURE
    [engine] = selectors.events_after(run_id=run.run_id, event_types=["ENGINE_EVENT"])
    assert "exited with code 3 before it started the run" in engine.message
    assert engine.payload["metadata"][0]["data"] == "this interpreter is broken"
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE"])
    assert failure.payload["failure_reason"] == "UNEXPECTED_TERMINATION"


@pytest.mark.django_db
def test_dagster_component_names_in_orchestra_yaml_resolve_to_orchestra_classes(settings):
    use_instance(settings, run_coordinator=ClassEntry(
        module="dagster.core.run_coordinator", **{"class": "QueuedRunCoordinator"},
        config={"max_concurrent_runs": 5, "tag_concurrency_limits": [{"key": "team", "limit": 1}]}))
    coordinator = instance_run_coordinator()
    assert isinstance(coordinator, QueuedRunCoordinator)
    assert coordinator.queue_config.max_concurrent_runs == 5
    assert coordinator.queue_config.tag_concurrency_limits[0].key == "team"
    assert [e for e in run_checks() if e.id.startswith("orchestra.")] == []
    use_instance(settings, run_coordinator=ClassEntry(module="dagster._core.run_coordinator",
                                                      **{"class": "DefaultRunCoordinator"}))
    assert isinstance(instance_run_coordinator(), DefaultRunCoordinator)
    for module, class_name, expected in (
        ("dagster.core.launcher", "DefaultRunLauncher", "SubprocessRunLauncher"),
        ("dagster._core.launcher", "DefaultRunLauncher", "SubprocessRunLauncher"),
        ("dagster_celery", "CeleryRunLauncher", "CeleryRunLauncher"),
        ("launchers.celery", "CeleryRunLauncher", "CeleryRunLauncher"),
    ):
        use_instance(settings, run_launcher=ClassEntry(module=module, **{"class": class_name}))
        assert type(instance_run_launcher()).__name__ == expected
        assert [e for e in run_checks() if e.id.startswith("orchestra.")] == []
    use_instance(settings, run_coordinator=ClassEntry(
        module="dagster.core.run_coordinator", **{"class": "QueuedRunCoordinator"},
        config={"max_concurrent_runs": "many"}))
    [problem] = [e for e in run_checks() if e.id.startswith("orchestra.")]
    assert problem.id == "orchestra.E003" and "max_concurrent_runs" in problem.msg


@pytest.mark.django_db(transaction=True)
def test_an_asset_selection_reaches_the_worker_in_the_stored_form(location):
    run = run_submit(job_name="everything", location_name="launch_defs", asset_selection=["raw"],
                     run_config=IN_PROCESS)
    assert wait_worker_exited(run.run_id).status == RunStatus.SUCCESS
    assert selectors.asset_keys_list() == ["raw"]  # `total` was not selected, so not materialized


@pytest.mark.django_db(transaction=True)
def test_a_location_without_a_code_pointer_cannot_run_jobs(location):
    CodeLocation.objects.filter(pk=location.pk).update(
        origin={"name": "launch_defs", "kind": "code_server", "host": "127.0.0.1", "port": 4266})
    with pytest.raises(InvalidInput, match="no python_file, module_name or package_name"):
        run_submit(job_name="chain", location_name="launch_defs")
    assert Run.objects.count() == 0
