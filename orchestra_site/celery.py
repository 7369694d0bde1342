"""The Celery application shared by beat and every worker (queues: daemon, runs, steps)."""

import os
from pathlib import Path

from celery import Celery

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
