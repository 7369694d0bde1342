"""Runs, tags, the event log and the asset index; run submission, coordinators and the run worker."""

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
