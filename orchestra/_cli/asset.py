"""`orchestra asset list|materialize`: Dagster's `dagster asset` commands, executing in this process.

`materialize` resolves `--select` (Dagster's selection syntax) against the definitions, subsets the
assets' job and executes it here against `DagsterInstance.get()`, as `dagster asset materialize`
does (not through the run launcher).
"""

from __future__ import annotations

from typing import Any

import click

from orchestra._cli import cli
from orchestra._cli.job import _one_line, execute_here, fail, load_run_config, load_targets, target_options


@cli.group()
def asset() -> None:
    """Commands for working with assets."""


def _selected(defs: Any, select: str | None) -> tuple[set[Any], Any]:
    from orchestra._core.selection.syntax import parse_selection
    from orchestra._errors import DagsterError

    graph = defs.resolve_asset_graph()
    if select is None:
        return set(graph.materializable_asset_keys if hasattr(graph, "materializable_asset_keys") else graph.all_asset_keys), graph
    try:
        keys = parse_selection(select).resolve(defs)
    except DagsterError as exc:
        fail(f"invalid asset selection {select!r}: {_one_line(exc)}")
    return set(keys), graph


@asset.command(name="list")
@target_options
@click.option("--select", help="Asset selection (Dagster's syntax); every asset when omitted.")
def list_command(select: str | None, **target: Any) -> None:
    """List the asset keys of the definitions."""
    for _, defs in load_targets(**target):
        keys, _ = _selected(defs, select)
        for key in sorted(keys, key=lambda k: k.to_user_string()):
            click.echo(key.to_user_string())


@asset.command(name="materialize")
@target_options
@click.option("--select", required=True, help="Asset selection, e.g. `my_asset`, `*my_asset`, `group:etl`.")
@click.option("--partition", "partition_key", help="Partition key to materialize.")
@click.option("-c", "--config", "config_files", multiple=True, help="YAML run config file (repeatable, merged in order).")
@click.option("--config-json", help="Run config as a JSON string.")
def materialize_command(select: str, partition_key: str | None, config_files: tuple[str, ...], config_json: str | None,
                        **target: Any) -> None:
    """Materialize the selected assets in this process."""
    from orchestra._errors import DagsterError

    run_config = load_run_config(config_files, config_json)
    targets = load_targets(**target)
    defs = targets[0][1]
    keys, _ = _selected(defs, select)
    if not keys:
        fail(f"no assets match selection {select!r}")
    try:
        job_def = defs.resolve_implicit_job_def_def_for_assets(keys) or defs.get_implicit_global_asset_job_def()
        job_def = job_def.get_subset(asset_selection=keys)
    except DagsterError as exc:
        fail(f"cannot materialize {select!r}: {_one_line(exc)}")
    tags: dict[str, str] = {}
    if partition_key is not None:
        partitioned = job_def.partitioned_config
        if partitioned is None:
            fail(f"--partition {partition_key!r} given, but the selected assets are not partitioned")
        try:
            partitioned.partitions_def.validate_partition_key(partition_key)
        except Exception as exc:  # noqa: BLE001 - the partitions definition names the problem
            fail(f"unknown partition {partition_key!r}: {_one_line(exc)}")
        tags.update({str(k): str(v) for k, v in partitioned.get_tags_for_partition_key(partition_key, job_name=job_def.name).items()})
        if not run_config:
            run_config = dict(partitioned.get_run_config_for_partition_key(partition_key) or {})
    final = execute_here(job_def, run_config, tags, partition_key=partition_key)
    if getattr(final.status, "value", final.status) != "SUCCESS":
        fail("Materialization failed.", 1)
