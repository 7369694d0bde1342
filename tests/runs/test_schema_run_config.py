"""GraphQL for the launchpad: `isPipelineConfigValid` with YAML text, op and asset selections and each error's
stack, and `runConfigSchemaOrError { rootDefaultYaml }` (Dagster's default config) from the stored snapshot."""

from __future__ import annotations

import pytest
import yaml

from runs.models import Run
from tests.runs.test_schema import gql
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db

DEFS = '''
import orchestra as dg


@dg.op(config_schema={"n": int, "factor": dg.Field(int, default_value=2),
                      "token": dg.Field(str, default_value="hunter2", is_secret=True),
                      "words": [str]})
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


@dg.asset(config_schema={"limit": dg.Field(int, default_value=10)})
def raw(context):
    return 1


@dg.asset
def clean(raw):
    return raw


defs = dg.Definitions(assets=[raw, clean], jobs=[etl])
'''

IS_VALID = """
query($pipeline: PipelineSelector!, $config: RunConfigData) {
  isPipelineConfigValid(pipeline: $pipeline, mode: "default", runConfigData: $config) {
    __typename
    ... on PipelineConfigValidationValid { pipelineName }
    ... on RunConfigValidationInvalid { errors { message reason path stack { entries { __typename
        ... on EvaluationStackPathEntry { fieldName } ... on EvaluationStackListItemEntry { listIndex } } } } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""

SCHEMA = """
query($selector: PipelineSelector!) {
  runConfigSchemaOrError(selector: $selector, mode: "default") {
    __typename
    ... on RunConfigSchema { rootDefaultYaml isRunConfigValid(runConfigData: "ops: {}") { __typename } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message pipelineName }
    ... on PythonError { message }
  }
}
"""


@pytest.fixture
def location(tmp_path):
    return store_location(tmp_path, source=DEFS)


def pipeline(job="etl", **selection):
    return {"repositoryLocationName": "data", "repositoryName": "__repository__", "pipelineName": job, **selection}


def is_valid(client, config, **selection):
    return gql(client, IS_VALID, {"pipeline": pipeline(**selection), "config": config})["data"]["isPipelineConfigValid"]


def test_yaml_text_is_checked_and_each_error_carries_its_stack_of_fields_and_list_items(client, location):
    text = "ops:\n  emit:\n    config:\n      n: many\n      words: [ok, 3, {a: 1}]\n"
    result = is_valid(client, text)
    assert result["__typename"] == "RunConfigValidationInvalid"
    by_path = {".".join(error["path"]): error for error in result["errors"]}
    assert "ops.emit.config.n" in by_path
    entries = by_path["ops.emit.config.n"]["stack"]["entries"]
    assert [entry.get("fieldName") for entry in entries] == ["ops", "emit", "config", "n"]
    listed = [error for error in result["errors"] if any("listIndex" in e for e in error["stack"]["entries"])]
    assert {error["stack"]["entries"][-1]["listIndex"] for error in listed} == {1, 2}  # 3 and {a: 1}: not strings
    assert listed[0]["stack"]["entries"][-1]["__typename"] == "EvaluationStackListItemEntry"
    assert is_valid(client, "ops:\n  emit:\n    config: {n: 3, words: []}\n")["__typename"] == \
        "PipelineConfigValidationValid"
    assert not Run.objects.exists()


def test_yaml_that_does_not_parse_is_one_error_at_the_root_in_the_parsers_words(client, location):
    result = is_valid(client, "ops: [\n")
    assert result["__typename"] == "RunConfigValidationInvalid"
    [error] = result["errors"]
    assert error["path"] == [] and error["stack"]["entries"] == []
    assert error["message"].startswith("Run config is not valid YAML") and "line" in error["message"]
    assert is_valid(client, "# nothing yet\n")["__typename"] == "RunConfigValidationInvalid"  # emit needs n


def test_an_asset_selection_is_checked_against_the_job_and_needs_only_its_assets_config(client, location):
    assert is_valid(client, "", job="__ASSET_JOB", assetSelection=[{"path": ["clean"]}])["__typename"] == \
        "PipelineConfigValidationValid"
    refused = is_valid(client, "", job="__ASSET_JOB", assetSelection=[{"path": ["nope"]}])
    assert refused["__typename"] == "InvalidSubsetError" and "nope" in refused["message"]


def test_root_default_yaml_is_the_schemas_defaults_with_secrets_masked(client, location):
    result = gql(client, SCHEMA, {"selector": pipeline()})["data"]["runConfigSchemaOrError"]
    assert result["__typename"] == "RunConfigSchema"
    defaults = yaml.safe_load(result["rootDefaultYaml"])
    assert list(defaults)[0] == "ops"
    assert defaults["ops"]["emit"]["config"] == {"factor": 2, "token": "********"}  # n and words have no default
    assert defaults["ops"]["tag"]["config"] == {"label": "plain"}
    assert "free" not in defaults["ops"]  # nothing to configure: no empty scaffolding
    assert result["isRunConfigValid"]["__typename"] == "RunConfigValidationInvalid"  # emit's n is required


def test_root_default_yaml_leaves_the_scaffolding_out_of_stored_defaults_too(client, location):
    """Every op of the asset job is optional, so the schema stores one default for all of `ops` (and the
    executor's for `execution`): empty dicts and None values inside it are left out too, as Dagster's are."""
    result = gql(client, SCHEMA, {"selector": pipeline(job="__ASSET_JOB")})["data"]["runConfigSchemaOrError"]
    defaults = yaml.safe_load(result["rootDefaultYaml"])
    assert defaults["ops"] == {"raw": {"config": {"limit": 10}}}  # clean's `{}` is scaffolding
    assert "execution" not in defaults  # multiprocess's default holds only None and empty dicts


def test_root_default_yaml_of_a_subset_names_only_its_ops(client, location):
    result = gql(client, SCHEMA, {"selector": pipeline(solidSelection=["tag"])})["data"]["runConfigSchemaOrError"]
    assert list(yaml.safe_load(result["rootDefaultYaml"])["ops"]) == ["tag"]
    assets = gql(client, SCHEMA, {"selector": pipeline(job="__ASSET_JOB", assetSelection=[{"path": ["clean"]}])}
                 )["data"]["runConfigSchemaOrError"]
    assert "raw" not in (yaml.safe_load(assets["rootDefaultYaml"]) or {}).get("ops", {})


def test_run_config_schema_of_an_unknown_job_or_selection_answers_dagsters_errors(client, location):
    missing = gql(client, SCHEMA, {"selector": pipeline(job="nope")})["data"]["runConfigSchemaOrError"]
    assert missing["__typename"] == "PipelineNotFoundError" and missing["pipelineName"] == "nope"
    subset = gql(client, SCHEMA, {"selector": pipeline(solidSelection=["nope"])})["data"]["runConfigSchemaOrError"]
    assert subset["__typename"] == "InvalidSubsetError"
