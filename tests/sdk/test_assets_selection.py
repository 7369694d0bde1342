"""Selecting assets for `materialize`: strings, definitions, AssetSelection and optional outputs."""

import orchestra as dg


@dg.asset(group_name="g")
def first():
    return 1


@dg.asset
def second(first):
    return first + 1


def _materialized(result):
    return [e.asset_key for e in result.get_asset_materialization_events()]


def test_selection_string_uses_selection_syntax():
    assert _materialized(dg.materialize([first, second], selection="group:g")) == [dg.AssetKey("first")]
    assert _materialized(dg.materialize([first, second], selection="first")) == [dg.AssetKey("first")]


def test_selection_by_definition_and_asset_selection():
    assert _materialized(dg.materialize([first, second], selection=[first])) == [dg.AssetKey("first")]
    result = dg.materialize([first, second], selection=dg.AssetSelection.keys("first").downstream())
    assert _materialized(result) == [dg.AssetKey("first"), dg.AssetKey("second")]


def test_optional_output_not_produced_skips_downstream():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(is_required=False)})
    def maybe():
        yield dg.Output(1, "a")

    @dg.asset
    def after_b(b):
        return b

    result = dg.materialize([maybe, after_b])
    assert result.success
    assert [e.event_type_value for e in result.all_events if e.step_key == "after_b"] == ["STEP_SKIPPED"]
    assert _materialized(result) == [dg.AssetKey("a")]


def test_direct_invocation_with_resources_and_config():
    class Db(dg.ConfigurableResource):
        url: str = "x"

    @dg.asset
    def with_res(context, db: Db):
        return db.url

    @dg.asset(config_schema={"n": int})
    def with_cfg(context):
        return context.op_config["n"]

    class Settings(dg.Config):
        n: int = 3

    @dg.asset
    def typed(config: Settings):
        return config.n

    assert with_res(dg.build_asset_context(resources={"db": Db(url="u")})) == "u"
    assert with_cfg(dg.build_asset_context(asset_config={"n": 4})) == 4
    assert typed(Settings(n=4)) == 4
    assert typed(config=Settings(n=5)) == 5


def test_asset_in_input_manager_key_loads_with_asset_key():
    class Loader(dg.InputManager):
        def load_input(self, context):
            return ("loaded", context.asset_key)

    @dg.input_manager
    def loader():
        return Loader()

    @dg.asset
    def up():
        return 1

    @dg.asset(ins={"up": dg.AssetIn(input_manager_key="loader")})
    def down(up):
        return up

    result = dg.materialize([up, down], resources={"loader": loader}, selection=[down])
    assert result.asset_value("down") == ("loaded", dg.AssetKey("up"))


def test_asset_job_execute_in_process_with_asset_selection(tmp_path):
    @dg.asset
    def base():
        return 5

    @dg.asset
    def plus_one(base):
        return base + 1

    @dg.asset_check(asset=plus_one, blocking=True)
    def plus_one_ok(plus_one):
        return dg.AssetCheckResult(passed=plus_one == 6)

    defs = dg.Definitions(
        assets=[base, plus_one], asset_checks=[plus_one_ok],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
    )
    job = defs.get_implicit_global_asset_job_def()
    result = job.execute_in_process()
    assert result.success
    assert [e.check_name for e in result.get_asset_check_evaluations()] == ["plus_one_ok"]
    assert defs.load_asset_value("plus_one") == 6
    subset = job.execute_in_process(asset_selection=[dg.AssetKey("plus_one")])
    assert subset.success
    assert _materialized(subset) == [dg.AssetKey("plus_one")]
