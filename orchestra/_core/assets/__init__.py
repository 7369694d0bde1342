"""Assets: software-defined assets compiled to ops, asset checks, `materialize`, and asset queries.

Layering (a module imports only those listed before it): `keys` -> `results`, `specs` ->
`definition` -> `context` -> `compute` -> `decorators` -> `checks`, `source_asset` -> `graph`, `layer` -> `job`
-> `materialize`, `loading`, `storage`. The execution core imports only `layer` (lazily, for jobs
that carry one) and `storage` (lazily, from `DagsterInstance`'s asset methods).
"""

# Loaded on first use (PEP 562), as `orchestra` itself: `import orchestra._core.assets.decorators` (what
# `@asset` needs) no longer imports job building, the asset layer and its event types, `materialize` and
# loading with it; each submodule is still importable directly. (`orchestra._core.assets.materialize` is
# the submodule once something imported it; the function is `orchestra.materialize`.)
from __future__ import annotations

from typing import TYPE_CHECKING

from orchestra._lazy import lazy_getattr

_EXPORTS = {
    "AssetCheckEvaluation": "results",
    "AssetCheckExecutionContext": "context",
    "AssetCheckKey": "keys",
    "AssetCheckResult": "results",
    "AssetCheckSeverity": "results",
    "AssetCheckSpec": "specs",
    "AssetChecksDefinition": "definition",
    "AssetDep": "specs",
    "AssetExecutionContext": "context",
    "AssetGraph": "graph",
    "AssetIn": "specs",
    "AssetKey": "keys",
    "AssetMaterialization": "results",
    "AssetObservation": "results",
    "AssetOut": "specs",
    "AssetSpec": "specs",
    "AssetsDefinition": "definition",
    "BackfillPolicy": "specs",
    "DataVersion": "results",
    "MaterializeResult": "results",
    "ObserveResult": "results",
    "SourceAsset": "source_asset",
    "asset": "decorators",
    "asset_check": "checks",
    "build_asset_check_context": "context",
    "build_asset_context": "context",
    "build_asset_graph": "graph",
    "build_assets_job": "job",
    "graph_asset": "decorators",
    "graph_multi_asset": "decorators",
    "load_asset_checks_from_current_module": "loading",
    "load_asset_checks_from_modules": "loading",
    "load_asset_checks_from_package_module": "loading",
    "load_asset_checks_from_package_name": "loading",
    "load_assets_from_current_module": "loading",
    "load_assets_from_modules": "loading",
    "load_assets_from_package_module": "loading",
    "load_assets_from_package_name": "loading",
    "map_asset_specs": "loading",
    "materialize": "materialize",
    "materialize_to_memory": "materialize",
    "multi_asset": "decorators",
    "multi_asset_check": "checks",
    "observable_source_asset": "source_asset",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # static checkers see ordinary re-exports
    from orchestra._core.assets.checks import asset_check as asset_check
    from orchestra._core.assets.checks import multi_asset_check as multi_asset_check
    from orchestra._core.assets.context import AssetCheckExecutionContext as AssetCheckExecutionContext
    from orchestra._core.assets.context import AssetExecutionContext as AssetExecutionContext
    from orchestra._core.assets.context import build_asset_check_context as build_asset_check_context
    from orchestra._core.assets.context import build_asset_context as build_asset_context
    from orchestra._core.assets.decorators import asset as asset
    from orchestra._core.assets.decorators import graph_asset as graph_asset
    from orchestra._core.assets.decorators import graph_multi_asset as graph_multi_asset
    from orchestra._core.assets.decorators import multi_asset as multi_asset
    from orchestra._core.assets.definition import AssetChecksDefinition as AssetChecksDefinition
    from orchestra._core.assets.definition import AssetsDefinition as AssetsDefinition
    from orchestra._core.assets.graph import AssetGraph as AssetGraph
    from orchestra._core.assets.graph import build_asset_graph as build_asset_graph
    from orchestra._core.assets.job import build_assets_job as build_assets_job
    from orchestra._core.assets.keys import AssetCheckKey as AssetCheckKey
    from orchestra._core.assets.keys import AssetKey as AssetKey
    from orchestra._core.assets.loading import (
        load_asset_checks_from_current_module as load_asset_checks_from_current_module,
    )
    from orchestra._core.assets.loading import (
        load_asset_checks_from_modules as load_asset_checks_from_modules,
    )
    from orchestra._core.assets.loading import (
        load_asset_checks_from_package_module as load_asset_checks_from_package_module,
    )
    from orchestra._core.assets.loading import (
        load_asset_checks_from_package_name as load_asset_checks_from_package_name,
    )
    from orchestra._core.assets.loading import (
        load_assets_from_current_module as load_assets_from_current_module,
    )
    from orchestra._core.assets.loading import load_assets_from_modules as load_assets_from_modules
    from orchestra._core.assets.loading import (
        load_assets_from_package_module as load_assets_from_package_module,
    )
    from orchestra._core.assets.loading import load_assets_from_package_name as load_assets_from_package_name
    from orchestra._core.assets.loading import map_asset_specs as map_asset_specs
    from orchestra._core.assets.materialize import materialize as materialize
    from orchestra._core.assets.materialize import materialize_to_memory as materialize_to_memory
    from orchestra._core.assets.results import AssetCheckEvaluation as AssetCheckEvaluation
    from orchestra._core.assets.results import AssetCheckResult as AssetCheckResult
    from orchestra._core.assets.results import AssetCheckSeverity as AssetCheckSeverity
    from orchestra._core.assets.results import AssetMaterialization as AssetMaterialization
    from orchestra._core.assets.results import AssetObservation as AssetObservation
    from orchestra._core.assets.results import DataVersion as DataVersion
    from orchestra._core.assets.results import MaterializeResult as MaterializeResult
    from orchestra._core.assets.results import ObserveResult as ObserveResult
    from orchestra._core.assets.source_asset import SourceAsset as SourceAsset
    from orchestra._core.assets.source_asset import observable_source_asset as observable_source_asset
    from orchestra._core.assets.specs import AssetCheckSpec as AssetCheckSpec
    from orchestra._core.assets.specs import AssetDep as AssetDep
    from orchestra._core.assets.specs import AssetIn as AssetIn
    from orchestra._core.assets.specs import AssetOut as AssetOut
    from orchestra._core.assets.specs import AssetSpec as AssetSpec
    from orchestra._core.assets.specs import BackfillPolicy as BackfillPolicy
