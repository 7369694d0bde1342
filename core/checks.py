"""System checks: pluggable components named in orchestra.yaml must resolve at start-up; insecure
settings are reported (`check --deploy`, `orchestra instance info`)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning

from core.components import entry_path

_COMPONENT_KEYS = ("run_coordinator", "run_launcher", "compute_logs", "local_artifact_storage", "scheduler")


@register()
def check_instance_components(app_configs=None, **kwargs):
    """Refuse to start when a `{module, class}` entry cannot be imported (DESIGN.md §2)."""
    errors = []
    config = settings.INSTANCE.config
    for key in _COMPONENT_KEYS:
        entry = getattr(config, key)
        if entry is None:
            continue
        # Dagster's names (dagster.core.run_coordinator.QueuedRunCoordinator, ...) read as ours.
        module_name, _, class_name = entry_path(key, entry).rpartition(".")
        try:
            module = import_module(module_name)
        except Exception as exc:  # any import failure of user-named code is a config error
            errors.append(
                Error(
                    f"{key}: module {module_name!r} cannot be imported ({type(exc).__name__}: {exc})",
                    hint=f"Fix '{key}.module' in {settings.INSTANCE.source}.",
                    id="orchestra.E001",
                )
            )
            continue
        cls = getattr(module, class_name, None)
        if not isinstance(cls, type):
            errors.append(
                Error(
                    f"{key}: module {module_name!r} has no class {class_name!r}",
                    hint=f"Fix '{key}.class' in {settings.INSTANCE.source}.",
                    id="orchestra.E002",
                )
            )
            continue
        # A component may check its `config` up front (`config_errors(config) -> list[str]`).
        for problem in getattr(cls, "config_errors", lambda config: [])(entry.config):
            errors.append(
                Error(
                    f"{key}.config: {problem}",
                    hint=f"Fix '{key}.config' in {settings.INSTANCE.source}.",
                    id="orchestra.E003",
                )
            )
    return errors


def security_warnings() -> list[str]:
    """What makes this instance's settings insecure, in words (`orchestra instance info` prints them)."""
    warnings = _orchestra_security_warnings()
    if settings.DEBUG:
        warnings.append("DEBUG is on (ORCHESTRA_DEBUG=1): error pages show code, settings and tracebacks")
    if not settings.SESSION_COOKIE_SECURE or not settings.CSRF_COOKIE_SECURE:
        warnings.append("session and CSRF cookies may be sent over plain HTTP (set ORCHESTRA_ENV=production)")
    if not getattr(settings, "SECURE_HSTS_SECONDS", 0):
        warnings.append("HTTP Strict Transport Security is off (set ORCHESTRA_ENV=production)")
    return warnings


def _orchestra_security_warnings() -> list[str]:
    warnings = []
    if getattr(settings, "ORCHESTRA_AUTH_MODE", "login") == "none":
        warnings.append("auth mode is none: anyone who reaches the webserver acts as an administrator")
    if settings.SECRET_KEY == getattr(settings, "INSECURE_SECRET_KEY", None):
        warnings.append("SECRET_KEY is the built-in default: set ORCHESTRA_SECRET_KEY to a long random secret")
    if getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False) or getattr(settings, "CORS_ORIGIN_ALLOW_ALL", False):
        warnings.append("CORS is wide open: any web site may call the API from its visitors' browsers")
    if "*" in settings.ALLOWED_HOSTS:
        warnings.append("ALLOWED_HOSTS accepts any host name ('*')")
    oidc = settings.INSTANCE.config.auth.oidc
    if getattr(settings, "ORCHESTRA_AUTH_MODE", "login") == "oidc" and oidc is not None:
        endpoints = (oidc.authorization_endpoint, oidc.token_endpoint, oidc.userinfo_endpoint, oidc.jwks_uri)
        if any(url and not url.startswith("https://") for url in endpoints):
            warnings.append("auth.oidc names a provider endpoint over plain HTTP: tokens and claims can be read")
    return warnings


@register(deploy=True)
def check_orchestra_security(app_configs=None, **kwargs):
    """`manage.py check --deploy`: Orchestra's own insecure settings (Django's checks cover the rest)."""
    return [CheckWarning(message, id="orchestra.W101") for message in _orchestra_security_warnings()]
