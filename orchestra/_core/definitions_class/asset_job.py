"""`define_asset_job`: a job named by an asset selection, resolved against the assets of a `Definitions`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

IMPLICIT_ASSET_JOB_NAME = "__ASSET_JOB"


def is_reserved_asset_job_name(name: str) -> bool:
    return name.startswith(IMPLICIT_ASSET_JOB_NAME)


class UnresolvedAssetJobDefinition:
    """A job over the assets an `AssetSelection` picks; `Definitions` turns it into a `JobDefinition`.

    Example:
        >>> nightly = define_asset_job("nightly", selection=AssetSelection.groups("sales"))
        >>> defs = Definitions(assets=[orders, revenue], jobs=[nightly])
        >>> defs.get_job_def("nightly").execute_in_process().success
        True
    """

    def __init__(self, name: str, selection: Any, config: Any = None, description: str | None = None,
                 tags: Mapping[str, Any] | None = None, run_tags: Mapping[str, Any] | None = None,
                 metadata: Mapping[str, Any] | None = None, partitions_def: Any = None, executor_def: Any = None,
                 hooks: Any = None, op_retry_policy: Any = None, owners: Any = None, automation_condition: Any = None):
        from orchestra._core.automation.target import check_valid_name
        from orchestra._core.selection.asset_selection import AssetSelection

        self.name = check_valid_name(name)
        self.selection = AssetSelection.all() if selection is None else AssetSelection.from_coercible(selection)
        self.config = config
        self.description = description
        self.tags = dict(tags or {})
        self.run_tags = None if run_tags is None else dict(run_tags)
        self.metadata = dict(metadata or {})
        if partitions_def is None and type(config).__name__ == "PartitionedConfig":
            partitions_def = config.partitions_def
        self.partitions_def = partitions_def
        self.executor_def = executor_def
        self.hooks = frozenset(hooks or ())
        self.op_retry_policy = op_retry_policy
        self.owners = list(owners or [])
        self.automation_condition = automation_condition

    def __repr__(self) -> str:
        return f"<UnresolvedAssetJobDefinition {self.name}>"

    @property
    def partitioned_config(self) -> Any:
        """The PartitionedConfig from `config` and `partitions_def` (None when neither partitions the job)."""
        if type(self.config).__name__ == "PartitionedConfig":
            return self.config
        if self.partitions_def is None:
            return None
        from orchestra._core.partitions.config import PartitionedConfig

        return PartitionedConfig.from_flexible_config(self.config, self.partitions_def)

    def describe_target(self) -> str:
        return f"asset job '{self.name}'"

    def resolve(self, asset_graph: Any, default_executor_def: Any = None, resource_defs: Mapping[str, Any] | None = None) -> Any:
        """The `JobDefinition` running the selected assets and checks of `asset_graph`.

        `asset_graph` is anything `AssetSelection.resolve` accepts that also lists its definitions
        (a list of asset definitions, or the graph a repository builds).
        """
        from orchestra._core.selection.graph import coerce_selection_graph

        graph = coerce_selection_graph(asset_graph)
        selection = self.selection
        asset_keys, check_keys = selection.resolve_with_checks(graph)
        return build_asset_job(
            name=self.name, graph=graph, asset_keys=asset_keys, check_keys=check_keys, config=self.config,
            description=self.description, tags=self.tags, run_tags=self.run_tags, metadata=self.metadata,
            partitions_def=self.partitions_def, executor_def=self.executor_def or default_executor_def,
            hooks=self.hooks, op_retry_policy=self.op_retry_policy, resource_defs=resource_defs, owners=self.owners,
        )

def define_asset_job(
    name: str,
    selection: Any = None,
    config: Any = None,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    executor_def: Any = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
    owners: Any = None,
    automation_condition: Any = None,
) -> UnresolvedAssetJobDefinition:
    """A job that materializes the assets `selection` picks (all assets when None).

    The job is resolved when it is given to `Definitions` (with the other assets); fetch it with
    `defs.get_job_def(name)`.

    Example:
        >>> sales_job = define_asset_job("sales_job", selection="group:sales", tags={"team": "sales"})
        >>> defs = Definitions(assets=[orders, revenue], jobs=[sales_job])
    """
    return UnresolvedAssetJobDefinition(
        name=name, selection=selection, config=config, description=description, tags=tags, run_tags=run_tags,
        metadata=metadata, partitions_def=partitions_def, executor_def=executor_def, hooks=hooks,
        op_retry_policy=op_retry_policy, owners=owners, automation_condition=automation_condition,
    )


def build_asset_job(*, name: str, graph: Any, asset_keys: set[Any], check_keys: set[Any], config: Any = None,
                    description: str | None = None, tags: Mapping[str, Any] | None = None,
                    run_tags: Mapping[str, Any] | None = None, metadata: Mapping[str, Any] | None = None,
                    partitions_def: Any = None, executor_def: Any = None, hooks: Any = None,
                    op_retry_policy: Any = None, resource_defs: Mapping[str, Any] | None = None,
                    owners: Any = None) -> Any:
    """A `JobDefinition` for the given keys of `graph` (a `SelectionGraph` built from an asset graph)."""
    from orchestra._core.assets.job import build_assets_job, check_common_partitions_def

    asset_graph = graph.asset_graph
    if asset_graph is None:
        from orchestra._core.assets.graph import build_asset_graph

        asset_graph = build_asset_graph(graph_assets_defs(graph))
    if name == IMPLICIT_ASSET_JOB_NAME:  # runs every executable asset; an explicit selection may not name others
        asset_keys = set(asset_keys) & asset_graph._executable_keys()
    else:  # the implicit job may mix partitions definitions; a selected job may not
        check_common_partitions_def(name, asset_graph, asset_keys, partitions_def)
    return build_assets_job(
        name, asset_graph, selected_asset_keys=asset_keys, selected_check_keys=check_keys,
        resource_defs=dict(resource_defs or {}), executor_def=executor_def, partitions_def=partitions_def,
        config=config, tags=dict(tags or {}), run_tags=None if run_tags is None else dict(run_tags),
        metadata=dict(metadata or {}), description=description, hooks=hooks, op_retry_policy=op_retry_policy,
        owners=list(owners or []) or None,
    )


def graph_assets_defs(graph: Any) -> list[Any]:
    """Every distinct definition behind the nodes (and checks) of a `SelectionGraph`, in key order."""
    seen: dict[int, Any] = {}
    for key in sorted(graph.nodes):
        definition = graph.nodes[key].assets_def
        if definition is not None:
            seen.setdefault(id(definition), definition)
    for definition in getattr(graph, "extra_definitions", ()):
        seen.setdefault(id(definition), definition)
    return list(seen.values())
