"""The ops and graphs both re-execution suites run: in process (tests/sdk/test_reexecution.py) and in a code
location's run worker (tests/runs/test_reexecution.py). A step fails while its flag is set in `FLAGS` (in
process) or a file of that name exists in a folder of `MARKS` (set by the code location's definitions file,
so every process that loads it sees it)."""

from __future__ import annotations

import os

import orchestra as dg

FLAGS: dict[str, bool] = {}
MARKS: list[str] = []


def failing(flag: str) -> bool:
    return FLAGS.get(flag, False) or any(os.path.exists(os.path.join(marks, flag)) for marks in MARKS)


@dg.op
def a():
    return 1


@dg.op
def b(x):
    if failing("fail_b"):
        raise Exception("b failed")
    return x + 1


@dg.op
def c(y):
    return y * 10


@dg.op
def d():
    return "d"


@dg.graph
def chain_graph():
    c(b(a()))
    d()


@dg.op(out=dg.DynamicOut())
def fan():
    for key in ["x", "y", "z"]:
        yield dg.DynamicOutput(key, mapping_key=key)


@dg.op
def each(value):
    if value == "y" and failing("fail_y"):
        raise Exception("y failed")
    return value.upper()


@dg.op
def gather(values):
    return "".join(sorted(values))


@dg.graph
def dynamic_graph():
    gather(fan().map(each).collect())
