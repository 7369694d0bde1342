from django.urls import path

from scheduling import views, views_backfills, views_instigators, views_overview

urlpatterns = [
    path("overview/", views_overview.overview, name="overview"),
    # Before the runs app's own `runs/`: `?view=backfills` is the backfills tab of the runs page.
    path("runs/", views_backfills.runs_or_backfills),
    path("runs/b/<str:backfill_id>/", views_backfills.backfill_detail, name="backfill-detail"),
    path("runs/b/<str:backfill_id>/cancel", views_backfills.backfill_cancel, name="backfill-cancel"),
    path("runs/b/<str:backfill_id>/reexecute", views_backfills.backfill_reexecute, name="backfill-reexecute"),
    path("automation/", views.automation, name="automation"),
    path("locations/<str:location_name>/schedules/<str:name>/", views_instigators.instigator_detail,
         {"kind": "schedules"}, name="schedule-detail"),
    path("locations/<str:location_name>/sensors/<str:name>/", views_instigators.instigator_detail,
         {"kind": "sensors"}, name="sensor-detail"),
    path("automation/sensor/<str:location_name>/<str:name>/cursor", views.sensor_cursor, name="sensor-cursor"),
    path("automation/<str:kind>/<str:location_name>/<str:name>/<str:action>", views.instigator_action,
         name="instigator-action"),
]
