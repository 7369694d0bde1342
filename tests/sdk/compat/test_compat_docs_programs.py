"""Programs shaped like Dagster 1.13's documentation (testing, outputs, run status sensors,
`@definitions`) that behaved differently here; expected values come from running them on Dagster."""

import textwrap
from unittest import mock

import pytest

import orchestra as dg
from orchestra._core.definitions_class.module_loading import load_definitions

# --- direct invocation: resources and config passed by position --------------------------------


class Greeter(dg.ConfigurableResource):
    greeting: str

    def greet(self, name: str) -> str:
        return f"{self.greeting}, {name}"


class Shout(dg.Config):
    loud: bool = False


@dg.op
def greet_op(greeter: Greeter) -> str:
    return greeter.greet("op")


@dg.op
def greet_with_input(greeter: Greeter, name: str) -> str:
    return greeter.greet(name)


@dg.asset
def greeting_asset(greeter: Greeter) -> str:
    return greeter.greet("asset")


@dg.asset
def shouted(config: Shout, greeter: Greeter) -> str:
    text = greeter.greet("asset")
    return text.upper() if config.loud else text


def test_an_op_takes_its_resource_by_position():
    assert greet_op(Greeter(greeting="hi")) == "hi, op"


def test_resource_then_input_by_position_and_a_mock_resource():
    assert greet_with_input(Greeter(greeting="hey"), "ann") == "hey, ann"
    fake = mock.Mock()
    fake.greet.return_value = "mocked"
    assert greet_op(fake) == "mocked"
    fake.greet.assert_called_once_with("op")


def test_an_asset_takes_resource_and_config_by_position():
    assert greeting_asset(Greeter(greeting="yo")) == "yo, asset"
    assert shouted(Shout(loud=True), Greeter(greeting="yo")) == "YO, ASSET"


def test_a_resource_given_by_position_is_not_looked_up_in_the_context():
    context = dg.build_op_context(resources={"greeter": Greeter(greeting="from context")})
    assert greet_op(context) == "from context, op"


def test_an_op_called_with_an_asset_context_is_refused():
    @dg.op
    def needs_context(context: dg.OpExecutionContext) -> str:
        return context.partition_key

    with pytest.raises(dg.DagsterInvariantViolationError, match="can only being used to invoke an asset"):
        needs_context(dg.build_asset_context(partition_key="2024-08-16"))


# --- output annotations ---------------------------------------------------------------------------


@dg.op
def bare_output() -> dg.Output:
    return dg.Output(["any", "value"])


@dg.op(out={"number": dg.Out(), "text": dg.Out()})
def two_outputs() -> tuple[dg.Output[int], dg.Output[str]]:
    return dg.Output(5), dg.Output("five")


@dg.op(out={"number": dg.Out(), "text": dg.Out()})
def misnamed_outputs():
    return dg.Output(5, output_name="text"), dg.Output("five")


@dg.op(out=dg.DynamicOut())
def pages() -> list[dg.DynamicOutput[str]]:
    return [dg.DynamicOutput(f"page-{i}", mapping_key=str(i)) for i in range(3)]


@dg.op
def shout(page: str) -> str:
    return page.upper()


def test_a_bare_output_annotation_accepts_any_value():
    @dg.job
    def job():
        bare_output()

    result = job.execute_in_process()
    assert result.output_for_node("bare_output") == ["any", "value"]


def test_unnamed_outputs_in_a_returned_tuple_take_their_positions_names():
    @dg.job
    def job():
        two_outputs()

    result = job.execute_in_process()
    assert result.output_for_node("two_outputs", "number") == 5
    assert result.output_for_node("two_outputs", "text") == "five"
    assert two_outputs.output_dict["number"].dagster_type.display_name == "Int"


def test_an_explicitly_named_output_in_the_wrong_position_fails_the_step():
    @dg.job
    def job():
        misnamed_outputs()

    result = job.execute_in_process(raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert (
        "Output was explicitly named 'text', which does not match the output definition specified for position 0: 'number'"
        in failure.message
    )


def test_a_dynamic_op_may_return_its_outputs_as_a_list():
    @dg.job
    def job():
        pages().map(shout)

    result = job.execute_in_process()
    assert result.output_for_node("shout") == {"0": "PAGE-0", "1": "PAGE-1", "2": "PAGE-2"}
    assert pages.output_defs[0].dagster_type.display_name == "String"


# --- run status sensors watching other code locations ---------------------------------------------


def test_selectors_name_code_locations_and_jobs():
    assert repr(dg.CodeLocationSelector(location_name="etl")) == "CodeLocationSelector(location_name='etl')"
    job = dg.JobSelector(location_name="etl", job_name="nightly")
    assert job.repository_name == "__repository__"
    assert job.repository_selector == dg.RepositorySelector(
        location_name="etl", repository_name="__repository__"
    )
    assert dg.CodeLocationSelector(location_name="etl").to_repository_selector() == job.repository_selector
    with pytest.raises(dg.DagsterInvariantViolationError, match="Must provide job_name"):
        dg.JobSelector(location_name="etl")


def test_run_status_sensors_accept_selectors():
    @dg.run_status_sensor(
        monitored_jobs=[dg.CodeLocationSelector(location_name="etl")], run_status=dg.DagsterRunStatus.SUCCESS
    )
    def location_watcher():
        pass

    @dg.run_failure_sensor(monitored_jobs=[dg.JobSelector(location_name="etl", job_name="nightly")])
    def nightly_watcher():
        pass

    assert location_watcher.monitors_job("anything")
    assert nightly_watcher.monitors_job("nightly")
    assert not nightly_watcher.monitors_job("hourly")
    assert nightly_watcher.to_snapshot()["monitored_job_names"] == ["nightly"]
    assert location_watcher.to_snapshot()["monitored_job_names"] == []
    dg.Definitions(sensors=[location_watcher, nightly_watcher])


# --- @definitions ------------------------------------------------------------------------------


@dg.asset
def lazy_asset() -> int:
    return 1


def test_definitions_decorator_builds_definitions_when_called():
    @dg.definitions
    def defs():
        return dg.Definitions(assets=[lazy_asset])

    built = defs()
    assert isinstance(built, dg.Definitions)
    assert dg.materialize([lazy_asset]).success
    assert [job.name for job in built.resolve_all_job_defs()] == ["__ASSET_JOB"]


def test_definitions_decorator_refuses_parameters_and_other_return_values():
    with pytest.raises(
        dg.DagsterInvariantViolationError, match="no parameters or exactly one ComponentLoadContext"
    ):

        @dg.definitions
        def needs_argument(path):
            return dg.Definitions()

    @dg.definitions
    def returns_a_list():
        return [lazy_asset]

    with pytest.raises(dg.DagsterInvariantViolationError, match="must return a Definitions"):
        returns_a_list()


def test_the_loader_prefers_the_decorated_function(tmp_path):
    path = tmp_path / "location.py"
    path.write_text(
        textwrap.dedent("""
        import orchestra as dg

        @dg.asset
        def orders():
            return 1

        unused = dg.Definitions()

        @dg.definitions
        def defs():
            return dg.Definitions(assets=[orders])
    """)
    )
    loaded = load_definitions(python_file=str(path))
    assert [key.to_user_string() for key in loaded.resolve_asset_graph().all_asset_keys] == ["orders"]


# --- an asset that loads an upstream value nobody produces ---------------------------------------


class Writer:
    def write(self, text: str) -> None:
        raise AssertionError("never runs")


@dg.asset
def writes_with(writer: Writer) -> None:
    # `Writer` is a plain class, not a resource: `writer` is an upstream asset to load.
    writer.write("hello")


@dg.asset(deps=["made_elsewhere"])
def depends_on_external() -> int:
    return 1


def test_a_loaded_input_without_an_upstream_asset_is_refused_when_resolving():
    defs = dg.Definitions(assets=[writes_with])  # building the object is fine, as in Dagster
    message = 'Input asset "\\["writer"\\]" is not produced by any of the provided asset ops'
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=message):
        defs.resolve_all_job_defs()
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=message):
        dg.materialize([writes_with])


def test_a_dependency_that_loads_nothing_may_name_an_asset_defined_elsewhere():
    assert dg.materialize([depends_on_external]).success
    writer_source = dg.SourceAsset("writer")
    assert dg.Definitions(assets=[writes_with, writer_source]).resolve_all_job_defs()
