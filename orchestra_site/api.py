"""The root REST API (django-ninja, OpenAPI at /api/docs): mounts each app's router, maps domain errors."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest
from ninja import NinjaAPI

from core.exceptions import Conflict, InvalidInput, NotFound
from core.guards import guard_operations
from core.rest import RequestAuth
from runs.api import router as runs_router
from runs.api_launch import launch_run  # noqa: F401 - registers launch/terminate/re-execute on runs' router
from runs.permissions import OPERATION_RULES as RUN_RULES
from scheduling.api import router as scheduling_router
from scheduling.permissions import OPERATION_RULES as SCHEDULING_RULES
from workspace.api import router as workspace_router
from workspace.permissions import OPERATION_RULES as WORKSPACE_RULES

logger = logging.getLogger(__name__)

api = NinjaAPI(title="Orchestra", version="1", urls_namespace="api", auth=RequestAuth())
api.add_router("/", runs_router)
api.add_router("/", workspace_router)
api.add_router("/", scheduling_router)

# Every state-changing operation (by operationId) -> the permission it needs and where; one missing is refused.
OPERATION_RULES = {**RUN_RULES, **WORKSPACE_RULES, **SCHEDULING_RULES}
guard_operations(api, OPERATION_RULES)


@api.exception_handler(NotFound)
def not_found(request: HttpRequest, exc: NotFound):
    # A code location that exists but is not loaded is unavailable for now (503), not missing.
    status = 503 if getattr(exc, "location_loaded", True) is False else 404
    return api.create_response(request, {"detail": str(exc)}, status=status)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied):
    message = str(exc) or "You do not have permission to do this."
    return api.create_response(request, {"code": "forbidden", "message": message, "detail": message}, status=403)


@api.exception_handler(InvalidInput)
def invalid_input(request: HttpRequest, exc: InvalidInput):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(Conflict)
def conflict(request: HttpRequest, exc: Conflict):
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api.create_response(
        request, {"detail": f"The request body is over {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."}, status=413)


@api.exception_handler(RecursionError)
def too_deep(request: HttpRequest, exc: RecursionError):
    return api.create_response(request, {"detail": "The request body is nested too deeply."}, status=400)


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception):
    # Logged with its traceback for the operator; the client gets JSON, never a traceback page.
    logger.exception("REST handler failed: %s %s", request.method, request.path)
    return api.create_response(request, {"detail": f"internal error: {type(exc).__name__}"}, status=500)
