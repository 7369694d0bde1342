"""Re-execution in the SDK: `execute_job(..., reexecution_options=...)`, the steps it picks and where the
steps it leaves out had their outputs. Each expectation was taken from Dagster 1.13 running the same jobs.
"""

from __future__ import annotations

import os

import pytest

import orchestra as dg
from orchestra._core.plan import plan_for_job
from orchestra._core.reexecution import (
    StepRecord,
    step_shapes_from_graph,
    step_shapes_from_plan,
    steps_to_retry,
)
from orchestra._core.snapshot.jobs import job_snapshot
from tests.reexecution_ops import FLAGS, MARKS, a, b, c, chain_graph, dynamic_graph, each, fan, gather

chain_job = chain_graph.to_job(name="chain_job")
dynamic_job = dynamic_graph.to_job(name="dynamic_job")


@dg.op(out={"yes": dg.Out(is_required=False), "no": dg.Out(is_required=False)})
def branch():
    yield dg.Output(1, "yes")


@dg.op
def on_yes(v):
    if FLAGS.get("fail_yes"):
        raise Exception("yes failed")
    return v


@dg.op
def on_no(v):
    return v


@dg.job
def branch_job():
    yes, no = branch()
    on_yes(yes)
    on_no(no)


@pytest.fixture
def instance():
    FLAGS.clear()
    MARKS.clear()  # folders a code location's definitions file may have left in this process
    with dg.instance_for_test() as instance:
        yield instance
    FLAGS.clear()


def step_events(result):
    return [(e.event_type_value, e.step_key) for e in result.all_events if e.step_key]


def executed_steps(result):
    return [key for kind, key in step_events(result) if kind == "STEP_START"]


def test_from_failure_runs_the_failed_step_and_its_downstream_loading_upstream_from_the_parent(instance):
    FLAGS["fail_b"] = True
    parent = dg.execute_job(dg.reconstructable(chain_job), instance=instance)
    assert not parent.success
    FLAGS["fail_b"] = False

    options = dg.ReexecutionOptions.from_failure(parent.run_id, instance)
    child = dg.execute_job(dg.reconstructable(chain_job), instance=instance, reexecution_options=options)

    assert child.success
    run = instance.get_run_by_id(child.run_id)
    assert run.step_keys_to_execute == ["b", "c"]
    assert (run.parent_run_id, run.root_run_id) == (parent.run_id, parent.run_id)
    # as in Dagster, the SDK sets no re-execution tags (only the server's re-execution does)
    assert "dagster/parent_run_id" not in run.tags
    assert executed_steps(child) == ["b", "c"]
    # steps left out emit no event at all (no STEP_SKIPPED)
    assert {key for _, key in step_events(child)} == {"b", "c"}
    loaded = [e.message for e in child.all_events if e.event_type_value == "LOADED_INPUT" and e.step_key == "b"]
    assert loaded == ['Loaded input "x" using input manager "io_manager", from output "result" of step "a"']
    with child:
        assert child.output_for_node("c") == 20
        with pytest.raises(dg.DagsterInvariantViolationError):
            child.output_for_node("a")


def test_fs_io_manager_reads_the_parent_runs_directory(instance):
    FLAGS["fail_b"] = True
    parent = dg.execute_job(dg.reconstructable(chain_job), instance=instance)
    FLAGS["fail_b"] = False
    storage = instance.storage_directory()
    assert sorted(os.listdir(os.path.join(storage, parent.run_id))) == ["a", "d"]
    # the parent's pickled output of `a` is what the child's `b` gets
    import pickle

    with open(os.path.join(storage, parent.run_id, "a", "result"), "wb") as file:
        pickle.dump(41, file)
    child = dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                           reexecution_options=dg.ReexecutionOptions.from_failure(parent.run_id, instance))
    assert sorted(os.listdir(os.path.join(storage, child.run_id))) == ["b", "c"]
    with child:
        assert child.output_for_node("c") == 420


def test_step_selection_of_a_reexecution_reads_the_closest_run_that_produced_each_output(instance):
    FLAGS["fail_b"] = True
    first = dg.execute_job(dg.reconstructable(chain_job), instance=instance)
    FLAGS["fail_b"] = False
    second = dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                            reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance))
    third = dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                           reexecution_options=dg.ReexecutionOptions(parent_run_id=second.run_id, step_selection=["c"]))
    run = instance.get_run_by_id(third.run_id)
    assert run.step_keys_to_execute == ["c"]
    assert (run.parent_run_id, run.root_run_id) == (second.run_id, first.run_id)
    assert executed_steps(third) == ["c"]
    with third:
        assert third.output_for_node("c") == 20

    fourth = dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                            reexecution_options=dg.ReexecutionOptions(parent_run_id=second.run_id, step_selection=["*b+"]))
    assert sorted(instance.get_run_by_id(fourth.run_id).step_keys_to_execute) == ["a", "b", "c"]


def test_reexecution_without_a_selection_runs_every_step_with_the_parents_config(instance):
    parent = dg.execute_job(dg.reconstructable(chain_job), instance=instance, tags={"team": "x"})
    child = dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                           reexecution_options=dg.ReexecutionOptions(parent_run_id=parent.run_id))
    run = instance.get_run_by_id(child.run_id)
    assert run.step_keys_to_execute is None
    assert sorted(executed_steps(child)) == ["a", "b", "c", "d"]
    assert run.parent_run_id == parent.run_id


def test_refusals_name_the_problem(instance):
    parent = dg.execute_job(dg.reconstructable(chain_job), instance=instance)
    with pytest.raises(dg.DagsterInvariantViolationError, match="not failed or canceled"):
        dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                       reexecution_options=dg.ReexecutionOptions.from_failure(parent.run_id, instance))
    with pytest.raises(dg.DagsterInvariantViolationError, match="No parent run with id nope"):
        dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                       reexecution_options=dg.ReexecutionOptions(parent_run_id="nope"))
    with pytest.raises(dg.DagsterExecutionStepNotFoundError, match="unknown step: zzz"):
        dg.execute_job(dg.reconstructable(chain_job), instance=instance,
                       reexecution_options=dg.ReexecutionOptions(parent_run_id=parent.run_id, step_selection=["zzz"]))
    with pytest.raises(dg.DagsterInvariantViolationError, match="op selection cannot be used together"):
        dg.execute_job(dg.reconstructable(chain_job), instance=instance, op_selection=["a"],
                       reexecution_options=dg.ReexecutionOptions(parent_run_id=parent.run_id))


def test_dynamic_reexecution_runs_only_the_failed_mapping_key_and_the_collector(instance):
    FLAGS["fail_y"] = True
    parent = dg.execute_job(dg.reconstructable(dynamic_job), instance=instance)
    assert not parent.success
    FLAGS["fail_y"] = False
    child = dg.execute_job(dg.reconstructable(dynamic_job), instance=instance,
                           reexecution_options=dg.ReexecutionOptions.from_failure(parent.run_id, instance))
    assert child.success
    assert instance.get_run_by_id(child.run_id).step_keys_to_execute == ["each[y]", "gather"]
    assert executed_steps(child) == ["each[y]", "gather"]
    with child:
        assert child.output_for_node("gather") == "XYZ"
    one = dg.execute_job(dg.reconstructable(dynamic_job), instance=instance,
                         reexecution_options=dg.ReexecutionOptions(parent_run_id=child.run_id, step_selection=["each[x]"]))
    assert one.success
    assert executed_steps(one) == ["each[x]"]


def test_dynamic_root_failure_reexecutes_the_mapped_steps_unresolved(instance):
    records = [StepRecord("STEP_START", "fan"), StepRecord("STEP_FAILURE", "fan")]
    shapes = step_shapes_from_plan(plan_for_job(dynamic_job))
    assert steps_to_retry(shapes, None, records) == ["fan", "each[?]", "gather"]


def test_steps_the_parent_skipped_stay_skipped(instance):
    FLAGS["fail_yes"] = True
    parent = dg.execute_job(dg.reconstructable(branch_job), instance=instance)
    assert ("STEP_SKIPPED", "on_no") in step_events(parent)
    FLAGS["fail_yes"] = False
    child = dg.execute_job(dg.reconstructable(branch_job), instance=instance,
                           reexecution_options=dg.ReexecutionOptions.from_failure(parent.run_id, instance))
    assert instance.get_run_by_id(child.run_id).step_keys_to_execute == ["on_yes"]
    assert executed_steps(child) == ["on_yes"]
    assert child.success


def test_steps_that_never_ran_or_were_interrupted_are_retried():
    shapes = step_shapes_from_plan(plan_for_job(chain_job))
    records = [StepRecord("STEP_START", "a"), StepRecord("STEP_SUCCESS", "a"), StepRecord("STEP_START", "d")]
    # `d` started and never finished; `b` and `c` never ran (the run was terminated)
    assert steps_to_retry(shapes, None, records) == ["d", "b", "c"]  # plan order


def test_step_shapes_from_the_snapshot_match_the_plan():
    @dg.op
    def inner(v):
        return v

    @dg.graph
    def wrapper(v):
        return inner(v)

    @dg.job
    def nested_dynamic():
        gather(fan().map(lambda v: wrapper(each(v))).collect())
        c(b(a()))

    for job_def in (chain_job, dynamic_job, branch_job, nested_dynamic):
        from_snapshot = step_shapes_from_graph(job_snapshot(job_def)["graph"])
        assert sorted(from_snapshot) == sorted(step_shapes_from_plan(plan_for_job(job_def))), job_def.name
