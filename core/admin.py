"""The admin site's views of core's rows: the audit log, read-only."""

from django.contrib import admin

from core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Entries are written by services only: nothing here adds, changes or deletes one (retention purges)."""

    list_display = ("created_at", "actor_kind", "actor_name", "address", "action", "target_type", "target_id",
                    "location_name")
    list_filter = ("actor_kind", "action", "target_type", "location_name", "created_at")
    search_fields = ("actor_name", "target_id", "address", "action")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
