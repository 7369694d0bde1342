"""`dg.celery_executor`: Dagster's `dagster_celery.celery_executor` definition, usable without a server."""

from __future__ import annotations

import pytest

import orchestra as dg
from orchestra._core.definitions.executor import ExecutorRequirement


@dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
def flaky(context):
    if context.retry_number == 0:
        raise RuntimeError("first attempt fails")
    return 1


@dg.job(executor_def=dg.celery_executor)
def distributed():
    flaky()


def test_the_definition_has_dagsters_name_config_and_requirements():
    assert dg.celery_executor.name == "celery"
    fields = dg.celery_executor.config_field.config_type.fields
    assert set(fields) == {"broker", "backend", "include", "config_source", "retries"}
    assert fields["backend"].default_value == "rpc://"
    assert fields["retries"].default_value == {"enabled": {}}
    assert ExecutorRequirement.PERSISTENT_OUTPUTS in dg.celery_executor.get_requirements({})


def test_run_config_is_validated_against_the_celery_schema():
    config = {"execution": {"config": {"broker": "redis://example:6379/0", "include": ["my.module"],
                                       "config_source": {"task_default_priority": 3}}}}
    assert dg.validate_run_config(distributed, config)
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurrent"):
        dg.validate_run_config(distributed, {"execution": {"config": {"max_concurrent": 2}}})


def test_without_a_run_worker_the_steps_run_in_process_with_retries():
    result = distributed.execute_in_process()
    assert result.success
    types = [e.event_type_value for e in result.all_events if e.step_key == "flaky"]
    assert "STEP_UP_FOR_RETRY" in types and "STEP_RESTARTED" in types
