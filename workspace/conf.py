"""Workspace settings, read lazily from the instance configuration (`code_servers` in orchestra.yaml)."""

from __future__ import annotations

from django.conf import settings

from core.instance_config import CodeServersConfig


def code_servers() -> CodeServersConfig:
    """`code_servers`: local_startup_timeout, reload_timeout (seconds; Dagster's defaults, 180)."""
    instance = getattr(settings, "INSTANCE", None)
    return instance.config.code_servers if instance is not None else CodeServersConfig()
