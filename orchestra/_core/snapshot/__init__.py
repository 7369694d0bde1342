"""The definitions snapshot: versioned plain JSON describing a code location for the webserver and daemon.

Modules, each importing only those listed before it:

1. `plain` — turning values into strict, deterministic JSON; the snapshot id hash.
2. `jobs` — one job: op graph (nodes by reference to the location's `node_definitions` and
   `dagster_types`), run-config schema (config type snapshots), executor, partitions, tags and metadata.
3. `assets` — asset nodes and asset check nodes.
4. `location` — `snapshot_from_definitions(defs, location_name)`, which adds schedules, sensors,
   resources and the definition tables and stamps `version` and `snapshot_id`.
5. `read` — `full_job(location, job)`: a stored job (version 1 or 2) in the whole form readers use,
   every node with its inputs and outputs and the run config's JSON Schema derived.

The webserver and daemon read only this JSON; nothing in it needs the user's code to be understood.

Versions: 1 stored each job's graph whole and each config schema's `json_schema` too; 2 (from issue
#4) describes each op/graph definition and Dagster type once per location and derives JSON Schema on
read: a third of the bytes for a 2,000-asset location.
"""

SNAPSHOT_VERSION = 2
