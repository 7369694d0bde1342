"""The definitions snapshot: plain, versioned, deterministic JSON the webserver and daemon read."""

import json

import pytest

import orchestra as dg
from orchestra._config.snapshot import config_type_from_snapshot
from orchestra._config.validate import validate_structure
from orchestra._core.snapshot import SNAPSHOT_VERSION
from orchestra._core.snapshot.location import snapshot_from_definitions
from orchestra._core.snapshot.read import full_config_schema, full_job

HOSTILE = "<script>alert('x')</script> \" \\ \u0000 \u2028 \ud800 emoji \U0001f600 ' OR 1=1 --"


@dg.op(config_schema={"n": dg.Field(int, default_value=2)}, tags={"kind": "compute"})
def produce(context) -> int:
    return context.op_config["n"]


@dg.op
def add_one(x: int) -> int:
    return x + 1


@dg.graph
def inner(x):
    return add_one(x)


@dg.job(tags={"team": "ops"}, metadata={"owner": "me"}, description="a job",
        partitions_def=dg.StaticPartitionsDefinition(["p1", "p2"]))
def numbers_job():
    add_one(inner(produce()))


@dg.asset(group_name="sales", description=HOSTILE, metadata={"rows": 3, HOSTILE: HOSTILE}, tags={"tier": "gold"},
          kinds={"python"}, owners=["team:data"], code_version="v1")
def orders():
    return [1, 2, 3]


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]), deps=["raw_customers"])
def customers():
    return 1


@dg.asset_check(asset=orders, description="not empty")
def orders_not_empty(orders):
    return dg.AssetCheckResult(passed=bool(orders))


class Warehouse(dg.ConfigurableResource):
    """Where tables live."""

    url: str = "sqlite://"


hourly = dg.ScheduleDefinition(name="hourly", cron_schedule="0 * * * *", job=numbers_job)


@dg.sensor(job=numbers_job)
def watcher(context):
    return None


def _defs(**overrides):
    args = dict(
        assets=[orders, customers, dg.AssetSpec("raw_customers", group_name="raw")],
        asset_checks=[orders_not_empty],
        jobs=[numbers_job, dg.define_asset_job("sales_job", selection="group:sales")],
        schedules=[hourly],
        sensors=[watcher],
        resources={"warehouse": Warehouse(), "secret": Warehouse(url=dg.EnvVar("WAREHOUSE_URL"))},
        metadata={"team": HOSTILE},
    )
    args.update(overrides)
    return dg.Definitions(**args)


@pytest.fixture(scope="module")
def snapshot():
    return snapshot_from_definitions(_defs(), "analytics")


def _by_name(items, name, field="name"):
    return next(item for item in items if item[field] == name)


def test_snapshot_is_versioned_and_survives_json_unchanged(snapshot):
    assert snapshot["version"] == SNAPSHOT_VERSION
    assert snapshot["location_name"] == "analytics"
    assert snapshot["repository_name"] == "__repository__"
    text = json.dumps(snapshot)
    assert json.loads(text) == snapshot
    json.dumps(snapshot, allow_nan=False)


def test_snapshot_id_is_stable_and_tracks_content(snapshot):
    again = snapshot_from_definitions(_defs(), "analytics")
    assert again["snapshot_id"] == snapshot["snapshot_id"]
    assert again == snapshot
    changed = snapshot_from_definitions(_defs(metadata={"team": "other"}), "analytics")
    assert changed["snapshot_id"] != snapshot["snapshot_id"]


def test_ids_are_hashes_of_the_canonical_json_of_everything_else(snapshot):
    # the location's id is computed from each job's own encoding; it must equal hashing it whole
    from orchestra._core.snapshot.plain import canonical_json, json_hash, snapshot_hash

    rest = {key: value for key, value in snapshot.items() if key != "snapshot_id"}
    assert snapshot["snapshot_id"] == snapshot_hash(rest)
    # a job's id covers its own document and the definition tables its graph refers to
    tables_digest = snapshot_hash({key: snapshot[key] for key in ("dagster_types", "node_definitions")})
    for job in snapshot["jobs"]:
        own = canonical_json({key: value for key, value in job.items() if key != "snapshot_id"})
        assert job["snapshot_id"] == json_hash(own + tables_digest)


def test_the_snapshot_text_a_code_server_sends_is_its_canonical_json(snapshot):
    # what a code server answers /snapshot with: encoded once, while the id was computed
    from orchestra._core.snapshot.location import snapshot_and_json_from_definitions
    from orchestra._core.snapshot.plain import canonical_json

    again, text = snapshot_and_json_from_definitions(_defs(), "analytics")
    assert again == snapshot
    assert text == canonical_json(snapshot)
    assert json.loads(text) == snapshot


def test_snapshotting_leaves_the_garbage_collector_as_it_was():
    import gc

    assert gc.isenabled()
    snapshot_from_definitions(_defs(), "analytics")
    assert gc.isenabled()
    gc.disable()
    try:
        snapshot_from_definitions(_defs(), "analytics")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_snapshotting_moves_what_it_built_to_the_oldest_generation():
    # what was built skips the young generations (no walk of the whole snapshot by the next young
    # collection), and a cycle made inside is still collected by a full collection
    import gc
    import weakref

    class Node:
        pass

    from orchestra._core.gc_pause import collection_paused

    with collection_paused():
        built = snapshot_from_definitions(_defs(), "analytics")["jobs"]
        cycle = Node()
        cycle.self = cycle
        alive = weakref.ref(cycle)
        del cycle
    assert gc.isenabled()
    assert any(obj is built for obj in gc.get_objects(generation=2))
    gc.collect()
    assert alive() is None


def test_snapshotting_keeps_what_someone_froze_frozen():
    import gc

    from orchestra._core.gc_pause import collection_paused

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collection_paused():
            snapshot_from_definitions(_defs(), "analytics")
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_jobs_are_sorted_and_include_asset_jobs(snapshot):
    assert [j["name"] for j in snapshot["jobs"]] == ["__ASSET_JOB", "numbers_job", "sales_job"]
    sales = _by_name(snapshot["jobs"], "sales_job")
    assert sales["is_asset_job"] and sales["asset_keys"] == ["orders"]
    assert sales["asset_check_keys"] == ["orders:orders_not_empty"]


def test_job_snapshot_describes_the_op_graph(snapshot):
    job = full_job(snapshot, _by_name(snapshot["jobs"], "numbers_job"))
    assert job["description"] == "a job"
    assert job["tags"] == {"team": "ops"}
    assert job["metadata"] == [{"label": "owner", "type": "text", "data": "me"}]
    assert job["executor"] == {"name": "multi_or_in_process_executor"}
    assert job["partitions"]["kind"] == "static" and job["partitions"]["partition_keys"] == ["p1", "p2"]
    nodes = {n["name"]: n for n in job["graph"]["nodes"]}
    assert set(nodes) == {"produce", "inner", "add_one"}
    assert nodes["produce"]["tags"] == {"kind": "compute"}
    assert nodes["produce"]["outputs"][0]["type"]["name"] == "Int"
    assert nodes["inner"]["kind"] == "graph"
    assert nodes["inner"]["inputs"][0]["depends_on"] == [{"node": "produce", "output": "result"}]
    assert nodes["add_one"]["inputs"][0]["depends_on"] == [{"node": "inner", "output": "result"}]
    inner_nodes = nodes["inner"]["graph"]["nodes"]
    assert inner_nodes[0]["name"] == "add_one" and inner_nodes[0]["inputs"][0]["from_graph_inputs"] == ["x"]
    assert job["snapshot_id"]


def test_jobs_sharing_config_types_are_described_as_each_alone(snapshot):
    from orchestra._core.snapshot.jobs import job_snapshot

    defs = _defs()
    for job in defs.resolve_all_job_defs():
        alone = json.loads(json.dumps(job_snapshot(job)))
        in_location = full_job(snapshot, _by_name(snapshot["jobs"], job.name))
        # ids differ: each covers the definition tables of its own snapshot
        assert {**in_location, "snapshot_id": None} == {**alone, "snapshot_id": None}


def test_job_run_config_schema_validates_without_user_code(snapshot):
    stored = _by_name(snapshot["jobs"], "numbers_job")["run_config_schema"]
    assert "json_schema" not in stored  # derived on read (version 2)
    schema = full_config_schema(stored)
    assert schema["json_schema"]["type"] == "object"
    assert "ops" in schema["json_schema"]["properties"]
    rebuilt = config_type_from_snapshot(schema["config_types"])
    assert validate_structure(rebuilt, {"ops": {"produce": {"config": {"n": 5}}}}).success
    bad = validate_structure(rebuilt, {"ops": {"produce": {"config": {"n": "five"}}}})
    assert not bad.success


def test_asset_nodes(snapshot):
    nodes = {n["key_string"]: n for n in snapshot["asset_nodes"]}
    assert list(nodes) == ["customers", "orders", "raw_customers"]
    orders_node = nodes["orders"]
    assert orders_node["key"] == ["orders"]
    assert orders_node["group_name"] == "sales"
    assert orders_node["description"] == HOSTILE
    assert orders_node["tags"] == {"tier": "gold"}
    assert orders_node["kinds"] == ["python"]
    assert orders_node["owners"] == ["team:data"]
    assert orders_node["code_version"] == "v1"
    assert orders_node["checks"] == ["orders:orders_not_empty"]
    assert orders_node["job_names"] == ["__ASSET_JOB", "sales_job"]
    assert orders_node["op_name"] == "orders"
    assert orders_node["is_materializable"] and not orders_node["is_external"]
    assert nodes["customers"]["deps"] == [["raw_customers"]]
    assert nodes["customers"]["partitions"]["partition_keys"] == ["a", "b"]
    assert nodes["raw_customers"]["is_external"] and nodes["raw_customers"]["job_names"] == []
    assert nodes["raw_customers"]["group_name"] == "raw"


def test_asset_checks(snapshot):
    [check] = snapshot["asset_checks"]
    assert check["name"] == "orders_not_empty"
    assert check["asset_key"] == ["orders"]
    assert check["description"] == "not empty"
    assert check["job_names"] == ["__ASSET_JOB", "sales_job"]


def test_schedules_sensors_and_resources(snapshot):
    assert [s["name"] for s in snapshot["schedules"]] == ["hourly"]
    assert snapshot["schedules"][0]["job_name"] == "numbers_job"
    assert [s["name"] for s in snapshot["sensors"]] == ["watcher"]
    secret, resource = snapshot["resources"]
    assert resource["key"] == "warehouse"
    assert resource["type"].endswith("Warehouse")
    assert full_config_schema(resource["config_schema"])["json_schema"]["properties"]["url"]["default"] == "sqlite://"
    assert resource["env_vars"] == []
    assert secret["key"] == "secret" and secret["env_vars"] == ["WAREHOUSE_URL"]
    assert snapshot["utilized_env_vars"] == {"WAREHOUSE_URL": ["secret"]}


def test_job_only_locations_snapshot_without_assets():
    snapshot = snapshot_from_definitions(dg.Definitions(jobs=[numbers_job]), "ops_only")
    assert [j["name"] for j in snapshot["jobs"]] == ["numbers_job"]
    assert snapshot["asset_nodes"] == [] and snapshot["asset_checks"] == []


def test_two_hundred_asset_snapshot_round_trips_through_json():
    assets = []
    for i in range(200):
        deps = sorted({f"asset_{i - 1}", f"asset_{i // 2}"} - {f"asset_{i}"}) if i else []

        @dg.asset(name=f"asset_{i}", deps=deps, group_name=f"group_{i % 7}", tags={"n": str(i)})
        def _compute():
            return 1

        assets.append(_compute)
    defs = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("some", selection="group:group_1+")])
    snapshot = snapshot_from_definitions(defs, "big")
    assert len(snapshot["asset_nodes"]) == 200
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_snapshot_id_is_the_same_in_every_process(snapshot):
    import os
    import subprocess
    import sys

    code = (
        "import tests.sdk.test_snapshot as t\n"
        "from orchestra._core.snapshot.location import snapshot_from_definitions\n"
        "print(snapshot_from_definitions(t._defs(), 'analytics')['snapshot_id'])\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ids = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
        ids.add(out.stdout.strip().splitlines()[-1])
    assert ids == {snapshot["snapshot_id"]}
