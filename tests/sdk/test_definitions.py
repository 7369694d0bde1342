"""Definitions: binding resources, executors and asset jobs, validation errors, lookups and merging."""

import warnings

import pytest

import orchestra as dg


@pytest.fixture(autouse=True)
def _quiet_lookup_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@dg.op
def one():
    return 1


@dg.op(required_resource_keys={"db"})
def read_db(context):
    return context.resources.db


@dg.job
def plain_job():
    one()


@dg.job
def db_job():
    read_db()


# --- jobs and resources ---------------------------------------------------------------------------


def test_job_gets_top_level_resources_and_runs():
    defs = dg.Definitions(jobs=[db_job], resources={"db": 42})
    result = defs.get_job_def("db_job").execute_in_process()
    assert result.success
    assert result.output_for_node("read_db") == 42


def test_missing_resource_is_reported_when_the_job_is_resolved():
    defs = dg.Definitions(jobs=[db_job])  # constructing never fails
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'db' required by op 'read_db' was not provided"):
        defs.get_job_def("db_job")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="'db'"):
        dg.Definitions.validate_loadable(defs)


def test_job_without_resources_runs_with_resources_given_at_execution():
    assert db_job.execute_in_process(resources={"db": 7}).output_for_node("read_db") == 7
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'db'"):
        db_job.execute_in_process()


def test_job_resources_win_over_top_level_ones():
    @dg.job(resource_defs={"db": dg.ResourceDefinition.hardcoded_resource("job")})
    def own_db():
        read_db()

    defs = dg.Definitions(jobs=[own_db], resources={"db": "top"})
    assert defs.get_job_def("own_db").execute_in_process().output_for_node("read_db") == "job"


def test_top_level_io_manager_replaces_the_default_one():
    stored = {}

    class Recording(dg.IOManager):
        def handle_output(self, context, obj):
            stored[context.step_key] = obj

        def load_input(self, context):
            return stored[context.upstream_output.step_key]

    defs = dg.Definitions(jobs=[plain_job], resources={"io_manager": Recording()})
    assert defs.get_job_def("plain_job").execute_in_process().success
    assert stored == {"one": 1}


def test_executor_applies_to_jobs_without_one():
    @dg.job(executor_def=dg.multiprocess_executor)
    def chosen():
        one()

    defs = dg.Definitions(jobs=[plain_job, chosen], executor=dg.in_process_executor)
    assert defs.get_job_def("plain_job").executor_def.name == "in_process"
    assert defs.get_job_def("chosen").executor_def.name == "multiprocess"


def test_schedule_and_sensor_jobs_join_the_repository_with_resources():
    schedule = dg.ScheduleDefinition(name="hourly", cron_schedule="0 * * * *", job=db_job)
    defs = dg.Definitions(schedules=[schedule], resources={"db": 1})
    assert defs.get_repository_def().job_names == ["db_job"]
    assert defs.get_job_def("db_job").execute_in_process().output_for_node("read_db") == 1
    assert defs.get_schedule_def("hourly").job_name == "db_job"


def test_lookups_of_unknown_names_list_what_exists():
    defs = dg.Definitions(jobs=[plain_job, db_job], resources={"db": 1})
    with pytest.raises(dg.DagsterInvariantViolationError, match=r"Could not find job 'nope'. Found: 'plain_job', 'db_job'."):
        defs.get_job_def("nope")
    with pytest.raises(dg.DagsterInvariantViolationError, match=r"Could not find schedule 'nope'. Found: \."):
        defs.get_schedule_def("nope")
    with pytest.raises(dg.DagsterInvariantViolationError, match=r"Could not find sensor 'nope'"):
        defs.get_sensor_def("nope")
    with pytest.raises(dg.DagsterInvariantViolationError, match=r"Could not find asset"):
        defs.get_assets_def("nope")


def test_repository_of_definitions():
    defs = dg.Definitions(jobs=[plain_job])
    repo = defs.get_repository_def()
    assert repo.name == "__repository__"
    assert repo is defs.get_repository_def()
    assert [j.name for j in defs.resolve_all_job_defs()] == ["plain_job"]
    assert repo.has_job("plain_job") and not repo.has_job("x")
    with pytest.raises(dg.DagsterInvariantViolationError, match="__ASSET_JOB"):
        defs.get_implicit_global_asset_job_def()


def test_constructor_arguments_are_kept_as_given():
    defs = dg.Definitions(jobs=[plain_job])
    assert defs.jobs == [plain_job]
    assert defs.assets is None and defs.schedules is None and defs.resources is None
    assert defs.metadata == {}
    assert dg.Definitions(metadata={"n": 1}).metadata == {"n": dg.MetadataValue.int(1)}


# --- validation -----------------------------------------------------------------------------------


def test_duplicate_job_names_fail_on_use():
    @dg.job(name="plain_job")
    def other():
        one()
        one()

    defs = dg.Definitions(jobs=[plain_job, other])
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Duplicate job definition found for job 'plain_job'"):
        defs.get_job_def("plain_job")


def test_the_same_job_twice_is_fine():
    assert dg.Definitions(jobs=[plain_job, plain_job]).get_job_def("plain_job").name == "plain_job"


def test_schedule_and_sensor_names_are_shared():
    schedule = dg.ScheduleDefinition(name="tick", cron_schedule="* * * * *", job=plain_job)
    sensor = dg.SensorDefinition(name="tick", evaluation_fn=lambda context: None, job=plain_job)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Duplicate definition found for tick"):
        dg.Definitions(schedules=[schedule], sensors=[sensor]).get_repository_def()


def test_schedule_naming_an_unknown_job_fails():
    schedule = dg.ScheduleDefinition(name="tick", cron_schedule="* * * * *", job_name="missing")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='ScheduleDefinition "tick" targets job "missing" which was not found'):
        dg.Definitions(schedules=[schedule]).get_repository_def()


def test_sensor_naming_an_unknown_job_fails():
    sensor = dg.SensorDefinition(name="watch", evaluation_fn=lambda context: None, job_name="missing")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='SensorDefinition "watch" targets job "missing"'):
        dg.Definitions(sensors=[sensor]).get_repository_def()


def test_reserved_job_name_is_refused():
    job = dg.GraphDefinition(name="g", node_defs=[one]).to_job(name="__ASSET_JOB")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="reserved name"):
        dg.Definitions(jobs=[job]).get_repository_def()


def test_wrong_types_are_refused_at_construction():
    with pytest.raises(Exception, match="Got 1 of type"):
        dg.Definitions(jobs=[1])
    with pytest.raises(Exception, match='Param "jobs" is not a Iterable'):
        dg.Definitions(jobs=plain_job)
    with pytest.raises(Exception, match="resources"):
        dg.Definitions(resources=[1])


def test_duplicate_asset_keys_fail():
    @dg.asset(name="thing")
    def first():
        return 1

    @dg.asset(name="thing")
    def second():
        return 2

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Duplicate asset key"):
        dg.Definitions(assets=[first, second]).get_repository_def()


# --- merge ----------------------------------------------------------------------------------------


def test_merge_combines_and_detects_conflicts():
    merged = dg.Definitions.merge(dg.Definitions(jobs=[plain_job], resources={"db": 1}), dg.Definitions(jobs=[db_job]))
    assert merged.get_job_def("db_job").execute_in_process().output_for_node("read_db") == 1
    assert dg.Definitions.merge(dg.Definitions(resources={"a": 1}), dg.Definitions(resources={"a": 1})).resources == {"a": 1}
    with pytest.raises(dg.DagsterInvariantViolationError, match="Definitions objects 0 and 1 have different resources with same key 'a'"):
        dg.Definitions.merge(dg.Definitions(resources={"a": 1}), dg.Definitions(resources={"a": 2}))
    with pytest.raises(dg.DagsterInvariantViolationError, match="Definitions objects 0 and 1 both have an executor"):
        dg.Definitions.merge(dg.Definitions(executor=dg.in_process_executor), dg.Definitions(executor=dg.multiprocess_executor))
    metadata = dg.Definitions.merge(dg.Definitions(metadata={"a": 1}), dg.Definitions(metadata={"a": 2, "b": "x"})).metadata
    assert metadata == {"a": dg.MetadataValue.int(2), "b": dg.MetadataValue.text("x")}


# --- assets and asset jobs ------------------------------------------------------------------------


@dg.asset(group_name="raw")
def numbers():
    return [1, 2, 3]


@dg.asset(group_name="raw")
def doubled(numbers):
    return [n * 2 for n in numbers]


@dg.asset(group_name="report", required_resource_keys={"offset"})
def total(context, doubled):
    return sum(doubled) + context.resources.offset


@dg.asset_check(asset=doubled)
def doubled_not_empty(doubled):
    return dg.AssetCheckResult(passed=bool(doubled))


def _materialized(result):
    return sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())


def test_define_asset_job_runs_its_selection():
    raw_job = dg.define_asset_job("raw_job", selection=dg.AssetSelection.groups("raw"), tags={"team": "data"})
    defs = dg.Definitions(assets=[numbers, doubled, total], asset_checks=[doubled_not_empty], jobs=[raw_job],
                          resources={"offset": 100})
    job = defs.get_job_def("raw_job")
    assert isinstance(job, dg.JobDefinition)
    assert job.tags == {"team": "data"}
    result = job.execute_in_process()
    assert result.success
    assert _materialized(result) == ["doubled", "numbers"]
    assert [e.check_name for e in result.get_asset_check_evaluations()] == ["doubled_not_empty"]


def test_implicit_asset_job_covers_every_asset_with_resources():
    defs = dg.Definitions(assets=[numbers, doubled, total], resources={"offset": 100})
    job = defs.get_implicit_global_asset_job_def()
    assert job.name == "__ASSET_JOB"
    result = job.execute_in_process()
    assert _materialized(result) == ["doubled", "numbers", "total"]
    assert result.output_for_node("total") == 112
    assert "__ASSET_JOB" in defs.get_repository_def().job_names


def test_asset_job_selected_by_string_and_by_definitions():
    defs = dg.Definitions(
        assets=[numbers, doubled, total],
        jobs=[dg.define_asset_job("by_string", selection="key:numbers or key:doubled"),
              dg.define_asset_job("by_defs", selection=[numbers])],
        resources={"offset": 0},
    )
    assert _materialized(defs.get_job_def("by_string").execute_in_process()) == ["doubled", "numbers"]
    assert _materialized(defs.get_job_def("by_defs").execute_in_process()) == ["numbers"]


def test_define_asset_job_keeps_its_selection():
    assert str(dg.define_asset_job("j", selection=dg.AssetSelection.groups("g1")).selection) == 'group:"g1"'
    assert str(dg.define_asset_job("j").selection) == "*"


def test_asset_job_with_unknown_key_fails_to_resolve():
    bad = dg.define_asset_job("bad", selection=dg.AssetSelection.keys("zzz"))
    defs = dg.Definitions(assets=[numbers], jobs=[bad])
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Failed to resolve asset job bad") as info:
        defs.get_job_def("bad")
    assert isinstance(info.value.__cause__, dg.DagsterInvalidSubsetError)


def test_schedule_targeting_an_asset_job():
    nightly = dg.define_asset_job("nightly", selection="group:raw")
    schedule = dg.ScheduleDefinition(name="nightly_schedule", cron_schedule="0 0 * * *", job=nightly)
    defs = dg.Definitions(assets=[numbers, doubled], schedules=[schedule])
    assert "nightly" in defs.get_repository_def().job_names
    assert _materialized(defs.get_job_def("nightly").execute_in_process()) == ["doubled", "numbers"]


def test_get_assets_def_returns_the_definition_passed_in():
    defs = dg.Definitions(assets=[numbers, doubled, total], resources={"offset": 1})
    assert defs.get_assets_def("numbers") is numbers
    assert defs.get_assets_def(dg.AssetKey("total")) is total


def test_asset_specs_become_external_assets():
    defs = dg.Definitions(assets=[dg.AssetSpec("outside")])
    graph = defs.get_repository_def().asset_graph
    assert dg.AssetKey("outside") in graph.external_asset_keys
    assert dg.AssetSelection.all(include_sources=True).resolve(graph) == {dg.AssetKey("outside")}


def test_with_resources_binds_assets():
    [bound] = dg.with_resources([total], {"offset": 5})
    result = dg.materialize([numbers, doubled, bound])
    assert result.output_for_node("total") == 17


# --- @repository ---------------------------------------------------------------------------------


def test_repository_decorator_lists_and_dicts():
    @dg.repository
    def repo():
        return [plain_job, dg.ScheduleDefinition(name="s", cron_schedule="* * * * *", job=plain_job)]

    assert isinstance(repo, dg.RepositoryDefinition)
    assert repo.name == "repo"
    assert repo.job_names == ["plain_job"]
    assert [s.name for s in repo.schedule_defs] == ["s"]
    assert repo.get_job("plain_job").execute_in_process().success

    @dg.repository(name="named")
    def by_dict():
        return {"jobs": {"plain_job": plain_job}}

    assert by_dict.name == "named"
    assert by_dict.has_job("plain_job")


def test_repository_refuses_other_objects():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Bad return value from repository construction function"):
        @dg.repository
        def bad():
            return [1]


def test_assets_missing_resources_fail_when_definitions_load():
    defs = dg.Definitions(assets=[numbers, doubled, total])
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'offset' required by op 'total' was not provided"):
        defs.get_repository_def()


def test_pythonic_resources_bind_to_assets_by_parameter_name():
    class Offset(dg.ConfigurableResource):
        amount: int

    @dg.asset
    def shifted(offset: Offset):
        return offset.amount

    defs = dg.Definitions(assets=[shifted], resources={"offset": Offset(amount=3)})
    assert defs.get_implicit_global_asset_job_def().execute_in_process().output_for_node("shifted") == 3
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'offset'"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[shifted]))


def test_partitioned_asset_job_with_config_tags_and_executor():
    letters = dg.StaticPartitionsDefinition(["x", "y"])

    @dg.asset(partitions_def=letters, config_schema={"times": int})
    def repeated(context):
        return context.partition_key * context.op_config["times"]

    job = dg.define_asset_job("letters_job", selection=[repeated], config={"ops": {"repeated": {"config": {"times": 2}}}},
                              tags={"t": "2"}, run_tags={"rt": "1"}, description="desc")
    defs = dg.Definitions(assets=[repeated, numbers], jobs=[job], executor=dg.in_process_executor)
    resolved = defs.get_job_def("letters_job")
    assert resolved.partitions_def is not None
    assert resolved.executor_def.name == "in_process"
    assert resolved.description == "desc"
    assert resolved.tags == {"t": "2"} and resolved.run_tags == {"rt": "1"}
    result = resolved.execute_in_process(partition_key="y")
    assert result.output_for_node("repeated") == "yy"
    assert result.dagster_run.tags["dagster/partition"] == "y"
    assert result.dagster_run.tags["rt"] == "1"
    assert defs.get_implicit_global_asset_job_def().executor_def.name == "in_process"


def test_asset_selection_targets_become_anonymous_asset_jobs():
    by_schedule = dg.ScheduleDefinition(name="every_hour", cron_schedule="0 * * * *", target=dg.AssetSelection.groups("raw"))

    @dg.sensor(target="key:numbers")
    def on_demand(context):
        return None

    defs = dg.Definitions(assets=[numbers, doubled], schedules=[by_schedule], sensors=[on_demand])
    names = defs.get_repository_def().job_names
    assert names == ["__ASSET_JOB", "__anonymous_asset_job_every_hour", "__anonymous_asset_job_on_demand"]
    assert _materialized(defs.resolve_job_def("__anonymous_asset_job_every_hour").execute_in_process()) == ["doubled", "numbers"]
    assert _materialized(defs.resolve_job_def("__anonymous_asset_job_on_demand").execute_in_process()) == ["numbers"]


def test_load_asset_value_reads_through_the_io_manager(tmp_path):
    letters = dg.StaticPartitionsDefinition(["x", "y"])
    stored = {}

    class Store(dg.ConfigurableIOManager):
        def handle_output(self, context, obj):
            stored[tuple(context.asset_key.path)] = obj

        def load_input(self, context):
            return stored[tuple(context.asset_key.path)]

    @dg.asset(partitions_def=letters)
    def per_letter(context):
        return context.partition_key * 2

    @dg.asset(io_manager_key="store")
    def kept():
        return "kept"

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        dg.materialize([numbers], instance=instance)
        dg.materialize([per_letter], instance=instance, partition_key="y")
        dg.materialize([kept], instance=instance, resources={"store": Store()})
        defs = dg.Definitions(assets=[numbers, per_letter, kept], resources={"store": Store()})
        assert defs.load_asset_value("numbers", instance=instance) == [1, 2, 3]
        assert defs.load_asset_value(dg.AssetKey("per_letter"), instance=instance, partition_key="y") == "yy"
        with defs.get_asset_value_loader(instance=instance) as loader:
            assert loader.load_asset_value("kept") == "kept"
            assert loader.load_asset_value("numbers") == [1, 2, 3]
        with pytest.raises(Exception, match="not found"):
            defs.load_asset_value("missing", instance=instance)


def test_map_asset_specs_changes_only_the_selected_assets():
    defs = dg.Definitions(assets=[numbers, doubled, dg.AssetSpec("outside")], resources={"offset": 0})
    mapped = defs.map_resolved_asset_specs(func=lambda spec: spec.replace_attributes(owners=["team:data"]), selection="group:raw")
    owners = {spec.key.to_user_string(): list(spec.owners) for spec in mapped.resolve_all_asset_specs()}
    assert owners == {"numbers": ["team:data"], "doubled": ["team:data"], "outside": []}
    everything = defs.map_asset_specs(func=lambda spec: spec.replace_attributes(group_name="all"))
    everything_graph = everything.get_repository_def().asset_graph
    assert dg.AssetSelection.groups("all").resolve(everything_graph) == {dg.AssetKey("numbers"), dg.AssetKey("doubled")}
    with pytest.raises(Exception, match="map_resolved_asset_specs"):
        defs.map_asset_specs(func=lambda spec: spec, selection="group:raw")
    assert sorted(s.key.to_user_string() for s in everything.resolve_all_asset_specs()) == ["doubled", "numbers", "outside"]


def test_repository_subsets_asset_jobs_for_a_run():
    raw_job = dg.define_asset_job("raw_job", selection="group:raw", tags={"team": "data"})
    defs = dg.Definitions(assets=[numbers, doubled, total], asset_checks=[doubled_not_empty], jobs=[raw_job, plain_job],
                          resources={"offset": 0})
    repo = defs.get_repository_def()
    subset = repo.get_maybe_subset_job_def("raw_job", asset_selection={dg.AssetKey("numbers")})
    assert subset.tags == {"team": "data"}
    assert _materialized(subset.execute_in_process()) == ["numbers"]
    with_check = repo.get_maybe_subset_job_def("raw_job", asset_selection={dg.AssetKey("numbers"), dg.AssetKey("doubled")})
    result = with_check.execute_in_process()
    assert _materialized(result) == ["doubled", "numbers"]
    assert [e.check_name for e in result.get_asset_check_evaluations()] == ["doubled_not_empty"]
    ops = repo.get_maybe_subset_job_def("plain_job", op_selection=["one"])
    assert ops.execute_in_process().success
    assert repo.get_maybe_subset_job_def("plain_job") is repo.get_job("plain_job")


def test_asset_resources_may_not_clash_with_top_level_ones():
    @dg.asset(resource_defs={"x": dg.ResourceDefinition.hardcoded_resource("asset")}, required_resource_keys={"x"})
    def own_x(context):
        return context.resources.x

    @dg.asset(resource_defs={"x": dg.ResourceDefinition.hardcoded_resource("other")}, required_resource_keys={"x"})
    def other_x(context):
        return context.resources.x

    with pytest.raises(dg.DagsterInvalidInvocationError, match="conflicting resource definitions with provided resources for the following keys: x"):
        dg.Definitions(assets=[own_x], resources={"x": "top"}).get_repository_def()
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Conflicting versions of resource with key 'x'"):
        dg.Definitions(assets=[own_x, other_x]).get_implicit_global_asset_job_def()
    assert dg.Definitions(assets=[own_x]).get_implicit_global_asset_job_def().execute_in_process().output_for_node("own_x") == "asset"


def test_partitioned_asset_job_with_a_schedule_and_env_var_resource(monkeypatch):
    import datetime as dt

    monkeypatch.setenv("API_BASE", "http://api")

    class Api(dg.ConfigurableResource):
        base: str

        def get(self, path):
            return f"{self.base}/{path}"

    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")

    @dg.asset(partitions_def=daily, group_name="ingest")
    def raw(context, api: Api):
        return api.get(context.partition_key)

    @dg.asset(partitions_def=daily, group_name="ingest")
    def clean(raw):
        return raw.upper()

    ingest_job = dg.define_asset_job("ingest_job", selection=dg.AssetSelection.groups("ingest"), partitions_def=daily)
    ingest_schedule = dg.build_schedule_from_partitioned_job(ingest_job)
    defs = dg.Definitions(assets=[raw, clean], jobs=[ingest_job], schedules=[ingest_schedule],
                          resources={"api": Api(base=dg.EnvVar("API_BASE"))})
    result = defs.get_job_def("ingest_job").execute_in_process(partition_key="2024-01-02")
    assert result.output_for_node("clean") == "HTTP://API/2024-01-02"
    schedule = defs.get_schedule_def("ingest_job_schedule")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 0 * * *", "ingest_job")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2024, 1, 3, tzinfo=dt.UTC), repository_def=defs.get_repository_def()
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2024-01-02"
    assert request.tags["dagster/partition"] == "2024-01-02"


def test_implicit_job_observes_source_assets_and_multi_assets_stay_whole():
    @dg.multi_asset(outs={"m1": dg.AssetOut(), "m2": dg.AssetOut()})
    def pair():
        return 1, 2

    @dg.observable_source_asset
    def watched():
        return dg.DataVersion("1")

    @dg.asset(deps=[watched])
    def after():
        return 1

    defs = dg.Definitions(assets=[pair, watched, after],
                          jobs=[dg.define_asset_job("partial", selection="key:m1"),
                                dg.define_asset_job("observe", selection=[watched])])
    assert sorted(n.name for n in defs.get_implicit_global_asset_job_def().nodes) == ["after", "pair", "watched"]
    assert defs.get_job_def("observe").execute_in_process().success
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Failed to resolve asset job partial") as info:
        defs.get_job_def("partial")
    assert isinstance(info.value.__cause__, dg.DagsterInvalidSubsetError)
    graph = defs.get_repository_def().asset_graph
    assert dg.AssetSelection.keys("after").upstream().resolve(graph) == {dg.AssetKey("after")}
    assert dg.AssetSelection.all(include_sources=True).resolve(graph) == {dg.AssetKey(k) for k in ("m1", "m2", "watched", "after")}


def test_with_resources_configures_resources_by_key():
    @dg.resource(config_schema={"v": int})
    def val(context):
        return context.resource_config["v"]

    @dg.asset(required_resource_keys={"val"})
    def reads_val(context):
        return context.resources.val

    [bound] = dg.with_resources([reads_val], {"val": val}, resource_config_by_key={"val": {"config": {"v": 7}}})
    assert dg.materialize([bound]).output_for_node("reads_val") == 7
    dg.with_resources([reads_val], {"val": val}, resource_config_by_key={"unused": {"config": {}}})
    with pytest.raises(dg.DagsterInvalidInvocationError, match="Expected a dictionary of the form"):
        dg.with_resources([reads_val], {"val": val}, resource_config_by_key={"val": {"v": 1}})
    assert dg.with_resources([], {"val": val}) == []
