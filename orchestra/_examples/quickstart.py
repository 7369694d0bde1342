"""The example `orchestra dev` serves when the current directory has no workspace.

Written exactly as a Dagster user would write it; only the import line differs.
"""

import orchestra as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


class OrdersConfig(dg.Config):
    min_amount: float = 0.0


@dg.asset(group_name="sales", kinds={"python"})
def raw_orders(context: dg.AssetExecutionContext) -> list[dict]:
    """Orders as they arrive from the shop."""
    orders = [{"id": i, "amount": 10.0 * i, "region": "eu" if i % 2 else "us"} for i in range(1, 21)]
    context.log.info(f"fetched {len(orders)} orders")
    return orders


@dg.asset(group_name="sales")
def large_orders(config: OrdersConfig, raw_orders: list[dict]) -> dg.Output[list[dict]]:
    """Orders at or above the configured amount."""
    kept = [o for o in raw_orders if o["amount"] >= config.min_amount]
    return dg.Output(kept, metadata={"kept": len(kept), "dropped": len(raw_orders) - len(kept)})


@dg.asset(group_name="reporting", partitions_def=daily)
def revenue_by_region(context: dg.AssetExecutionContext, large_orders: list[dict]) -> dict[str, float]:
    """Revenue per region for one day."""
    totals: dict[str, float] = {}
    for order in large_orders:
        totals[order["region"]] = totals.get(order["region"], 0.0) + order["amount"]
    context.add_output_metadata({"day": context.partition_key, "regions": len(totals)})
    return totals


@dg.asset_check(asset=large_orders)
def no_negative_amounts(large_orders: list[dict]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(o["amount"] >= 0 for o in large_orders))


@dg.op
def say_hello(context: dg.OpExecutionContext) -> str:
    context.log.info("hello from Orchestra")
    return "hello"


@dg.job
def hello_job():
    say_hello()


sales_job = dg.define_asset_job("sales_job", selection=dg.AssetSelection.groups("sales"))
hourly_hello = dg.ScheduleDefinition(job=hello_job, cron_schedule="0 * * * *")


@dg.sensor(job=hello_job, minimum_interval_seconds=60)
def every_minute(context: dg.SensorEvaluationContext):
    last = int(context.cursor or 0)
    context.update_cursor(str(last + 1))
    return dg.RunRequest(run_key=f"tick-{last + 1}")


defs = dg.Definitions(
    assets=[raw_orders, large_orders, revenue_by_region],
    asset_checks=[no_negative_amounts],
    jobs=[hello_job, sales_job],
    schedules=[hourly_hello],
    sensors=[every_minute],
)
