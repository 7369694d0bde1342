"""Instance configuration: `$ORCHESTRA_HOME/orchestra.yaml` parsed, validated and resolved.

The keys and shapes follow Dagster's `dagster.yaml` wherever the meaning is the same, so a Dagster
user's file works with few edits. A bad file is refused as a whole with every mistake listed: the
key path, the bad value and what was expected. This module imports no Django: the settings module
calls it before Django is set up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.config_errors import (
    YamlMappingError,
    describe_validation_error,
    load_yaml_mapping,
    resolve_env,
)

CONFIG_FILE_NAME = "orchestra.yaml"
HOME_ENV_VAR = "ORCHESTRA_HOME"
DEFAULT_HOME = "~/.orchestra"
SECRET_MASK = "********"


class InstanceConfigError(Exception):
    """The instance configuration is invalid; `problems` lists each mistake on its own line."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid instance configuration in {source}:\n{listing}")


# ---------------------------------------------------------------------------------------------
# Schema. Every model forbids unknown keys, so a typo is reported rather than silently ignored.
# ---------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassEntry(_Strict):
    """A pluggable component: `{module, class, config}`, resolved by dotted path at start-up."""

    module: str
    class_: str = Field(alias="class")
    config: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def dotted_path(self) -> str:
        return f"{self.module}.{self.class_}"


class SqliteStorage(_Strict):
    base_dir: str | None = None


class PostgresDb(_Strict):
    username: str
    password: str = ""
    hostname: str
    db_name: str
    port: int = 5432
    params: dict[str, Any] = Field(default_factory=dict)
    scheme: str = "postgresql"


class PostgresStorage(_Strict):
    postgres_url: str | None = None
    postgres_db: PostgresDb | None = None
    should_autocreate_tables: bool = True

    @model_validator(mode="after")
    def _exactly_one_source(self) -> PostgresStorage:
        if (self.postgres_url is None) == (self.postgres_db is None):
            raise ValueError("give exactly one of 'postgres_url' or 'postgres_db'")
        if self.postgres_url is not None and urlsplit(self.postgres_url).scheme not in (
            "postgres",
            "postgresql",
        ):
            raise ValueError(
                f"'postgres_url' must start with postgresql:// (got {_mask_url(self.postgres_url)!r})"
            )
        return self


class StorageConfig(_Strict):
    sqlite: SqliteStorage | None = None
    postgres: PostgresStorage | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> StorageConfig:
        chosen = [k for k in ("sqlite", "postgres") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(f"choose exactly one storage kind: 'sqlite' or 'postgres' (got {chosen or 'none'})")
        return self


class BrokerConfig(_Strict):
    """`embedded` (kombu's filesystem transport under the home) or a `url` (Redis)."""

    url: str | None = None
    embedded: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> BrokerConfig:
        if self.url is not None and self.embedded is not None:
            raise ValueError("give either 'url' or 'embedded', not both")
        if self.url is not None and urlsplit(self.url).scheme not in ("redis", "rediss"):
            raise ValueError(f"'url' must be a redis:// or rediss:// URL (got {_mask_url(self.url)!r})")
        return self


class TagConcurrencyLimit(_Strict):
    key: str
    value: str | dict[str, bool] | None = None
    limit: int = Field(ge=0)


class BlockOpConcurrency(_Strict):
    enabled: bool = True
    op_concurrency_slot_buffer: int = Field(default=0, ge=0)


class RunQueueConfig(_Strict):
    max_concurrent_runs: int = Field(default=10, ge=-1)
    tag_concurrency_limits: list[TagConcurrencyLimit] = Field(default_factory=list)
    dequeue_interval_seconds: int = Field(default=5, ge=1)
    dequeue_use_threads: bool = False
    dequeue_num_workers: int | None = Field(default=None, ge=1)
    max_user_code_failure_retries: int = Field(default=0, ge=0)
    user_code_failure_retry_delay: int = Field(default=60, ge=0)
    block_op_concurrency_limited_runs: BlockOpConcurrency = Field(default_factory=BlockOpConcurrency)


class RunMonitoringConfig(_Strict):
    enabled: bool = False
    start_timeout_seconds: int = Field(default=180, ge=0)
    cancel_timeout_seconds: int = Field(default=180, ge=0)
    max_runtime_seconds: int = Field(default=0, ge=0)
    max_resume_run_attempts: int = Field(default=0, ge=0)
    poll_interval_seconds: int = Field(default=120, ge=1)
    cancellation_thread_poll_interval_seconds: int = Field(default=10, ge=1)
    free_slots_after_run_end_seconds: int | None = Field(default=None, ge=0)


class RunRetriesConfig(_Strict):
    enabled: bool = False
    max_retries: int = Field(default=0, ge=0)
    retry_on_asset_or_op_failure: bool = True


class PoolsConfig(_Strict):
    default_limit: int | None = Field(default=None, ge=0)
    granularity: Literal["run", "op"] | None = None
    op_granularity_run_buffer: int | None = Field(default=None, ge=0)


class ConcurrencyRunsConfig(_Strict):
    max_concurrent_runs: int | None = Field(default=None, ge=-1)
    tag_concurrency_limits: list[TagConcurrencyLimit] | None = None


class ConcurrencyConfig(_Strict):
    pools: PoolsConfig | None = None
    runs: ConcurrencyRunsConfig | None = None
    default_op_concurrency_limit: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _no_alias_clash(self) -> ConcurrencyConfig:
        if self.default_op_concurrency_limit is not None and self.pools is not None:
            raise ValueError("'default_op_concurrency_limit' is a deprecated alias of 'pools.default_limit'; give only one")
        return self


class PurgeByStatus(_Strict):
    skipped: int = -1
    success: int = -1
    failure: int = -1
    started: int = -1


class RetentionEntry(_Strict):
    purge_after_days: int | PurgeByStatus


AUDIT_PURGE_AFTER_DAYS_DEFAULT = 365


class AuditRetentionEntry(_Strict):
    """How long audit entries are kept (-1: for ever); purged by the daemon's audit retention duty."""

    purge_after_days: int = Field(default=AUDIT_PURGE_AFTER_DAYS_DEFAULT, ge=-1)


class RetentionConfig(_Strict):
    schedule: RetentionEntry | None = None
    sensor: RetentionEntry | None = None
    auto_materialize: RetentionEntry | None = None
    audit: AuditRetentionEntry = Field(default_factory=AuditRetentionEntry)


class EnabledFlag(_Strict):
    enabled: bool = True


class DaemonThreadsConfig(_Strict):
    use_threads: bool = False
    num_workers: int | None = Field(default=None, ge=1)
    num_submit_workers: int | None = Field(default=None, ge=1)


class CodeServersConfig(_Strict):
    local_startup_timeout: int = Field(default=180, ge=0)
    reload_timeout: int = Field(default=180, ge=0)
    wait_for_local_processes_on_shutdown: bool = False


class PythonLogsConfig(_Strict):
    managed_python_loggers: list[str] = Field(default_factory=list)
    python_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    dagster_handler_config: dict[str, Any] = Field(default_factory=dict)


RoleLabel = Literal["viewer", "launcher", "editor", "admin"]


class OidcConfig(_Strict):
    """Single sign-on through an OpenID Connect provider (mozilla-django-oidc); `auth: {mode: oidc}`.

    A claim (`roles_claim`, e.g. `groups`) maps to roles: `roles` gives an instance-wide role per claim
    value (the highest wins), `location_roles` a role per code location. They are set at every SSO login
    when the claim is present; `default_role` is what a user whose values map to nothing gets.
    """

    client_id: str
    client_secret: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str | None = None
    sign_algo: Literal["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"] = "RS256"
    scopes: str = "openid email profile"
    username_claim: str = "email"
    roles_claim: str = "groups"
    roles: dict[str, RoleLabel] = Field(default_factory=dict)
    location_roles: dict[str, dict[str, RoleLabel]] = Field(default_factory=dict)
    default_role: RoleLabel | None = None
    create_users: bool = True

    @model_validator(mode="after")
    def _keys_for_the_algorithm(self) -> OidcConfig:
        if self.sign_algo.startswith(("RS", "ES")) and not self.jwks_uri:
            raise ValueError(f"sign_algo {self.sign_algo} verifies ID tokens with the provider's keys: give jwks_uri")
        return self


class AuthConfig(_Strict):
    mode: Literal["login", "none", "oidc"] = "login"
    oidc: OidcConfig | None = None

    @model_validator(mode="after")
    def _oidc_settings(self) -> AuthConfig:
        if self.mode == "oidc" and self.oidc is None:
            raise ValueError("mode oidc needs the provider's settings under auth.oidc")
        if self.oidc is not None and self.mode != "oidc":
            raise ValueError(f"auth.oidc is given but auth.mode is {self.mode!r}; set mode: oidc to use it")
        return self


class InstanceConfig(_Strict):
    """The validated `orchestra.yaml`. Absent keys take the defaults below."""

    storage: StorageConfig = Field(default_factory=lambda: StorageConfig(sqlite=SqliteStorage()))
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    run_coordinator: ClassEntry | None = None
    run_launcher: ClassEntry | None = None
    compute_logs: ClassEntry | None = None
    local_artifact_storage: ClassEntry | None = None
    scheduler: ClassEntry | None = None
    run_queue: RunQueueConfig | None = None
    run_monitoring: RunMonitoringConfig = Field(default_factory=RunMonitoringConfig)
    run_retries: RunRetriesConfig = Field(default_factory=RunRetriesConfig)
    concurrency: ConcurrencyConfig = Field(default_factory=ConcurrencyConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    telemetry: EnabledFlag = Field(default_factory=EnabledFlag)
    nux: EnabledFlag = Field(default_factory=EnabledFlag)
    python_logs: PythonLogsConfig = Field(default_factory=PythonLogsConfig)
    code_servers: CodeServersConfig = Field(default_factory=CodeServersConfig)
    schedules: DaemonThreadsConfig = Field(default_factory=DaemonThreadsConfig)
    sensors: DaemonThreadsConfig = Field(default_factory=DaemonThreadsConfig)
    backfills: DaemonThreadsConfig = Field(default_factory=DaemonThreadsConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)

    @model_validator(mode="after")
    def _queue_shorthand(self) -> InstanceConfig:
        if self.run_queue is not None and self.run_coordinator is not None:
            raise ValueError(
                "'run_queue' is shorthand for a queued 'run_coordinator'; give one or the other, not both"
            )
        return self


_LEGACY_STORAGE_KEYS = ("run_storage", "event_log_storage", "schedule_storage")
_UNSUPPORTED_KEYS = {
    "instance_class": "Orchestra has no instance subclasses; remove the key",
    "secrets": "load secrets through {env: VAR} references; remove the key",
    "defs_state_storage": "not used by Orchestra; remove the key",
    "auto_materialize": "declarative automation is not supported yet; remove the key",
    "freshness": "the freshness daemon is not supported yet; remove the key",
}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedInstance:
    """The configuration of one instance: its home, its validated config and where it came from."""

    home: Path
    config: InstanceConfig
    source: str  # the file read, or a note that defaults were used

    @property
    def uses_queue(self) -> bool:
        entry = self.config.run_coordinator
        return self.config.run_queue is not None or (entry is not None and entry.class_ == "QueuedRunCoordinator")

    @property
    def monitoring_enabled(self) -> bool:
        """Run monitoring is on unless `run_monitoring.enabled: false` is written out (Dagster 1.13
        defaults to off; here every run must end even when its worker dies)."""
        monitoring = self.config.run_monitoring
        return monitoring.enabled or "enabled" not in monitoring.model_fields_set

    def database_settings(self) -> dict[str, Any]:
        """Django's `DATABASES['default']` for the configured storage."""
        storage = self.config.storage
        if storage.sqlite is not None:
            base_dir = Path(storage.sqlite.base_dir).expanduser() if storage.sqlite.base_dir else self.home
            return {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(base_dir / "orchestra.sqlite3"),
                # Kept between requests, as PostgreSQL's are: opening one (registering Django's SQL
                # functions, the PRAGMAs below) cost a webserver request about a millisecond.
                "CONN_MAX_AGE": 60,
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait on the busy
                # timeout instead of failing with "database is locked" on lock upgrade.
                "OPTIONS": {
                    "timeout": 30,
                    "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                },
                "TEST": {"NAME": str(base_dir / "test_orchestra.sqlite3")},
            }
        assert storage.postgres is not None
        pg = storage.postgres
        if pg.postgres_url is not None:
            parts = urlsplit(pg.postgres_url)
            params = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            db = {
                "NAME": parts.path.lstrip("/"),
                "USER": parts.username or "",
                "PASSWORD": parts.password or "",
                "HOST": parts.hostname or "",
                "PORT": str(parts.port or 5432),
            }
        else:
            assert pg.postgres_db is not None
            fields = pg.postgres_db
            params = {k: str(v) for k, v in fields.params.items()}
            db = {
                "NAME": fields.db_name,
                "USER": fields.username,
                "PASSWORD": fields.password,
                "HOST": fields.hostname,
                "PORT": str(fields.port),
            }
        # Connections are kept (the webserver's request threads are pooled: core.asgi), so each is checked
        # once per request before reuse: a database restart costs no failed request.
        return {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True,
                "OPTIONS": params, **db}

    def broker_settings(self) -> dict[str, Any]:
        """Celery's broker URL and transport options for the configured broker."""
        broker = self.config.broker
        if broker.url is not None:
            return {"broker_url": broker.url, "broker_transport_options": {}}
        folder = Path((broker.embedded or {}).get("base_dir") or self.home / "broker").expanduser()
        return {
            "broker_url": "filesystem://",
            "broker_transport": "core.embedded_broker:Transport",  # atomic message files
            "broker_transport_options": {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                # Broadcast (remote control) messages; kombu's default is ./control in the cwd.
                "control_folder": str(folder / "control"),
                "store_processed": False,
                # How often a consumer lists the queue folder (kombu's default, 1 s, is the latency of
                # every message: a step of the celery executor waited ~1 s for delivery).
                "polling_interval": 0.05,
            },
        }

    def describe(self) -> dict[str, Any]:
        """The resolved configuration as plain data with secrets masked (for `instance info`)."""
        data = self.config.model_dump(mode="json", by_alias=True, exclude_none=True)
        db = self.database_settings()
        return {
            "home": str(self.home),
            "source": self.source,
            "database": {
                "engine": db["ENGINE"].rsplit(".", 1)[-1],
                "name": db["NAME"],
                **({"host": db["HOST"], "port": db["PORT"], "user": db["USER"]} if db.get("HOST") else {}),
            },
            "broker": _mask_url(self.broker_settings()["broker_url"]),
            "config": _mask_secrets(data),
        }


def instance_home(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(HOME_ENV_VAR) or DEFAULT_HOME).expanduser().resolve()


def load_instance(home: Path | str | None = None, environ: Mapping[str, str] | None = None) -> ResolvedInstance:
    """Read `<home>/orchestra.yaml` (all defaults when the file is absent) and validate it.

    Raises InstanceConfigError listing every mistake when the file is invalid.
    """
    environ = os.environ if environ is None else environ
    home_path = Path(home).expanduser().resolve() if home is not None else instance_home(environ)
    path = home_path / CONFIG_FILE_NAME
    if not path.exists():
        return ResolvedInstance(home=home_path, config=InstanceConfig(), source=f"defaults ({path} not found)")
    return ResolvedInstance(
        home=home_path, config=parse_instance_config(path.read_text(), str(path), environ), source=str(path)
    )


def parse_instance_config(text: str, source: str, environ: Mapping[str, str] | None = None) -> InstanceConfig:
    environ = os.environ if environ is None else environ
    try:
        raw = load_yaml_mapping(text)
    except YamlMappingError as exc:
        raise InstanceConfigError(source, [str(exc)]) from None

    problems: list[str] = []
    for key in _LEGACY_STORAGE_KEYS:
        if key in raw:
            problems.append(f"{key}: per-kind storage keys are not supported; use 'storage: {{sqlite: ...}}' or 'storage: {{postgres: ...}}'")
            raw.pop(key)
    for key, why in _UNSUPPORTED_KEYS.items():
        if key in raw:
            problems.append(f"{key}: {why}")
            raw.pop(key)
    resolved = resolve_env(raw, (), environ, problems)
    try:
        config = InstanceConfig.model_validate(resolved)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, InstanceConfig))
        config = None
    if problems:
        raise InstanceConfigError(source, problems)
    assert config is not None
    return config


_SECRET_KEY = re.compile(r"(password|secret|token|api_key)", re.IGNORECASE)


def _mask_secrets(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask_secrets(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(v, key) for v in value]
    if isinstance(value, str):
        if _SECRET_KEY.search(key) and value:
            return SECRET_MASK
        if key.endswith("_url") or key == "url":
            return _mask_url(value)
    return value


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{quote(parts.username or '')}:{SECRET_MASK}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()
