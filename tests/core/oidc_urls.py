"""The root URL map as `orchestra_site.urls` builds it in mode oidc (tests switch the mode after import)."""

from django.urls import include, path

urlpatterns = [
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("orchestra_site.urls")),
]
