"""Graph data for the UI's op graphs and asset lineage, read from stored snapshots (never user code).

The lineage functions return `{"nodes": [...], "edges": [...]}`: nodes carry an `id`, a `label`, a `kind`
and an optional `href`; edges are `[from id, to id]`. The lineage reaches the browser through GraphQL's
`assetLineage` (`workspace.schema_graph`), op graphs through Dagster's `solidHandles`, while `subgraph_at`
checks a sub-graph page's path. `static/ui/graph.js` lays them out (dagre) and draws them as SVG. Big
lineages are shown a group at a time: the whole deployment as a graph of asset groups, or one group's
assets with the assets it touches in other groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

# Above this many assets the lineage opens on the graph of groups rather than every asset.
LINEAGE_ASSETS_AT_ONCE = 300


def asset_href(key_string: str) -> str:
    return "/assets/" + "/".join(quote(part, safe="") for part in key_string.split("/")) + "/"


def subgraph_at(job: Mapping[str, Any], path: Sequence[str] = ()) -> Mapping[str, Any]:
    """The graph of a job (a snapshot in its whole form), or of the sub-graph at `path` (graph node names
    from the top): what a sub-graph page's path must name (the browser draws it from GraphQL's
    `solidHandles`). Raises KeyError for a path that does not name a graph node of the job."""
    graph = job.get("graph") or {}
    for name in path:
        node = next((n for n in graph.get("nodes") or [] if n["name"] == name), None)
        if node is None or node.get("kind") != "graph":
            raise KeyError("/".join(path))
        graph = node.get("graph") or {}
    return graph


def dep_key_string(dep: Any) -> str:
    """An asset node's dependency as a key string, whatever form the snapshot gives it in."""
    if isinstance(dep, str):
        return dep
    if isinstance(dep, Mapping):
        return dep_key_string(dep.get("key") or dep.get("path") or [])
    return "/".join(str(part) for part in dep)


def _unique(edges: Iterable[list[str]]) -> list[list[str]]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for edge in edges:
        pair = (edge[0], edge[1])
        if pair not in seen:
            seen.add(pair)
            unique.append(edge)
    return unique


def lineage_assets(snapshots: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every asset of every loaded location by key string: location, group, upstream keys."""
    assets: dict[str, dict[str, Any]] = {}
    for location_name, snapshot in sorted(snapshots.items()):
        for node in snapshot.get("asset_nodes") or []:
            assets[node["key_string"]] = {
                "location": location_name,
                "group": node.get("group_name") or "default",
                "deps": [dep_key_string(dep) for dep in node.get("deps") or []],
                "materializable": bool(node.get("is_materializable", True)),
                "kinds": list(node.get("kinds") or []),
            }
    return assets


def lineage_summary(snapshots: Mapping[str, Mapping[str, Any]], *, group: str | None = None) -> dict[str, Any]:
    """What the lineage page shows around its graph (which the browser reads from GraphQL's `assetLineage`):
    the view `lineage_graph` draws ("groups" or "assets"), every group as `name@location`, how many assets
    there are, and how many the view holds."""
    groups: dict[str, int] = {}
    for location_name, snapshot in snapshots.items():
        for node in snapshot.get("asset_nodes") or []:
            gid = _group_id(location_name, node.get("group_name") or "default")
            groups[gid] = groups.get(gid, 0) + 1
    assets = sum(groups.values())
    mode = "groups" if group is None and assets > LINEAGE_ASSETS_AT_ONCE else "assets"
    shown = len(groups) if mode == "groups" else groups.get(group, 0) if group is not None else assets
    return {"mode": mode, "groups": sorted(groups), "assets": assets, "shown": shown}


def _group_id(location: str, group: str) -> str:
    return f"{group}@{location}"


def lineage_graph(snapshots: Mapping[str, Mapping[str, Any]], *, group: str | None = None) -> dict[str, Any]:
    """The asset lineage: one group's assets (`group` as `name@location`) with their neighbours in other
    groups; or every asset when there are few; or else the graph of groups."""
    assets = lineage_assets(snapshots)
    groups: dict[str, int] = {}
    for info in assets.values():
        gid = _group_id(info["location"], info["group"])
        groups[gid] = groups.get(gid, 0) + 1
    if group is None and len(assets) > LINEAGE_ASSETS_AT_ONCE:
        nodes = [{"id": gid, "label": gid.split("@")[0], "kind": "group", "detail": f"{count} assets · {gid.split('@')[1]}",
                  "href": f"?group={quote(gid, safe='@')}"} for gid, count in sorted(groups.items())]
        edges = []
        for info in assets.values():
            to = _group_id(info["location"], info["group"])
            for dep in info["deps"]:
                upstream = assets.get(dep)
                if upstream is not None:
                    source = _group_id(upstream["location"], upstream["group"])
                    if source != to:
                        edges.append([source, to])
        return {"nodes": nodes, "edges": _unique(edges), "rankdir": "LR", "mode": "groups",
                "groups": sorted(groups), "assets": len(assets)}
    if group is None:
        shown = set(assets)
    else:
        shown = {key for key, info in assets.items() if _group_id(info["location"], info["group"]) == group}
    neighbours: set[str] = set()
    edges = []
    for key, info in assets.items():
        for dep in info["deps"]:
            if key in shown or dep in shown:
                edges.append([dep, key])
                neighbours.update({dep, key} - shown)
    nodes = []
    for key in sorted(shown | neighbours):
        info = assets.get(key)
        if info is None:  # a dependency no location defines (an external asset nobody declared)
            nodes.append({"id": key, "label": key, "kind": "missing", "detail": "not defined"})
            continue
        other_group = key not in shown
        nodes.append({
            "id": key, "label": key.rsplit("/", 1)[-1], "kind": "neighbour" if other_group else "asset",
            "detail": (f"in {info['group']}" if other_group else "/".join(key.split("/")[:-1])) or info["group"],
            "href": asset_href(key), "location": info["location"],
            "selectable": info["materializable"],
        })
    return {"nodes": nodes, "edges": _unique(edges), "rankdir": "LR", "mode": "assets",
            "groups": sorted(groups), "assets": len(assets)}


def asset_jobs_for_selection(snapshots: Mapping[str, Mapping[str, Any]], keys: Iterable[str]
                             ) -> dict[str, tuple[str | None, list[str]]]:
    """For "materialize selected": per location, a job that materializes all its selected keys (None when
    no one job does) and the keys. Raises KeyError naming a key no loaded location defines."""
    by_key = {}
    for location_name, snapshot in snapshots.items():
        for node in snapshot.get("asset_nodes") or []:
            by_key[node["key_string"]] = (location_name, node)
    plan: dict[str, list[str]] = {}
    for key in keys:
        if key not in by_key:
            raise KeyError(key)
        plan.setdefault(by_key[key][0], []).append(key)
    result = {}
    for location_name, selected in plan.items():
        common: set[str] | None = None
        for key in selected:
            names = set(by_key[key][1].get("job_names") or [])
            common = names if common is None else common & names
        job = "__ASSET_JOB" if common and "__ASSET_JOB" in common else (sorted(common)[0] if common else None)
        result[location_name] = (job, selected)
    return result
