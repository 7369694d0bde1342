"""Search over the definitions of every loaded code location (jobs, assets, schedules, sensors), read from
the stored snapshots: what the UI's global search (press `/`) finds besides runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from workspace.graphs import asset_href

KINDS = ("job", "asset", "schedule", "sensor")


@dataclass(frozen=True)
class Hit:
    kind: str
    name: str
    location: str
    href: str


def definitions_search(snapshots: Mapping[str, Mapping[str, Any]], query: str, *, per_kind: int = 8
                       ) -> dict[str, list[Hit]]:
    """Definitions whose name (an asset's key) contains `query`, case-insensitively; names that start
    with it first, then shorter names. At most `per_kind` of each kind."""
    needle = query.strip().lower()
    found: dict[str, list[tuple[tuple[bool, int, str], Hit]]] = {kind: [] for kind in KINDS}
    if not needle:
        return {kind: [] for kind in KINDS}

    def consider(kind: str, name: str, location: str, href: str) -> None:
        lowered = name.lower()
        at = lowered.find(needle)
        if at >= 0:
            found[kind].append(((at != 0 and lowered.rsplit("/", 1)[-1].find(needle) != 0, len(name), name),
                                Hit(kind, name, location, href)))

    for location, snapshot in sorted(snapshots.items()):
        loc = quote(location, safe="")
        for job in snapshot.get("jobs") or []:
            if not job["name"].startswith("__"):  # the implicit asset job is reached through its assets
                consider("job", job["name"], location, f"/locations/{loc}/jobs/{quote(job['name'], safe='')}/")
        for node in snapshot.get("asset_nodes") or []:
            consider("asset", node["key_string"], location, asset_href(node["key_string"]))
        for schedule in snapshot.get("schedules") or []:
            consider("schedule", schedule["name"], location, f"/locations/{loc}/schedules/{quote(schedule['name'], safe='')}/")
        for sensor in snapshot.get("sensors") or []:
            consider("sensor", sensor["name"], location, f"/locations/{loc}/sensors/{quote(sensor['name'], safe='')}/")
    return {kind: [hit for _, hit in sorted(hits, key=lambda pair: pair[0])[:per_kind]] for kind, hits in found.items()}
