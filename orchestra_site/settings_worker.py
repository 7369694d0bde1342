"""Django settings for the run worker (`orchestra api execute-run`): the ORM and Orchestra's apps only.

The run worker needs the database and the models of core, workspace, runs and scheduling; it serves
no requests. Leaving out the web stack (admin, auth, sessions, staticfiles, GraphQL, django-celery-beat)
takes most of `django.setup()` off every run's start. The database, the instance configuration and the
broker settings are the ones of `orchestra_site.settings`, computed by the same code, so a run worker
writes where the webserver and the daemon read. The Celery app is not created at start-up: an executor
that hands steps to Celery imports it when the run config selects it (`orchestra_site.celery`).
"""

from __future__ import annotations

import logging.config
import os

from core.instance_config import load_instance
from launchers.beat import TASK_ROUTES

INSTANCE = load_instance()
ORCHESTRA_HOME = INSTANCE.home

SECRET_KEY = os.environ.get("ORCHESTRA_SECRET_KEY") or "orchestra-insecure-dev-key-set-ORCHESTRA_SECRET_KEY"
DEBUG = False
ALLOWED_HOSTS: list[str] = []

# Not "launchers": it has no models, and its app registers the Celery run launcher's task.
INSTALLED_APPS = [
    "core",
    "workspace",
    "runs",
    "scheduling",
]
MIDDLEWARE: list[str] = []

DATABASES = {"default": INSTANCE.database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

_broker = INSTANCE.broker_settings()
CELERY_BROKER_URL = _broker["broker_url"]
CELERY_BROKER_TRANSPORT_OPTIONS = _broker["broker_transport_options"]
CELERY_BROKER_TRANSPORT = _broker.get("broker_transport")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = TASK_ROUTES
CELERY_TIMEZONE = "UTC"
# Not created at start-up (see orchestra_site/__init__.py): the run worker imports it when the run's
# executor is the Celery one.
ORCHESTRA_CELERY_APP = "orchestra_site.celery.app"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ORCHESTRA_LOG_LEVEL", "WARNING")},
}
# Django's own logging set-up adds an AdminEmailHandler (inactive without ADMINS), whose import pulls
# in the whole view layer; configure the same handlers directly instead.
LOGGING_CONFIG = None
logging.captureWarnings(True)
logging.config.dictConfig({**LOGGING, "loggers": {"django": {"level": "INFO"}}})  # Django's default level
