"""The root URL map: each app's own routes mounted once."""

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from core.graphql import OrchestraGraphQLView
from core.views import health
from orchestra_site.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    # API clients (Dagster's GraphQL client among them) send no CSRF token. Authentication is a later
    # issue: if it authenticates by session cookie, CSRF protection must come back for those requests.
    # A browser (Accept: text/html) gets GraphiQL, its scripts vendored in static/vendor/graphiql-2.4.7/.
    path("graphql", csrf_exempt(OrchestraGraphQLView.as_view(graphiql=True)), name="graphql"),
    path("api/", api.urls),
    # The server-rendered UI (templates/ui/), each app's pages from its own views.
    path("", include("runs.urls")),
    path("", include("workspace.urls")),
    path("", include("scheduling.urls")),
    path("", RedirectView.as_view(url="/runs/", permanent=False)),
]
