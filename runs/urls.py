from django.urls import path

from runs import views, views_bulk, views_graphs, views_job_graph, views_search

urlpatterns = [
    path("runs/", views.runs_list, name="runs-list"),
    path("runs/bulk", views_bulk.runs_bulk, name="runs-bulk"),
    path("runs/<str:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<str:run_id>/events", views.run_events, name="run-events"),
    path("runs/<str:run_id>/terminate", views.run_terminate, name="run-terminate"),
    path("runs/<str:run_id>/reexecute", views.run_reexecute_view, name="run-reexecute"),
    path("jobs/", views.jobs_list, name="jobs-list"),
    path("search", views_search.search, name="search"),
    path("locations/<str:location_name>/jobs/<str:job_name>/", views.job_detail, name="job-detail"),
    # After every fixed path under a job.
    path("locations/<str:location_name>/jobs/<str:job_name>/<path:graph_path>/", views_job_graph.job_subgraph,
         name="job-subgraph"),
    path("assets/", views.assets_list, name="assets-list"),
    path("assets/<path:key>/", views.asset_detail, name="asset-detail"),
    path("asset-groups/", views_graphs.asset_lineage, name="asset-lineage"),
    path("asset-groups/materialize", views_graphs.asset_lineage_materialize, name="asset-lineage-materialize"),
    path("deployment/", views.deployment, name="deployment"),
    path("deployment/config", views.deployment_config, name="deployment-config"),
]
