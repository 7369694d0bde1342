"""Admin for schedule and sensor state, ticks and sensor run keys; start/stop go through the services."""

from django.contrib import admin, messages

from core.exceptions import OrchestraError
from core.guards import admin_allowed
from core.permissions import Permission, actor_from_request
from scheduling.backfills import backfill_cancel
from scheduling.models import Backfill, InstigatorKind, InstigatorState, SensorRunKey, Tick
from scheduling.services import schedule_start, schedule_stop, sensor_start, sensor_stop


@admin.register(InstigatorState)
class InstigatorStateAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "location_name", "status", "status_overridden", "present", "next_tick_at",
                    "last_tick_at")
    list_filter = ("kind", "status", "present", "location_name")
    search_fields = ("name", "location_name")
    readonly_fields = [f.name for f in InstigatorState._meta.fields]
    actions = ["start", "stop"]

    @admin.action(description="Start the selected schedules and sensors")
    def start(self, request, queryset):
        self._each(request, queryset, (schedule_start, Permission.START_SCHEDULE),
                   (sensor_start, Permission.EDIT_SENSOR))

    @admin.action(description="Stop the selected schedules and sensors")
    def stop(self, request, queryset):
        self._each(request, queryset, (schedule_stop, Permission.STOP_RUNNING_SCHEDULE),
                   (sensor_stop, Permission.EDIT_SENSOR))

    def _each(self, request, queryset, for_schedule, for_sensor):
        for state in queryset:
            service, permission = for_schedule if state.kind == InstigatorKind.SCHEDULE else for_sensor
            if not admin_allowed(self, request, permission, state.location_name):
                continue
            try:
                service(location_name=state.location_name, name=state.name, actor=actor_from_request(request))
            except OrchestraError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def has_add_permission(self, request):
        return False


@admin.register(Tick)
class TickAdmin(admin.ModelAdmin):
    list_display = ("id", "state", "status", "timestamp", "scheduled_time", "end_timestamp")
    list_filter = ("kind", "status")
    list_select_related = ("state",)
    readonly_fields = [f.name for f in Tick._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SensorRunKey)
class SensorRunKeyAdmin(admin.ModelAdmin):
    list_display = ("run_key", "run_id", "state", "created_at")
    list_select_related = ("state",)
    search_fields = ("run_key", "run_id")
    readonly_fields = [f.name for f in SensorRunKey._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Backfill)
class BackfillAdmin(admin.ModelAdmin):
    list_display = ("backfill_id", "job_name", "location_name", "status", "submitted", "created_at")
    list_filter = ("status", "location_name")
    search_fields = ("backfill_id", "job_name")
    readonly_fields = [f.name for f in Backfill._meta.fields]
    actions = ["cancel"]

    @admin.action(description="Cancel the selected backfills")
    def cancel(self, request, queryset):
        for backfill in queryset:
            if not admin_allowed(self, request, Permission.CANCEL_PARTITION_BACKFILL, backfill.location_name):
                continue
            try:
                backfill_cancel(backfill_id=backfill.backfill_id, actor=actor_from_request(request))
            except OrchestraError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def has_add_permission(self, request):
        return False
