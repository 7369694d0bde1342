"""The root URL map: each app's own routes mounted once."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from core.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    # Until the UI lands, the admin is the operator's home page.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
