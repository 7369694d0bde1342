"""The definitions snapshot: versioned plain JSON describing a code location for the webserver and daemon.

Modules, each importing only those listed before it:

1. `plain` — turning values into strict, deterministic JSON; the snapshot id hash.
2. `jobs` — one job: op graph (nodes, inputs, outputs, types, dependencies), run-config schema,
   executor, partitions, tags and metadata.
3. `assets` — asset nodes and asset check nodes.
4. `location` — `snapshot_from_definitions(defs, location_name)`, which adds schedules, sensors and
   resources and stamps `version` and `snapshot_id`.

The webserver and daemon read only this JSON; nothing in it needs the user's code to be understood.
"""

SNAPSHOT_VERSION = 1
