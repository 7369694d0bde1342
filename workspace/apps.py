"""Code locations on the host side: workspace.yaml, code servers, stored snapshots, reload."""

from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "workspace"
