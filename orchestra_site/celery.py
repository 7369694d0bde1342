"""The Celery application shared by beat and every worker (queues: daemon, runs, steps)."""

import gc
import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")

app = Celery("orchestra")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="step_tasks")  # the celery executor's step tasks (runs/step_tasks.py)


@app.on_after_configure.connect
def _create_embedded_broker_folders(sender: Celery, **kwargs) -> None:
    """kombu's filesystem transport expects its folders to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _freeze_before_forking(**kwargs) -> None:
    """Move what the worker loaded to the collector's permanent generation before its pool forks.

    The collector then never writes to those objects' pages, so the pool processes (and an embedded
    beat) keep sharing them with the main process instead of copying them on their first collection.
    """
    gc.collect()
    gc.freeze()
