"""Which permission each workspace edge needs and where: reloading and shutting down code locations.

Reloading or shutting down a location acts in that location; reloading the whole workspace is
instance-wide. `core.guards` enforces the tables; `orchestra_site` installs them.
"""

from __future__ import annotations

from typing import Any

from core.guards import Rule, operation_rules
from core.permissions import Permission
from workspace import api


def _named_location(repositoryLocationName: str, **_: Any) -> str:
    return repositoryLocationName


def _rest_location(name: str, **_: Any) -> str:
    return name


MUTATION_RULES: dict[str, Rule] = {
    "reloadRepositoryLocation": Rule(Permission.RELOAD_REPOSITORY_LOCATION, _named_location),
    "shutdownRepositoryLocation": Rule(Permission.RELOAD_REPOSITORY_LOCATION, _named_location),
    "reloadWorkspace": Rule(Permission.RELOAD_WORKSPACE),
}

OPERATION_RULES: dict[str, Rule] = operation_rules({
    api.reload_location: Rule(Permission.RELOAD_REPOSITORY_LOCATION, _rest_location),
})
