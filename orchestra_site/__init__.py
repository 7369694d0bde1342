"""Orchestra's composition root: settings, URLs, the Celery app, the root GraphQL schema and REST API."""

import os

# The Celery app is created with Django (so `shared_task`s bind to it), except in a run worker
# (`settings_worker`), which starts without Celery and imports `orchestra_site.celery` only when its
# run's executor hands steps to Celery.
if os.environ.get("DJANGO_SETTINGS_MODULE") != "orchestra_site.settings_worker":
    from orchestra_site.celery import app as celery_app

    __all__ = ["celery_app"]
