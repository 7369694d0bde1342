"""Admin for code locations (read-only: the workspace and reload own their state)."""

from django.contrib import admin, messages

from core.exceptions import OrchestraError
from core.guards import admin_allowed
from core.permissions import Permission, actor_from_request
from workspace.models import CodeLocation
from workspace.services import location_reload


@admin.register(CodeLocation)
class CodeLocationAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "snapshot_id", "updated_at")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = ("name", "origin", "status", "snapshot_id", "load_error", "server", "updated_at",
                       "reload_requested_at")
    exclude = ("snapshot",)
    actions = ["reload"]

    @admin.action(description="Reload selected code locations")
    def reload(self, request, queryset):
        for location in queryset:
            if not admin_allowed(self, request, Permission.RELOAD_REPOSITORY_LOCATION, location.name):
                continue
            try:
                location_reload(name=location.name, actor=actor_from_request(request))
            except OrchestraError as exc:
                self.message_user(request, f"{location.name}: {exc}", messages.ERROR)
        self.message_user(request, f"Reload requested for {queryset.count()} location(s).", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
