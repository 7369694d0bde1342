"""The root URL map: each app's own routes mounted once."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from core.graphql import OrchestraGraphQLView
from core.views import health
from orchestra_site.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("", include("core.urls")),
    # Session-authenticated requests need the CSRF token (GraphiQL and the UI send it); API-token requests
    # and cookieless clients in `auth: {mode: none}` are exempt (core.middleware).
    # A browser (Accept: text/html) gets GraphiQL, its scripts vendored in static/vendor/graphiql-2.4.7/.
    path("graphql", OrchestraGraphQLView.as_view(graphiql=True), name="graphql"),
    path("api/", api.urls),
    # The server-rendered UI (templates/ui/), each app's pages from its own views.
    # scheduling first: its `runs/` adds the backfills tab (`?view=backfills`) to the runs app's list.
    path("", include("scheduling.urls")),
    path("", include("runs.urls")),
    path("", include("workspace.urls")),
    path("", RedirectView.as_view(url="/overview/", permanent=False)),
]
if settings.ORCHESTRA_AUTH_MODE == "oidc":  # single sign-on: /oidc/authenticate/ and /oidc/callback/ (core.oidc)
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
