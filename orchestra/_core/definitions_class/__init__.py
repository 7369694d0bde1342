"""`Definitions`, the legacy `@repository`, asset jobs and the loaders that find definitions in code.

Modules, each importing only those listed before it (see README.md for the interface other parts use):

1. `asset_job` — `define_asset_job` and `UnresolvedAssetJobDefinition` (a job named by an asset
   selection, turned into a `JobDefinition` once every asset is known).
2. `repository_data` — `RepositoryData` and `build_repository_data`: Dagster's validation rules
   (duplicate names and keys, reserved names, schedule/sensor targets, asset resources).
3. `repository` — `RepositoryDefinition` and `@repository`.
4. `resource_binding` — `with_resources`, and binding top-level resources to jobs that need them.
5. `asset_values` — `AssetValueLoader` (`Definitions.load_asset_value`).
6. `definitions` — `Definitions`.
7. `module_loading` — `load_definitions_from_module(s)` and friends, and `load_definitions`, the loader
   the code-location server and the run worker use.

Nothing here imports Django.
"""
