"""`runConfigSchemaOrError { rootDefaultYaml }` gives the text Dagster gives for the same definitions: an op job
with config, asset jobs with a Pythonic resource and config, executors and loggers with and without defaults, a
partitioned asset job, resources a job does not need; and `ModeNotFoundError` for a mode other than `default`."""

from __future__ import annotations

import pytest

from tests.runs.test_schema import gql
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db

DEFS = '''
import logging

import orchestra as dg


@dg.op(config_schema={"n": int, "factor": dg.Field(int, default_value=2),
                      "token": dg.Field(str, default_value="hunter2", is_secret=True), "words": [str]})
def emit(context):
    return context.op_config["n"]


@dg.op(config_schema={"label": dg.Field(str, default_value="plain")})
def tag(value):
    return value


@dg.op
def free(value):
    return value


@dg.job
def etl():
    free(tag(emit()))


class Warehouse(dg.ConfigurableResource):
    host: str = "localhost"
    port: int = 5432
    password: str
    schema_name: str | None = None


class Settings(dg.Config):
    limit: int = 10
    name: str = "x"


@dg.asset
def raw(context, config: Settings, warehouse: Warehouse):
    return 1


@dg.asset
def clean(raw):
    return raw


@dg.logger(config_schema={"level": dg.Field(str, default_value="INFO"), "prefix": str})
def my_logger(init_context):
    return logging.getLogger("x")


@dg.op
def one():
    return 1


@dg.job(executor_def=dg.in_process_executor, logger_defs={"mine": my_logger})
def with_exec_loggers():
    one()


@dg.job(executor_def=dg.multiprocess_executor.configured({"max_concurrent": 4}))
def with_configured_exec():
    one()


daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=daily)
def part_a(context):
    return 1


@dg.asset(partitions_def=daily)
def part_b(part_a):
    return 1


warehouse_job = dg.define_asset_job("warehouse_job", selection=["raw", "clean"])
part_job = dg.define_asset_job("part_job", selection=["part_a", "part_b"], partitions_def=daily)


@dg.executor(name="custom_exec", config_schema={"workers": dg.Field(int, default_value=3),
                                                 "mode": dg.Field(str, default_value="0755")})
def custom_exec(init_context):
    return dg.in_process_executor.executor_creation_fn(init_context)


@dg.logger(config_schema={"level": dg.Field(str, default_value="INFO")})
def optional_logger(init_context):
    return logging.getLogger("y")


@dg.resource(config_schema={"must": str, "opt": dg.Field(str, default_value="2024-01-01")})
def needs_config(init_context):
    return 1


@dg.op(required_resource_keys={"used"},
       config_schema={"extra": dg.Field(dg.Permissive(), default_value={"zz": "héllo", "aa": [{"b": 1, "a": 2}]})})
def uses(context):
    return 1


@dg.job(executor_def=custom_exec, logger_defs={"opt": optional_logger},
        resource_defs={"used": dg.ResourceDefinition.hardcoded_resource(1), "unused": needs_config,
                       "dep_user": needs_config.configured({"must": "x"})})
def custom_job():
    uses()


defs = dg.Definitions(
    assets=[raw, clean, part_a, part_b],
    jobs=[etl, with_exec_loggers, with_configured_exec, warehouse_job, part_job, custom_job],
    resources={"warehouse": Warehouse(password=dg.EnvVar("PW")), "plain_io": dg.FilesystemIOManager(base_dir="/tmp/x")},
)
'''

# What Dagster 1.13.28 answers for DEFS (with `import dagster as dg`): for each job,
# `default_values_yaml_from_type_snap(snapshot, root type)` over `job.get_job_snapshot()`'s config schema
# snapshot and its mode's root config key, which is what its `RunConfigSchema.rootDefaultYaml` resolver returns.
# Run with /tmp/dagster/bin/python on 2026-11-26. Of note: the console logger's defaults, a logger's and the
# unused resources' defaults are absent (their run-config entries are optional without a default), keys are
# sorted at every depth after `ops` and `resources`, and `0755` is quoted.
DAGSTER_ROOT_DEFAULT_YAML = {
    "__ASSET_JOB": "ops:\n  raw:\n    config:\n      limit: 10\n      name: x\nresources:\n  warehouse:\n"
                   "    config:\n      host: localhost\n      password:\n        env: PW\n      port: 5432\n",
    "custom_job": "ops:\n  uses:\n    config:\n      extra:\n        aa:\n        - a: 2\n          b: 1\n"
                  "        zz: héllo\nexecution:\n  config:\n    mode: '0755'\n    workers: 3\n",
    "etl": "ops:\n  emit:\n    config:\n      factor: 2\n      token: '********'\n  tag:\n    config:\n"
           "      label: plain\n",
    "part_job": "{}\n",
    "warehouse_job": "ops:\n  raw:\n    config:\n      limit: 10\n      name: x\nresources:\n  warehouse:\n"
                     "    config:\n      host: localhost\n      password:\n        env: PW\n      port: 5432\n",
    "with_configured_exec": "{}\n",
    "with_exec_loggers": "{}\n",
}

SCHEMA = """
query($selector: PipelineSelector!, $mode: String) {
  runConfigSchemaOrError(selector: $selector, mode: $mode) {
    __typename
    ... on RunConfigSchema { rootDefaultYaml }
    ... on ModeNotFoundError { message mode }
    ... on PipelineNotFoundError { message }
    ... on PythonError { message }
  }
}
"""


def schema_or_error(client, job: str, mode: str | None = "default") -> dict:
    selector = {"repositoryLocationName": "data", "repositoryName": "__repository__", "pipelineName": job}
    return gql(client, SCHEMA, {"selector": selector, "mode": mode})["data"]["runConfigSchemaOrError"]


@pytest.mark.parametrize("job", sorted(DAGSTER_ROOT_DEFAULT_YAML))
def test_root_default_yaml_is_dagsters_text(client, tmp_path, job):
    store_location(tmp_path, source=DEFS)
    result = schema_or_error(client, job)
    assert result["__typename"] == "RunConfigSchema", result
    assert result["rootDefaultYaml"] == DAGSTER_ROOT_DEFAULT_YAML[job]


def test_a_mode_other_than_default_is_not_found_and_no_mode_means_default(client, tmp_path):
    store_location(tmp_path, source=DEFS)
    missing = schema_or_error(client, "etl", mode="prod")
    assert missing == {"__typename": "ModeNotFoundError", "mode": "prod",
                       "message": "Mode prod not found in pipeline etl."}
    assert schema_or_error(client, "nope", mode="prod")["__typename"] == "ModeNotFoundError"  # checked first
    assert schema_or_error(client, "etl", mode=None)["rootDefaultYaml"] == DAGSTER_ROOT_DEFAULT_YAML["etl"]
