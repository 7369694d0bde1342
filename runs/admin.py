"""Admin for runs (read-mostly: tags and events inline), the asset index and daemon heartbeats."""

from django.contrib import admin

from core.permissions import Permission, actor_from_request, has_permission
from runs import services
from runs.models import AssetCheckIndex, AssetIndex, DaemonHeartbeat, EventLogEntry, Run, RunTag


class RunTagInline(admin.TabularInline):
    model = RunTag
    extra = 0
    can_delete = False
    readonly_fields = ("key", "value")

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = EventLogEntry
    extra = 0
    can_delete = False
    fields = ("id", "timestamp", "event_type", "step_key", "level", "message")
    readonly_fields = fields
    ordering = ("id",)
    max_num = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).only(*self.fields, "run_id")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("run_id", "job_name", "location_name", "status", "created_at", "started_at", "ended_at")
    list_filter = ("status", "location_name")
    search_fields = ("run_id", "job_name")
    date_hierarchy = "created_at"
    show_full_result_count = False  # COUNT(*) over a large runs table on every page is slow
    inlines = [RunTagInline, EventInline]
    readonly_fields = [f.name for f in Run._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        location = (obj.location_name or None) if obj is not None else None
        return has_permission(request, Permission.DELETE_PIPELINE_RUN, location)

    # Deleting goes through the service, as from the UI and the APIs: events and tags with the run, and an
    # audit entry naming the admin user.
    def delete_model(self, request, obj):
        services.run_delete(run_id=obj.run_id, actor=actor_from_request(request))

    def get_deleted_objects(self, objs, request):
        """The runs alone: their tags and events go with them in the service (read-only here otherwise,
        they would make Django ask for delete permission on each)."""
        runs = list(objs)
        return [str(run) for run in runs], {Run._meta.verbose_name_plural: len(runs)}, set(), []

    def delete_queryset(self, request, queryset):
        actor = actor_from_request(request)
        for run_id in queryset.values_list("run_id", flat=True):
            services.run_delete(run_id=run_id, actor=actor)


@admin.register(EventLogEntry)
class EventLogEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "run_id", "timestamp", "event_type", "step_key", "level")
    list_filter = ("event_type",)
    search_fields = ("=run__run_id",)
    show_full_result_count = False
    readonly_fields = [f.name for f in EventLogEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AssetIndex)
class AssetIndexAdmin(admin.ModelAdmin):
    list_display = ("asset_key", "partition", "last_run_id", "updated_at")
    search_fields = ("asset_key",)
    raw_id_fields = ("last_materialization", "last_observation")


@admin.register(AssetCheckIndex)
class AssetCheckIndexAdmin(admin.ModelAdmin):
    list_display = ("asset_key", "check_name", "partition", "passed", "severity", "updated_at")
    search_fields = ("asset_key", "check_name")
    raw_id_fields = ("last_evaluation",)


@admin.register(DaemonHeartbeat)
class DaemonHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("daemon_type", "daemon_id", "timestamp")
    list_filter = ("daemon_type",)
    readonly_fields = ("daemon_type", "daemon_id", "timestamp", "info", "errors")
