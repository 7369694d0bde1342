"""Asset selections: which assets (and asset checks) a job, schedule, sensor or UI query means.

Modules, each importing only those listed before it:

1. `graph` — `SelectionGraph`, the small read-only view of an asset graph that selections resolve
   against (keys, edges, groups, tags, kinds, owners, execution sets, checks).
2. `asset_selection` — `AssetSelection` (constructors, `resolve()`), and the selections by key, group,
   tag, kind, owner and check. Its methods build combinators lazily (no import cycle).
3. `combinators` — graph position (`upstream`, `downstream`, `roots`, `sinks`, required neighbours)
   and set algebra (`|`, `&`, `-`).
4. `syntax` — `AssetSelection.from_string`: Dagster's selection language (`key:a or group:g+`).

Nothing here imports Django; `orchestra._core.assets` is imported lazily, inside functions.
"""
