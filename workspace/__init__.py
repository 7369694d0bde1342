"""Code locations on the host side: workspace.yaml, code servers, stored snapshots, reload.

Modules, each importing only those listed before it (the first three import no Django):

1. `config` — the workspace file (`workspace.yaml`, or `[tool.orchestra]`/`[tool.dagster]` in
   `pyproject.toml`) parsed into `LocationEntry`s.
2. `client` — `CodeServerClient`, HTTP + JSON to one `orchestra code-server` (`orchestra._code_server`).
3. `supervisor` — starts one code server per local entry in its own Python and restarts it with back-off.
4. `models`, `conf` — `CodeLocation` (snapshot or load error) and the `code_servers` settings.
5. `services`, `selectors` — every change (`workspace_apply`, `workspace_start`, `location_load`,
   `location_reload`) and every read.
6. `management/commands/workspace_load`, `admin` — interfaces.
"""
