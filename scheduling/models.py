"""Schedule and sensor state, their ticks and the run keys sensors have used."""

from django.db import models
from django.utils import timezone


class InstigatorKind(models.TextChoices):
    SCHEDULE = "SCHEDULE"
    SENSOR = "SENSOR"


class InstigatorStatus(models.TextChoices):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class InstigatorState(models.Model):
    """One schedule or sensor of a code location, as the daemon runs it.

    `status` follows the definition's `default_status` until someone starts or stops it
    (`status_overridden`); `present` is False once the definition is gone from its location's snapshot
    (the row keeps its ticks and run keys, and beat stops ticking it).
    """

    kind = models.CharField(max_length=16, choices=InstigatorKind.choices)
    location_name = models.CharField(max_length=255)
    repository_name = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=InstigatorStatus.choices, default=InstigatorStatus.STOPPED)
    default_status = models.CharField(max_length=16, choices=InstigatorStatus.choices,
                                      default=InstigatorStatus.STOPPED)
    status_overridden = models.BooleanField(default=False)
    present = models.BooleanField(default=True)
    definition = models.JSONField(default=dict, blank=True)  # the schedule/sensor snapshot last reconciled
    snapshot_id = models.CharField(max_length=64, blank=True, default="")  # of the location snapshot it came from
    # Ticks are due from here on: set each time it starts, so one turned off and on does not back-fill.
    started_at = models.DateTimeField(null=True, blank=True)
    # Schedules: the last cron time handled (Dagster's last iteration) and the next one due.
    last_scheduled_time = models.DateTimeField(null=True, blank=True)
    next_tick_at = models.DateTimeField(null=True, blank=True)
    # Sensors: what the next evaluation is told.
    cursor = models.TextField(null=True, blank=True)
    last_run_key = models.TextField(null=True, blank=True)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    # A daemon evaluating a sensor holds it until then, so a second daemon does not tick it at once.
    tick_lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["location_name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "location_name", "name"], name="scheduling_one_state_per_instigator"),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "next_tick_at"], name="scheduling_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind.lower()} {self.name}@{self.location_name}"

    @property
    def is_running(self) -> bool:
        return self.present and self.status == InstigatorStatus.RUNNING


class TickStatus(models.TextChoices):
    STARTED = "STARTED"
    SKIPPED = "SKIPPED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class Tick(models.Model):
    """One evaluation of a schedule (for one scheduled time) or of a sensor."""

    id = models.BigAutoField(primary_key=True)
    state = models.ForeignKey(InstigatorState, on_delete=models.CASCADE, related_name="ticks")
    kind = models.CharField(max_length=16, choices=InstigatorKind.choices)
    status = models.CharField(max_length=16, choices=TickStatus.choices, default=TickStatus.STARTED)
    timestamp = models.DateTimeField(default=timezone.now)  # when the evaluation started
    scheduled_time = models.DateTimeField(null=True, blank=True)  # schedules only
    # A STARTED tick whose daemon stopped is taken over once this has passed.
    claimed_until = models.DateTimeField(null=True, blank=True)
    end_timestamp = models.DateTimeField(null=True, blank=True)
    run_ids = models.JSONField(default=list, blank=True)
    run_keys = models.JSONField(default=list, blank=True)
    skip_reason = models.TextField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)  # {cls_name, message, stack, cause}
    failure_count = models.PositiveIntegerField(default=0)  # a schedule tick is retried max_tick_retries times
    cursor_before = models.TextField(null=True, blank=True)
    cursor_after = models.TextField(null=True, blank=True)
    log_lines = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A second daemon's identical schedule tick fails to insert and does nothing.
            models.UniqueConstraint(fields=["state", "scheduled_time"], condition=models.Q(scheduled_time__isnull=False),
                                    name="scheduling_one_tick_per_scheduled_time"),
        ]
        indexes = [
            models.Index(fields=["state", "-id"], name="scheduling_tick_history"),
            models.Index(fields=["state", "status"], name="scheduling_tick_status"),
        ]

    def __str__(self) -> str:
        return f"tick {self.pk} of {self.state_id} ({self.status})"


class SensorRunKey(models.Model):
    """A run key a sensor has launched a run for: the same key never launches a second run."""

    id = models.BigAutoField(primary_key=True)
    state = models.ForeignKey(InstigatorState, on_delete=models.CASCADE, related_name="run_keys")
    run_key = models.CharField(max_length=500)
    run_id = models.CharField(max_length=64)
    tick = models.ForeignKey(Tick, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["state", "run_key"], name="scheduling_one_run_per_sensor_run_key"),
        ]

    def __str__(self) -> str:
        return f"{self.run_key} -> {self.run_id}"


class BackfillStatus(models.TextChoices):
    """Dagster's BulkActionStatus names."""

    REQUESTED = "REQUESTED"
    COMPLETED_SUCCESS = "COMPLETED_SUCCESS"
    COMPLETED_FAILED = "COMPLETED_FAILED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"


def new_backfill_id() -> str:
    import secrets
    import string

    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))  # Dagster's 8-letter ids


class Backfill(models.Model):
    """Runs of a partitioned job, one per partition, submitted progressively by a daemon duty.

    `submitted` counts the partitions (in `partition_names` order) whose run exists (the runs of
    `run_plan`, when it has any); a run's
    `orchestra/idempotency_key` tag (`backfill:<id>:<partition>`) makes a batch repeated after a
    crash answer the runs it already created.
    """

    id = models.BigAutoField(primary_key=True)
    backfill_id = models.CharField(max_length=32, unique=True, default=new_backfill_id)
    status = models.CharField(max_length=24, choices=BackfillStatus.choices, default=BackfillStatus.REQUESTED)
    location_name = models.CharField(max_length=255)
    repository_name = models.CharField(max_length=255, blank=True, default="")
    job_name = models.CharField(max_length=255)
    partition_names = models.JSONField(default=list)
    asset_selection = models.JSONField(default=list, blank=True)  # asset key strings: an asset backfill
    submitted = models.PositiveIntegerField(default=0)
    # An asset backfill whose assets have backfill policies, or depend on assets of another policy: its runs,
    # in submission order, `{assets, partitions, ranged, after, run_id, skipped}` (scheduling.backfills).
    # `submitted` then counts these runs. Empty: one run per partition of `partition_names`.
    run_plan = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    max_runs_in_flight = models.PositiveIntegerField(null=True, blank=True)
    from_failure_of = models.CharField(max_length=32, blank=True, default="")  # the backfill re-executed
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="scheduling_backfill_status")]

    def __str__(self) -> str:
        return f"backfill {self.backfill_id} of {self.job_name}"
