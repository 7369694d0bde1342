"""orchestra.yaml: defaults, Dagster-shaped keys, {env: VAR}, and a clear refusal for each kind of mistake."""

from __future__ import annotations

import pytest

from core.instance_config import InstanceConfigError, load_instance, parse_instance_config


def _problems(text: str, environ: dict | None = None) -> list[str]:
    with pytest.raises(InstanceConfigError) as info:
        parse_instance_config(text, "orchestra.yaml", environ or {})
    return info.value.problems


def test_missing_file_means_sqlite_in_home_and_embedded_broker(tmp_path):
    resolved = load_instance(tmp_path, environ={})
    db = resolved.database_settings()
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "orchestra.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"] and db["OPTIONS"]["timeout"] > 0
    broker = resolved.broker_settings()
    assert broker["broker_url"] == "filesystem://"
    assert broker["broker_transport_options"]["data_folder_in"].startswith(str(tmp_path))
    assert "not found" in resolved.source


def test_empty_file_means_all_defaults(tmp_path):
    (tmp_path / "orchestra.yaml").write_text("# nothing here\n")
    config = load_instance(tmp_path, environ={}).config
    assert config.run_monitoring.enabled is False
    assert config.run_monitoring.start_timeout_seconds == 180
    assert config.run_retries.max_retries == 0


def test_dagster_shaped_file_is_accepted():
    config = parse_instance_config(
        """
storage:
  postgres:
    postgres_db:
      username: {env: PG_USER}
      password: {env: PG_PASSWORD}
      hostname: db.internal
      db_name: orchestra
      port: {env: PG_PORT}
      params: {sslmode: require}
run_queue:
  max_concurrent_runs: 25
  tag_concurrency_limits:
    - key: database
      value: redshift
      limit: 4
    - key: team
      value: {applyLimitPerUniqueValue: true}
      limit: 2
run_launcher:
  module: launchers.subprocess
  class: SubprocessRunLauncher
  config: {}
run_monitoring: {enabled: true, start_timeout_seconds: 60, max_resume_run_attempts: 2}
run_retries: {enabled: true, max_retries: 3}
concurrency: {pools: {default_limit: 1, granularity: op}}
retention:
  schedule: {purge_after_days: 90}
  sensor: {purge_after_days: {skipped: 7, failure: 30, success: -1}}
telemetry: {enabled: false}
""",
        "orchestra.yaml",
        {"PG_USER": "orc", "PG_PASSWORD": "s3cret", "PG_PORT": "6543"},
    )
    pg = config.storage.postgres.postgres_db
    assert (pg.username, pg.password, pg.port) == ("orc", "s3cret", 6543)
    assert config.run_queue.max_concurrent_runs == 25
    assert config.run_queue.tag_concurrency_limits[1].value == {"applyLimitPerUniqueValue": True}
    assert config.run_launcher.dotted_path == "launchers.subprocess.SubprocessRunLauncher"
    assert config.retention.sensor.purge_after_days.skipped == 7


def test_postgres_url_becomes_django_database_settings(tmp_path):
    (tmp_path / "orchestra.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql://u:p%40ss@db.example:6543/orc?sslmode=require\n"
    )
    db = load_instance(tmp_path, environ={}).database_settings()
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == ("orc", "u", "db.example", "6543")
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_redis_broker_url(tmp_path):
    (tmp_path / "orchestra.yaml").write_text("broker:\n  url: redis://127.0.0.1:6379/0\n")
    assert load_instance(tmp_path, environ={}).broker_settings()["broker_url"] == "redis://127.0.0.1:6379/0"


def test_malformed_yaml_names_line_and_column():
    [problem] = _problems("storage:\n  sqlite: {base_dir: [\n")
    assert problem.startswith("line 3, column 1: not valid YAML")


def test_top_level_must_be_a_mapping():
    assert _problems("- a\n- b\n") == ["the file must hold a mapping of keys, got a list"]


def test_unknown_key_lists_the_keys_expected():
    [problem] = _problems("run_monitoring:\n  enabeld: true\n")
    assert problem.startswith("run_monitoring.enabeld: unknown key; expected one of: enabled, start_timeout_seconds")


def test_wrong_type_names_path_value_and_expectation():
    assert _problems("run_queue:\n  max_concurrent_runs: lots\n") == [
        "run_queue.max_concurrent_runs: got 'lots'; expected an integer"
    ]
    assert _problems("run_monitoring: {enabled: maybe}") == [
        "run_monitoring.enabled: got 'maybe'; expected true or false"
    ]


def test_out_of_range_and_choice_values():
    assert _problems("run_queue: {max_concurrent_runs: -5}") == [
        "run_queue.max_concurrent_runs: got -5; expected a number >= -1"
    ]
    assert _problems("concurrency: {pools: {granularity: step}}") == [
        "concurrency.pools.granularity: got 'step'; expected one of 'run' or 'op'"
    ]


def test_missing_required_key():
    assert _problems("run_launcher: {module: launchers.subprocess}") == ["run_launcher.class: required key is missing"]
    problems = _problems("storage: {postgres: {postgres_db: {username: u, db_name: d}}}")
    assert problems == ["storage.postgres.postgres_db.hostname: required key is missing"]


def test_storage_must_be_exactly_one_kind():
    [problem] = _problems("storage: {}")
    assert "choose exactly one storage kind" in problem
    [problem] = _problems("storage: {postgres: {postgres_url: 'postgresql://h/d', postgres_db: {username: u, hostname: h, db_name: d}}}")
    assert problem == "storage.postgres: give exactly one of 'postgres_url' or 'postgres_db'"


def test_bad_urls_are_refused_with_password_masked():
    [problem] = _problems("storage: {postgres: {postgres_url: 'mysql://u:hunter2@h/d'}}")
    assert "postgresql://" in problem and "hunter2" not in problem
    [problem] = _problems("broker: {url: 'amqp://guest@h'}")
    assert "redis://" in problem


def test_missing_environment_variable_is_named():
    problems = _problems("broker:\n  url: {env: BROKER_URL}\n")
    assert problems == ["broker.url: environment variable BROKER_URL is not set"]


def test_legacy_and_unsupported_keys_are_explained():
    problems = _problems("run_storage: {module: x, class: Y}\nsecrets: {}\n")
    assert problems[0].startswith("run_storage: per-kind storage keys are not supported")
    assert problems[1].startswith("secrets: ")


def test_run_queue_and_run_coordinator_conflict():
    [problem] = _problems("run_queue: {}\nrun_coordinator: {module: m, class: C}\n")
    assert "give one or the other" in problem


def test_every_mistake_is_reported_at_once():
    problems = _problems("run_queue: {max_concurrent_runs: x}\nrun_monitoring: {enabled: perhaps}\nbogus: 1\n")
    assert len(problems) == 3


def test_describe_masks_secrets(tmp_path):
    (tmp_path / "orchestra.yaml").write_text(
        "storage:\n  postgres:\n    postgres_db: {username: u, password: hunter2, hostname: h, db_name: d}\n"
        "broker:\n  url: redis://:redispw@127.0.0.1:6379/0\n"
    )
    text = repr(load_instance(tmp_path, environ={}).describe())
    assert "hunter2" not in text and "redispw" not in text
    assert "********" in text
