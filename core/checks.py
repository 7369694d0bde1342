"""System checks: pluggable components named in orchestra.yaml must resolve at start-up."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.checks import Error, register

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
        try:
            module = import_module(entry.module)
        except Exception as exc:  # any import failure of user-named code is a config error
            errors.append(
                Error(
                    f"{key}: module {entry.module!r} cannot be imported ({type(exc).__name__}: {exc})",
                    hint=f"Fix '{key}.module' in {settings.INSTANCE.source}.",
                    id="orchestra.E001",
                )
            )
            continue
        if not isinstance(getattr(module, entry.class_, None), type):
            errors.append(
                Error(
                    f"{key}: module {entry.module!r} has no class {entry.class_!r}",
                    hint=f"Fix '{key}.class' in {settings.INSTANCE.source}.",
                    id="orchestra.E002",
                )
            )
    return errors
