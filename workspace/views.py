"""Server-rendered actions on code locations (the deployment page itself lives in `runs.views`, which
also shows daemon health, kept by `runs`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.permissions import Permission, actor_from_request
from core.ui import not_found_as_404, require_permission
from workspace import services


@require_POST
@not_found_as_404
def location_reload(request: HttpRequest, name: str) -> HttpResponse:
    """Ask for a reload of one location: its supervisor restarts the code server and stores the new
    snapshot (the page shows LOADING until then)."""
    require_permission(request, Permission.RELOAD_REPOSITORY_LOCATION, name)
    services.location_reload(name=name, actor=actor_from_request(request))
    messages.success(request, f"Reload of {name} requested.")
    return redirect("deployment")
