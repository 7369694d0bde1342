"""Django settings, composed from the instance configuration (`$ORCHESTRA_HOME/orchestra.yaml`)."""

from __future__ import annotations

import os
from pathlib import Path

from core.instance_config import load_instance
from launchers.beat import daemon_beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE = load_instance()
ORCHESTRA_HOME = INSTANCE.home

SECRET_KEY = os.environ.get("ORCHESTRA_SECRET_KEY") or "orchestra-insecure-dev-key-set-ORCHESTRA_SECRET_KEY"
DEBUG = os.environ.get("ORCHESTRA_DEBUG", "") == "1"
# Hostile-input limits (issue #12): request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE answer 413; run config
# over ORCHESTRA_RUN_CONFIG_MAX_BYTES (as JSON) is refused as invalid run config from every entry point.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("ORCHESTRA_REQUEST_MAX_BYTES", 2_621_440))
ORCHESTRA_RUN_CONFIG_MAX_BYTES = int(os.environ.get("ORCHESTRA_RUN_CONFIG_MAX_BYTES", 1_048_576))
ALLOWED_HOSTS = [h for h in os.environ.get("ORCHESTRA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "graphene_django",
    "core",
    "workspace",
    "runs",
    "launchers",
    "scheduling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "orchestra_site.urls"
WSGI_APPLICATION = "orchestra_site.wsgi.application"
ASGI_APPLICATION = "orchestra_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

GRAPHENE = {"SCHEMA": "orchestra_site.schema.schema"}

DATABASES = {"default": INSTANCE.database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = ORCHESTRA_HOME / "static_root"
# Serve app static files straight from their packages, so no collectstatic step is needed to start.
WHITENOISE_USE_FINDERS = True

_broker = INSTANCE.broker_settings()
CELERY_BROKER_URL = _broker["broker_url"]
CELERY_BROKER_TRANSPORT_OPTIONS = _broker["broker_transport_options"]
CELERY_BROKER_TRANSPORT = _broker.get("broker_transport")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The daemon's system duties (run queue, run monitoring); beat stores them as PeriodicTask rows.
CELERY_BEAT_SCHEDULE = daemon_beat_schedule(INSTANCE)
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ORCHESTRA_LOG_LEVEL", "WARNING")},
}
