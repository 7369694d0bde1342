"""`celery_executor`: Dagster's `dagster_celery.celery_executor`, a Celery task per step.

The definition (name "celery", Dagster's config schema) is all the SDK holds: a run worker executes
it with the server's engine (`runs/celery_executor.py`); anywhere else (no run worker, no broker) the
steps run in process, as the SDK does for `multiprocess_executor`.
"""

from __future__ import annotations

from typing import Any

from orchestra._core.definitions.executor import (
    ExecutorDefinition,
    InitExecutorContext,
    multiple_process_executor_requirements,
)


def _celery_schema() -> dict[str, Any]:
    from orchestra._config import Field, Noneable, Permissive, Selector, StringSource

    return {
        "broker": Field(
            Noneable(StringSource), is_required=False,
            description="The URL of the Celery broker. Default: the instance's broker (orchestra.yaml `broker`).",
        ),
        "backend": Field(
            Noneable(StringSource), is_required=False, default_value="rpc://",
            description="The URL of the Celery result backend that step tasks report their state to. "
                        "Default ('rpc://'): the instance's broker (Redis), or a folder beside the embedded broker.",
        ),
        "include": Field([str], is_required=False, description="Modules every Celery worker should import."),
        "config_source": Field(
            Noneable(Permissive()), is_required=False,
            description="Additional Celery settings (e.g. task_default_priority), as in Dagster.",
        ),
        "retries": Field(Selector({"enabled": {}, "disabled": {}}), default_value={"enabled": {}}),
    }


def _create_celery(context: InitExecutorContext) -> Any:
    # Outside a run worker there is no broker to hand steps to: run them here, with the same retries.
    from orchestra._core.execute import InProcessExecutor

    retries = (context.executor_config or {}).get("retries") or {"enabled": {}}
    return InProcessExecutor(retries_enabled="disabled" not in retries)


celery_executor = ExecutorDefinition(
    "celery", _celery_schema, multiple_process_executor_requirements(), _create_celery,
    "Executes each step as a Celery task on the `steps` queue; any worker machine with the code, the "
    "database and the broker can run it.",
)
