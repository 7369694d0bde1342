"""Admin for code locations (read-only: the workspace and reload own their state)."""

from django.contrib import admin

from workspace.models import CodeLocation


@admin.register(CodeLocation)
class CodeLocationAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "snapshot_id", "updated_at")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = ("name", "origin", "status", "snapshot_id", "load_error", "server", "updated_at")
    exclude = ("snapshot",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
