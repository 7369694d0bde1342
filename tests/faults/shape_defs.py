"""The code location of the production-shape fault suite: jobs on the Celery executor, a schedule and a sensor.

Every job runs its steps as Celery tasks, so a run passes through every role of the deployment. `slow`
marks when it starts (its pid) and when it stops, so a test can kill a process mid-step and see that
the step did not outlive its run. The sensor asks for one run per 5-second window (its run key), the
schedule for one run a minute: two daemons (or two beats) ticking them at once must not double either.
"""

import os
import time

import orchestra as dg

MARKS = os.environ.get("TEST_MARKS", "")


@dg.op
def start():
    return 0


@dg.op
def add_one(value):
    return value + 1


@dg.op(config_schema={"label": dg.Field(str, default_value="")})
def slow(context, value):
    label = context.op_config["label"]
    if MARKS and label:
        with open(os.path.join(MARKS, f"{label}.started"), "w") as handle:
            handle.write(str(os.getpid()))
    try:
        time.sleep(60)
    finally:
        if MARKS and label:
            open(os.path.join(MARKS, f"{label}.stopped"), "w").close()
    return value


@dg.job(executor_def=dg.celery_executor)
def chain():
    add_one(add_one(start()))


@dg.job(executor_def=dg.celery_executor)
def sleepy():
    add_one(slow(start()))


@dg.job(executor_def=dg.in_process_executor)
def quick():
    """For scenarios about queueing and launching, where a run's steps need not cross the step workers."""
    add_one(start())


@dg.schedule(cron_schedule="* * * * *", job=chain, default_status=dg.DefaultScheduleStatus.STOPPED)
def every_minute(context):
    return dg.RunRequest(tags={"origin": "schedule"})


@dg.sensor(job=chain, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.STOPPED)
def windows(context):
    return dg.RunRequest(run_key=f"window-{int(time.time()) // 5}", tags={"origin": "sensor"})


defs = dg.Definitions(jobs=[chain, sleepy, quick], schedules=[every_minute], sensors=[windows])
