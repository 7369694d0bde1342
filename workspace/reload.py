"""Reloads asked for by an API caller who waits for the answer: request, then wait for the new state.

`workspace.services.location_reload` only records the request when the location's code server runs
in another process (a supervisor of `orchestra dev`, `orchestra workspace load --serve` or the daemon
restarts it and stores the new snapshot). These services add the waiting, bounded by the instance's
`code_servers.reload_timeout`, so that GraphQL and REST can answer with the location's new state.
"""

from __future__ import annotations

import time
from typing import Any

from core.exceptions import Conflict, NotFound
from workspace import services
from workspace.conf import code_servers
from workspace.config import LocationEntry
from workspace.models import CodeLocation, LocationStatus

POLL_SECONDS = 0.1


def location_reload_wait(*, name: str, timeout: float | None = None, actor: Any = None) -> CodeLocation:
    """Reload one location and wait until it is loaded again (or failed to load), at most `timeout`
    seconds (default: `code_servers.reload_timeout`). Returns the location as stored then: LOADED,
    ERROR, or still LOADING when no supervisor served the request in time. Raises NotFound.
    """
    return workspace_reload_wait(names=[name], timeout=timeout, actor=actor)[0]


def workspace_reload_wait(*, names: list[str] | None = None, timeout: float | None = None,
                          actor: Any = None) -> list[CodeLocation]:
    """Reload the named locations (every location when `names` is None) and wait for all of them,
    sharing one deadline. Returns them by name, as stored when the wait ended."""
    if names is None:
        names = list(CodeLocation.objects.order_by("name").values_list("name", flat=True))
    for name in names:
        services.location_reload(name=name, actor=actor)
    deadline = time.monotonic() + (code_servers().reload_timeout if timeout is None else timeout)
    while True:
        locations = {loc.name: loc for loc in CodeLocation.objects.filter(name__in=names)}
        missing = [name for name in names if name not in locations]
        if missing:
            raise NotFound("code location", missing[0])
        pending = [loc for loc in locations.values() if loc.status == LocationStatus.LOADING]
        if not pending or time.monotonic() >= deadline:
            return [locations[name] for name in sorted(names)]
        time.sleep(POLL_SECONDS)


def location_shutdown(*, name: str, actor: Any = None) -> CodeLocation:
    """Stop a location's code server; the supervisor serving it starts a fresh one (Dagster's
    `shutdownRepositoryLocation` has the same effect on servers the workspace manages).

    Answers at once, without waiting for the new server. Raises NotFound for an unknown name and
    Conflict for a `code_server` location, whose server someone else runs.
    """
    try:
        location = CodeLocation.objects.get(name=name)
    except CodeLocation.DoesNotExist:
        raise NotFound("code location", name) from None
    if not LocationEntry.from_origin(location.origin).is_local:
        raise Conflict(f"code location {name!r} is served by a code server Orchestra did not start; "
                       "shut it down where it runs")
    return services.location_reload(name=name, actor=actor)
