"""The code location the browser tests drive through the UI of a real `orchestra dev`.

Hostile strings (HOSTILE) reach the UI from an asset description, a log message, stdout and metadata values
(text, Markdown beside real Markdown: `**bold**`, and labels, URLs, names and table cells that the pages link or
tabulate: `hostile_metadata_job`);
the tests add them to run tags and run config through the launchpad. `flaky_job` fails until the flag
file FIXED_FLAG (next to this file) exists, so re-executing it from failure succeeds.
"""

import sys
import time
from pathlib import Path

import orchestra as dg

HOSTILE = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=1">'
FIXED_FLAG = Path(__file__).with_name("fixed.flag")


class Greeting(dg.Config):
    name: str
    times: int = 1


@dg.op
def greet(context: dg.OpExecutionContext, config: Greeting) -> None:
    for _ in range(config.times):
        context.log.info(f"hello {config.name}")


@dg.job(description="Says hello to the configured name.")
def greet_job():
    greet()


@dg.op
def prepare() -> int:
    return 1


@dg.op
def flaky(value: int) -> int:
    if not FIXED_FLAG.exists():
        raise RuntimeError("the flag file is missing: broken on purpose")
    return value + 1


@dg.job
def flaky_job():
    flaky(prepare())


@dg.op
def wait_a_long_time(context: dg.OpExecutionContext) -> None:
    context.log.info("waiting for up to 10 minutes")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.2)


@dg.job
def slow_job():
    wait_a_long_time()


@dg.op
def chatty() -> None:
    for number in range(1, 31):
        print(f"stdout line {number}", flush=True)
        time.sleep(0.1)
    print("stdout done", flush=True)
    print("a line on stderr", file=sys.stderr, flush=True)


@dg.job
def chatty_job():
    chatty()


@dg.op
def hostile(context: dg.OpExecutionContext) -> None:
    context.log.warning(f"log says {HOSTILE}")
    print(f"stdout says {HOSTILE}", flush=True)


@dg.job
def hostile_job():
    hostile()


@dg.asset(description="Numbers as they arrive.", group_name="numbers")
def raw_numbers() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3, "source": "the browser tests"})


@dg.asset(description="Doubled numbers.", group_name="numbers", deps=[raw_numbers])
def doubled_numbers() -> None:
    return None


@dg.asset(description=f"Hostile. {HOSTILE}", group_name="hostile")
def hostile_asset() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"note": f"meta {HOSTILE}",
                                          "summary": dg.MetadataValue.md(f"**bold** md {HOSTILE}")})


nightly = dg.ScheduleDefinition(name="nightly_greeting", job=greet_job, cron_schedule="0 3 * * *",
                                run_config={"ops": {"greet": {"config": {"name": "night"}}}})


@dg.sensor(job=greet_job, minimum_interval_seconds=3600)
def greeting_sensor(context: dg.SensorEvaluationContext):
    return dg.SkipReason(f"cursor is {context.cursor!r}")


@dg.op
def add_one(value: int) -> int:
    return value + 1


@dg.graph
def cleaning(value: int):
    return add_one(add_one(value))


@dg.job(description="A job with a sub-graph, for the job page.")
def nested_job():
    add_one(cleaning(prepare()))


def _chain_op(number: int) -> dg.OpDefinition:
    @dg.op(name=f"step_{number:03d}")
    def _op(value: int) -> int:
        return value + 1

    return _op


CHAIN = [_chain_op(number) for number in range(200)]


@dg.job(description="200 ops in a chain: the graph must open readable.")
def two_hundred_ops():
    value = prepare()
    for op in CHAIN:
        value = op(value)


# Metadata of every stored kind on one output, then a failure: `never_started` is planned and never starts.
EVERY_KIND = {
    "text": "plain text", "int": 42, "big int": 2**40, "float": 0.1, "nan": dg.MetadataValue.float(float("nan")),
    "bool": True, "json": dg.MetadataValue.json({"a": [1, 2.5, None, True], "b": "x"}),
    "url": dg.MetadataValue.url("https://example.com/a?b=1"), "path": dg.MetadataValue.path("/tmp/some/file.csv"),
    "notebook": dg.MetadataValue.notebook("/tmp/nb.ipynb"), "md": dg.MetadataValue.md("*emphasis*"),
    "table": dg.MetadataValue.table(records=[dg.TableRecord({"name": "a", "n": 1})], schema=dg.TableSchema(
        columns=[dg.TableColumn("name", "string"), dg.TableColumn("n", "int")])),
    "asset": dg.MetadataValue.asset(dg.AssetKey(["some", "asset"])), "job": dg.MetadataValue.job("greet_job", "browser"),
    "timestamp": dg.MetadataValue.timestamp(1714564800.123), "null": dg.MetadataValue.null(),
    "run": dg.MetadataValue.dagster_run("abc-123"), "pool": dg.MetadataValue.pool("db"),
}


@dg.op
def every_kind() -> dg.Output:
    return dg.Output(1, metadata=EVERY_KIND)


@dg.op
def then_fail(value: int) -> int:
    raise RuntimeError("fails on purpose, after every metadata kind")


@dg.op
def never_started(value: int) -> None:
    pass


@dg.job
def metadata_job():
    never_started(then_fail(every_kind()))


# Metadata shown as links and tables, with hostile strings wherever user code puts text.
LINKABLE_HOSTILE = '"><img src=x onerror="window.__xss=1">'  # no "/": a run id or an asset key part can hold it
HOSTILE_METADATA = {
    f"url {HOSTILE}": dg.MetadataValue.url(f"https://example.com/?q={HOSTILE}"),
    "script url": dg.MetadataValue.url("javascript:window.__xss=1"),
    "run": dg.MetadataValue.dagster_run(LINKABLE_HOSTILE),
    "asset": dg.MetadataValue.asset(dg.AssetKey(["hostile", LINKABLE_HOSTILE])),
    "job": dg.MetadataValue.job("greet_job", "browser"),
    "table": dg.MetadataValue.table(records=[
        dg.TableRecord({"n": n, HOSTILE: HOSTILE if n % 2 else None, "ratio": n / 2, "ok": n == 3})
        for n in range(120)]),
    "schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=[
        dg.TableColumn(HOSTILE, description=HOSTILE), dg.TableColumn("n", "int")])),
}


@dg.op
def hostile_metadata() -> dg.Output:
    time.sleep(1)  # the run's page is open before this output's row exists: the row arrives live
    return dg.Output(1, metadata=HOSTILE_METADATA)


@dg.job
def hostile_metadata_job():
    hostile_metadata()


defs = dg.Definitions(
    jobs=[greet_job, flaky_job, slow_job, chatty_job, hostile_job, nested_job, two_hundred_ops, metadata_job,
          hostile_metadata_job],
    assets=[raw_numbers, doubled_numbers, hostile_asset],
    schedules=[nightly],
    sensors=[greeting_sensor],
)
