"""Runs, their tags, the append-only event log, the asset index and daemon heartbeats."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    """Dagster's `DagsterRunStatus`; a run's status is a consequence of its run events."""

    QUEUED = "QUEUED"
    NOT_STARTED = "NOT_STARTED"
    MANAGED = "MANAGED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"


FINISHED_STATUSES = frozenset({RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED})
ACTIVE_STATUSES = frozenset({RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING})


def new_run_id() -> str:
    return str(uuid.uuid4())


class Run(models.Model):
    """One execution of a job. `id` orders runs (newest first) and pages them; `run_id` names them."""

    id = models.BigAutoField(primary_key=True)
    run_id = models.CharField(max_length=64, unique=True, default=new_run_id)
    job_name = models.CharField(max_length=255)
    location_name = models.CharField(max_length=255, blank=True, default="")
    repository_name = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.NOT_STARTED)
    run_config = models.JSONField(default=dict, blank=True)
    op_selection = models.JSONField(null=True, blank=True)
    asset_selection = models.JSONField(null=True, blank=True)
    asset_check_selection = models.JSONField(null=True, blank=True)
    step_keys_to_execute = models.JSONField(null=True, blank=True)
    parent_run_id = models.CharField(max_length=64, null=True, blank=True)
    root_run_id = models.CharField(max_length=64, null=True, blank=True)
    snapshot_id = models.CharField(max_length=64, blank=True, default="")
    # Where the run worker loads the job from: python_file / module_name / package_name, attribute,
    # working_directory (the arguments of the SDK's `load_definitions`). Null for runs executed in process.
    origin = models.JSONField(null=True, blank=True)
    # Where and how the run worker was started (pid, host, Celery task id, ...), for monitoring.
    launcher = models.JSONField(default=dict, blank=True)
    # Set by the run worker when it claims the run and refreshed while it is alive (run monitoring).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="run_status_id"),
            models.Index(fields=["job_name", "-id"], name="run_job_id"),
            # The overview's timeline reads runs created in a window (plus a day's look-back) that had not ended
            # before it: the end time in the index filters the look-back without visiting the table.
            models.Index(fields=["created_at", "ended_at"], name="run_created_ended"),
            models.Index(fields=["root_run_id"], name="run_root_run_id"),
            models.Index(fields=["parent_run_id"], name="run_parent_run_id"),
        ]

    def __str__(self) -> str:
        return f"{self.job_name} {self.run_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class RunTag(models.Model):
    """A run's key/value tag. The (key, value, run) index serves tag filters on the runs list."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=255)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="runtag_unique_key_per_run")]
        indexes = [models.Index(fields=["key", "value", "run"], name="runtag_key_value_run")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class IdempotencyKey(models.Model):
    """The run a submission's idempotency key answers while that run is younger than the key window (24 h).

    One row per key (a unique column, so of two concurrent submissions one creates the run and the other
    answers it); a submission whose key's run has aged out of the window moves the row to its new run with
    a conditional UPDATE, which the row lock serialises. `created_at` is the run's creation time.
    """

    key = models.TextField(unique=True)
    run = models.ForeignKey(Run, to_field="run_id", db_column="run_id", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class EventLogEntry(models.Model):
    """One row of the append-only event log. `id` is the storage id readers page by.

    `event_type` is null for plain log messages (Dagster's message events without a dagster_event).
    Asset events also fill `asset_key` (the key's path joined by '/') and `partition`.
    """

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(Run, to_field="run_id", db_column="run_id", on_delete=models.CASCADE, related_name="events")
    timestamp = models.DateTimeField(default=timezone.now)
    event_type = models.CharField(max_length=64, null=True, blank=True)
    step_key = models.CharField(max_length=255, null=True, blank=True)
    level = models.PositiveSmallIntegerField(default=20)
    message = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    asset_key = models.TextField(null=True, blank=True)
    partition = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "id"], name="event_run_id"),
            models.Index(fields=["event_type", "id"], name="event_type_id"),
            models.Index(fields=["asset_key", "event_type", "partition", "id"], name="event_asset"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'LOG'} #{self.id}"


class AssetIndex(models.Model):
    """Latest materialization and observation per asset key and partition ('' when unpartitioned)."""

    asset_key = models.TextField()
    partition = models.CharField(max_length=255, blank=True, default="")
    last_materialization = models.ForeignKey(
        EventLogEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_observation = models.ForeignKey(
        EventLogEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_id = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset_key", "partition"], name="assetindex_key_partition")]
        verbose_name_plural = "asset index"

    def __str__(self) -> str:
        return f"{self.asset_key}[{self.partition}]" if self.partition else self.asset_key


class AssetCheckIndex(models.Model):
    """Latest evaluation of each asset check per partition."""

    asset_key = models.TextField()
    check_name = models.CharField(max_length=255)
    partition = models.CharField(max_length=255, blank=True, default="")
    last_evaluation = models.ForeignKey(EventLogEntry, null=True, on_delete=models.SET_NULL, related_name="+")
    passed = models.BooleanField(null=True)
    severity = models.CharField(max_length=16, blank=True, default="")
    last_run_id = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset_key", "check_name", "partition"], name="assetcheckindex_unique")
        ]

    def __str__(self) -> str:
        return f"{self.asset_key}:{self.check_name}"


class DynamicPartition(models.Model):
    """A key of a `DynamicPartitionsDefinition`; `id` keeps the order keys were added in."""

    id = models.BigAutoField(primary_key=True)
    partitions_def_name = models.CharField(max_length=255)
    partition_key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partitions_def_name", "partition_key"], name="dynamicpartition_unique")
        ]

    def __str__(self) -> str:
        return f"{self.partitions_def_name}:{self.partition_key}"


class DaemonHeartbeat(models.Model):
    """The last heartbeat of each daemon duty (scheduler, sensors, run queue, ...) per daemon process."""

    daemon_type = models.CharField(max_length=64)
    daemon_id = models.CharField(max_length=128)
    timestamp = models.DateTimeField(default=timezone.now)
    info = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["daemon_type", "daemon_id"], name="heartbeat_unique")]
        indexes = [models.Index(fields=["daemon_type", "-timestamp"], name="heartbeat_type_time")]

    def __str__(self) -> str:
        return f"{self.daemon_type}@{self.daemon_id}"


class DaemonCursor(models.Model):
    """A daemon duty's stored position (Dagster's daemon cursor storage), e.g. the event id the
    run-retry consumer has read up to."""

    key = models.CharField(max_length=255, unique=True)
    value = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
