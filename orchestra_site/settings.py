"""Django settings, composed from the instance configuration (`$ORCHESTRA_HOME/orchestra.yaml`)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.instance_config import load_instance
from launchers.beat import TASK_ROUTES, daemon_beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE = load_instance()
ORCHESTRA_HOME = INSTANCE.home

INSECURE_SECRET_KEY = "orchestra-insecure-dev-key-set-ORCHESTRA_SECRET_KEY"
SECRET_KEY = os.environ.get("ORCHESTRA_SECRET_KEY") or INSECURE_SECRET_KEY
DEBUG = os.environ.get("ORCHESTRA_DEBUG", "") == "1"
# The explicit switch between a developer's machine and a deployment: ORCHESTRA_ENV=production turns on
# TLS-only cookies, HSTS and the HTTPS redirect, and refuses to start without a real secret key or with
# DEBUG (`manage.py check --deploy` passes). `orchestra dev` runs as dev; `orchestra instance info` warns
# about anything insecure (core.checks.security_warnings).
ORCHESTRA_ENV = os.environ.get("ORCHESTRA_ENV", "dev")
if ORCHESTRA_ENV not in ("dev", "production"):
    raise ImproperlyConfigured(f"ORCHESTRA_ENV={ORCHESTRA_ENV!r}: expected dev or production")
if ORCHESTRA_ENV == "production":
    if SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "ORCHESTRA_ENV=production needs ORCHESTRA_SECRET_KEY: a secret of at least 50 random characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(64))')"
        )
    if DEBUG:
        raise ImproperlyConfigured("ORCHESTRA_DEBUG=1 shows tracebacks and settings to anyone: not in production")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("ORCHESTRA_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("ORCHESTRA_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("ORCHESTRA_HSTS_PRELOAD", "1") == "1"
    # Plain HTTP is redirected to HTTPS, except the health endpoint (load balancers probe it over HTTP).
    SECURE_SSL_REDIRECT = os.environ.get("ORCHESTRA_SSL_REDIRECT", "1") == "1"
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    if os.environ.get("ORCHESTRA_TRUST_X_FORWARDED_PROTO") == "1":  # TLS ends at a proxy that sets it
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Hostile-input limits (issue #12): request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE answer 413; run config
# over ORCHESTRA_RUN_CONFIG_MAX_BYTES (as JSON) is refused as invalid run config from every entry point.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("ORCHESTRA_REQUEST_MAX_BYTES", 2_621_440))
ORCHESTRA_RUN_CONFIG_MAX_BYTES = int(os.environ.get("ORCHESTRA_RUN_CONFIG_MAX_BYTES", 1_048_576))
ALLOWED_HOSTS = [h for h in os.environ.get("ORCHESTRA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]

INSTALLED_APPS = [
    "core.admin_apps.OrchestraAdminConfig",  # django.contrib.admin, its site gated by the admin role
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "graphene_django",
    "axes",
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
    "core.middleware.TokenAuthenticationMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into its response
]

ROOT_URLCONF = "orchestra_site.urls"

# Who may do what (issue #11): `auth: {mode: login|none|oidc}` in orchestra.yaml; ORCHESTRA_AUTH_MODE overrides it
# (`orchestra dev` sets it for its webserver). Mode none is refused unless the server binds loopback only.
ORCHESTRA_AUTH_MODE = os.environ.get("ORCHESTRA_AUTH_MODE") or INSTANCE.config.auth.mode
if ORCHESTRA_AUTH_MODE not in ("login", "none", "oidc"):
    raise ImproperlyConfigured(f"ORCHESTRA_AUTH_MODE={ORCHESTRA_AUTH_MODE!r}: expected login, none or oidc")
AUTHENTICATION_BACKENDS = [
    "core.backends.LoginThrottleBackend",  # django-axes first: a locked-out username+address is refused
    "django.contrib.auth.backends.ModelBackend",
    "core.backends.RoleBackend",  # the admin role holds every model permission in the admin site
]
# Single sign-on (`auth: {mode: oidc, oidc: {...}}`): login as in mode login, plus the provider's login at
# /oidc/authenticate/ through mozilla-django-oidc; the backend maps a claim to roles (core.oidc).
if ORCHESTRA_AUTH_MODE == "oidc":
    _oidc = INSTANCE.config.auth.oidc
    if _oidc is None:
        raise ImproperlyConfigured("ORCHESTRA_AUTH_MODE=oidc needs the provider's settings under auth.oidc")
    AUTHENTICATION_BACKENDS.insert(1, "core.oidc.OidcRoleBackend")
    OIDC_RP_CLIENT_ID = _oidc.client_id
    OIDC_RP_CLIENT_SECRET = _oidc.client_secret
    OIDC_OP_AUTHORIZATION_ENDPOINT = _oidc.authorization_endpoint
    OIDC_OP_TOKEN_ENDPOINT = _oidc.token_endpoint
    OIDC_OP_USER_ENDPOINT = _oidc.userinfo_endpoint
    OIDC_OP_JWKS_ENDPOINT = _oidc.jwks_uri
    OIDC_RP_SIGN_ALGO = _oidc.sign_algo
    OIDC_RP_SCOPES = _oidc.scopes
    OIDC_CREATE_USER = _oidc.create_users
    OIDC_USE_PKCE = True
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from one address,
# that pair is refused (429) for AXES_COOLOFF_TIME; a successful login resets the count. Behind a proxy,
# the address is REMOTE_ADDR unless AXES_CLIENT_IP_CALLABLE says otherwise.
AXES_FAILURE_LIMIT = int(os.environ.get("ORCHESTRA_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ORCHESTRA_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
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
CELERY_TASK_ROUTES = TASK_ROUTES
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
