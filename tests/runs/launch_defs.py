"""Definitions the submit and launcher tests store as a code location and run through real workers."""

import os
import subprocess
import time

import orchestra as dg

MARKS = os.environ.get("TEST_MARKS", "")


@dg.op
def start():
    return 0


@dg.op
def add_one(value):
    return value + 1


@dg.op(config_schema={"n": int, "label": dg.Field(str, default_value="x")})
def configured_op(context, value):
    return value + context.op_config["n"]


@dg.op
def slow(value):
    try:
        if MARKS:  # inside the try: a test that waits for this mark knows the finally below will run
            open(os.path.join(MARKS, "slow-started"), "w").close()
        time.sleep(60)
    finally:
        if MARKS:
            open(os.path.join(MARKS, "slow-stopped"), "w").close()
    return value


@dg.op
def spawn_sleeper():
    """Starts a `sleep 300` it does not wait for and records its pid, then sleeps itself."""
    sleeper = subprocess.Popen(["sleep", "300"])
    with open(os.path.join(MARKS, "sleeper-pid.tmp"), "w") as handle:
        handle.write(str(sleeper.pid))
    os.replace(os.path.join(MARKS, "sleeper-pid.tmp"), os.path.join(MARKS, "sleeper-pid"))
    time.sleep(60)


@dg.job
def spawning():
    spawn_sleeper()


@dg.job(tags={"team": "data", "owner": "job"})
def chain():
    value = start()
    for _ in range(3):
        value = add_one(value)


@dg.job
def needs_config():
    configured_op(add_one(start()))


@dg.job
def sleepy():
    slow(start())


@dg.asset
def raw():
    return [1, 2, 3]


@dg.asset
def total(raw):
    return sum(raw)


@dg.asset_check(asset=total)
def total_positive(total):
    return dg.AssetCheckResult(passed=total > 0)


defs = dg.Definitions(
    assets=[raw, total], asset_checks=[total_positive],
    jobs=[chain, needs_config, sleepy, spawning, dg.define_asset_job("everything")],
)
