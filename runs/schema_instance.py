"""The `instance` query: daemon health, the run launcher and run queue, with Dagster's type names."""

from __future__ import annotations

from typing import Any

import graphene
import yaml
from django.conf import settings

from core.graphql import PythonError
from core.instance_config import RunQueueConfig as RunQueueSettings
from runs import daemon_health


class DaemonStatus(graphene.ObjectType):
    class Meta:
        possible_types = (daemon_health.DaemonStatus,)

    daemonType = graphene.NonNull(graphene.String)
    id = graphene.NonNull(graphene.ID)
    required = graphene.NonNull(graphene.Boolean)
    healthy = graphene.Boolean()
    lastHeartbeatTime = graphene.Float()
    lastHeartbeatErrors = graphene.NonNull(graphene.List(graphene.NonNull(PythonError)))

    def resolve_daemonType(status: daemon_health.DaemonStatus, info) -> str:
        return status.daemon_type

    def resolve_id(status: daemon_health.DaemonStatus, info) -> str:
        return status.daemon_type

    def resolve_lastHeartbeatTime(status: daemon_health.DaemonStatus, info) -> float | None:
        return status.last_heartbeat.timestamp.timestamp() if status.last_heartbeat else None

    def resolve_lastHeartbeatErrors(status: daemon_health.DaemonStatus, info) -> list[PythonError]:
        errors = status.last_heartbeat.errors if status.last_heartbeat else []
        return [PythonError.from_error_data(e if isinstance(e, dict) else {"message": str(e)}) for e in errors]


class DaemonHealth(graphene.ObjectType):
    id = graphene.NonNull(graphene.String)
    daemonStatus = graphene.NonNull(DaemonStatus, daemonType=graphene.String())
    allDaemonStatuses = graphene.NonNull(graphene.List(graphene.NonNull(DaemonStatus)))

    def resolve_id(root, info) -> str:
        return "daemonHealth"

    def resolve_daemonStatus(root, info, daemonType: str | None = None) -> daemon_health.DaemonStatus:
        return daemon_health.daemon_statuses(daemon_types=[daemonType or ""])[0]

    def resolve_allDaemonStatuses(root, info) -> list[daemon_health.DaemonStatus]:
        return daemon_health.daemon_statuses()


class RunLauncher(graphene.ObjectType):
    name = graphene.NonNull(graphene.String)


class RunQueueConfig(graphene.ObjectType):
    class Meta:
        possible_types = (RunQueueSettings,)

    maxConcurrentRuns = graphene.NonNull(graphene.Int)
    tagConcurrencyLimitsYaml = graphene.String()
    isOpConcurrencyAware = graphene.Boolean()

    def resolve_maxConcurrentRuns(queue: RunQueueSettings, info) -> int:
        return queue.max_concurrent_runs

    def resolve_tagConcurrencyLimitsYaml(queue: RunQueueSettings, info) -> str | None:
        if not queue.tag_concurrency_limits:
            return None
        limits = [limit.model_dump(exclude_none=True) for limit in queue.tag_concurrency_limits]
        return yaml.dump(limits, default_flow_style=False, allow_unicode=True, sort_keys=True)

    def resolve_isOpConcurrencyAware(queue: RunQueueSettings, info) -> bool:
        return queue.block_op_concurrency_limited_runs.enabled


def run_queue_settings() -> RunQueueSettings | None:
    """The queued coordinator's settings (the `run_queue` shorthand or the coordinator's `config`,
    with `concurrency.runs` on top), or None when runs are not queued."""
    instance = getattr(settings, "INSTANCE", None)
    if instance is None or not instance.uses_queue:
        return None
    config = instance.config
    if config.run_queue is not None:
        queue = config.run_queue
    else:
        known = set(RunQueueSettings.model_fields)
        queue = RunQueueSettings(**{k: v for k, v in config.run_coordinator.config.items() if k in known})
    runs = config.concurrency.runs
    if runs is not None:
        overrides: dict[str, Any] = {}
        if runs.max_concurrent_runs is not None:
            overrides["max_concurrent_runs"] = runs.max_concurrent_runs
        if runs.tag_concurrency_limits is not None:
            overrides["tag_concurrency_limits"] = runs.tag_concurrency_limits
        queue = queue.model_copy(update=overrides)
    return queue


class Instance(graphene.ObjectType):
    """This Orchestra instance as Dagster's UI and clients see it (read from `orchestra.yaml`)."""

    id = graphene.NonNull(graphene.String)
    info = graphene.String()
    hasInfo = graphene.NonNull(graphene.Boolean)
    runLauncher = graphene.Field(RunLauncher)
    runQueuingSupported = graphene.NonNull(graphene.Boolean)
    runQueueConfig = graphene.Field(RunQueueConfig)
    daemonHealth = graphene.NonNull(DaemonHealth)

    def resolve_id(root, info) -> str:
        return "Instance"

    def resolve_hasInfo(root, info) -> bool:
        return getattr(settings, "INSTANCE", None) is not None

    def resolve_info(root, info) -> str | None:
        instance = getattr(settings, "INSTANCE", None)
        if instance is None:
            return None
        return yaml.safe_dump(instance.describe(), default_flow_style=False, sort_keys=False)

    def resolve_runLauncher(root, info) -> RunLauncher:
        instance = getattr(settings, "INSTANCE", None)
        entry = instance.config.run_launcher if instance is not None else None
        return RunLauncher(name=entry.class_ if entry is not None else "SubprocessRunLauncher")

    def resolve_runQueuingSupported(root, info) -> bool:
        return run_queue_settings() is not None

    def resolve_runQueueConfig(root, info) -> RunQueueSettings | None:
        return run_queue_settings()

    def resolve_daemonHealth(root, info) -> DaemonHealth:
        return DaemonHealth()


class InstanceQueries(graphene.ObjectType):
    instance = graphene.NonNull(Instance, resolver=lambda root, info: Instance())
