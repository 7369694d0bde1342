"""System checks: pluggable components named in orchestra.yaml must resolve at start-up."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.checks import Error, register

from core.components import entry_path

_COMPONENT_KEYS = ("run_coordinator", "run_launcher", "compute_logs", "local_artifact_storage", "scheduler")


@register()
def check_instance_components(app_configs=None, **kwargs):
    """Refuse to start when a `{module, class}` entry cannot be imported (DESIGN.md §2)."""
    errors = []
    config = settings.INSTANCE.config
    for key in _COMPONENT_KEYS:
        entry = getattr(config, key)
        if entry is None:
            continue
        # Dagster's names (dagster.core.run_coordinator.QueuedRunCoordinator, ...) read as ours.
        module_name, _, class_name = entry_path(key, entry).rpartition(".")
        try:
            module = import_module(module_name)
        except Exception as exc:  # any import failure of user-named code is a config error
            errors.append(
                Error(
                    f"{key}: module {module_name!r} cannot be imported ({type(exc).__name__}: {exc})",
                    hint=f"Fix '{key}.module' in {settings.INSTANCE.source}.",
                    id="orchestra.E001",
                )
            )
            continue
        cls = getattr(module, class_name, None)
        if not isinstance(cls, type):
            errors.append(
                Error(
                    f"{key}: module {module_name!r} has no class {class_name!r}",
                    hint=f"Fix '{key}.class' in {settings.INSTANCE.source}.",
                    id="orchestra.E002",
                )
            )
            continue
        # A component may check its `config` up front (`config_errors(config) -> list[str]`).
        for problem in getattr(cls, "config_errors", lambda config: [])(entry.config):
            errors.append(
                Error(
                    f"{key}.config: {problem}",
                    hint=f"Fix '{key}.config' in {settings.INSTANCE.source}.",
                    id="orchestra.E003",
                )
            )
    return errors
