"""A module-level job for `reconstructable` (rebuilt by module and attribute name)."""

import orchestra as dg


@dg.op(config_schema={"n": dg.Field(int, default_value=2)})
def base(context) -> int:
    return context.op_config["n"]


@dg.op
def square(x: int) -> int:
    return x * x


@dg.job
def sq_job():
    square(base())
