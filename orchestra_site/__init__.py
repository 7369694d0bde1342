"""Orchestra's composition root: settings, URLs, the Celery app, the root GraphQL schema and REST API."""

from orchestra_site.celery import app as celery_app

__all__ = ["celery_app"]
