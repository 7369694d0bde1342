"""What an asset's page shows beyond its history: downstream assets, checks with their latest result, numeric
metadata plotted over the materializations shown, and a partition status grid for partitioned assets. Three
queries at most, whatever the number of partitions or checks."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from orchestra._core.partitions.snapshot import partitions_def_from_snapshot
from runs.metadata_display import metadata_items
from runs.models import EventLogEntry
from runs.schema_metadata import decode_tagged
from runs.selectors import asset_check_latest, asset_materialized_partitions, dynamic_partition_keys
from workspace.graphs import dep_key_string

NUMERIC_TYPES = ("int", "float")
PLOT_W, PLOT_H, PAD = 320, 64, 4
MAX_PARTITIONS = 20_000  # the grid draws at most this many (newest) partitions


def downstream_keys(key: str, nodes: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    return sorted(node["key_string"] for _, node in nodes
                  if any(dep_key_string(dep) == key for dep in node.get("deps") or []))


def check_rows(key: str, node: dict[str, Any]) -> list[dict[str, Any]]:
    """Each check of the asset with its latest unpartitioned (or newest) result, in one query."""
    names = [check.split(":", 1)[1] if ":" in check else check for check in node.get("checks") or []]
    if not names:
        return []
    latest = asset_check_latest(asset_key=key, check_names=names)
    return [{"name": name, "index": latest.get(name)} for name in names]


def metadata_plots(history: Sequence[EventLogEntry]) -> list[dict[str, Any]]:
    """One SVG polyline per numeric metadata label over the materializations shown (oldest on the left)."""
    series: dict[str, list[float]] = {}
    for event in reversed(history):
        for entry in event.payload.get("metadata") or []:
            if isinstance(entry, dict) and entry.get("type") in NUMERIC_TYPES:
                value = decode_tagged(entry.get("data"))
                if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                    series.setdefault(str(entry.get("label", "")), []).append(float(value))
    plots = []
    for label, values in sorted(series.items()):
        if len(values) < 2:
            continue
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        step = (PLOT_W - 2 * PAD) / (len(values) - 1)
        points = " ".join(f"{PAD + i * step:.1f},{PAD + (PLOT_H - 2 * PAD) * (1 - (v - low) / span):.1f}"
                          for i, v in enumerate(values))
        plots.append({"label": label, "points": points, "low": low, "high": high, "last": values[-1],
                      "count": len(values), "width": PLOT_W, "height": PLOT_H})
    return plots


def partition_grid(key: str, node: dict[str, Any]) -> dict[str, Any] | None:
    """For a partitioned asset: each partition materialized or missing (from the asset index, one query)."""
    snapshot = node.get("partitions")
    if not snapshot:
        return None
    try:
        if snapshot.get("kind") == "dynamic":
            keys = dynamic_partition_keys(partitions_def_name=snapshot.get("name", ""))
        else:
            keys = list(partitions_def_from_snapshot(snapshot).get_partition_keys())
    except Exception as exc:  # a partitions definition this server cannot expand (e.g. dynamic without storage)
        return {"error": f"{type(exc).__name__}: {exc}", "cells": [], "total": 0, "materialized": 0}
    shown = keys[-MAX_PARTITIONS:]
    done = asset_materialized_partitions(asset_key=key)
    cells = [{"key": partition, "run_id": done.get(partition, ""), "ok": partition in done} for partition in shown]
    return {"cells": cells, "total": len(keys), "shown": len(shown),
            "materialized": sum(1 for partition in keys if partition in done), "error": None}


def asset_page_extras(key: str, node: dict[str, Any], nodes: Iterable[tuple[str, dict[str, Any]]],
                      history: Sequence[EventLogEntry]) -> dict[str, Any]:
    return {"downstream": downstream_keys(key, nodes), "checks": check_rows(key, node),
            "plots": metadata_plots(history), "grid": partition_grid(key, node),
            "definition_metadata": metadata_items(node.get("metadata"))}

