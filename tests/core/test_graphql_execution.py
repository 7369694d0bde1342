"""`core.graphql_execution.SyncExecutionContext` answers exactly what graphql-core's own execution answers:
the same data, and the same errors at the same paths, including null propagation through non-null
fields, failing list items, unions, interfaces, enums and arguments with defaults."""

from __future__ import annotations

import graphene
import pytest
from graphql import ExecutionContext, execute, parse

from core.graphql_execution import SyncExecutionContext


class Color(graphene.Enum):
    RED = "RED"
    BLUE = "BLUE"


class Named(graphene.Interface):
    name = graphene.String()


class Tag(graphene.ObjectType):
    key = graphene.NonNull(graphene.String)
    value = graphene.String()


class Thing(graphene.ObjectType):
    class Meta:
        interfaces = (Named,)

    size = graphene.Int()
    color = graphene.Field(Color)
    tags = graphene.NonNull(graphene.List(graphene.NonNull(Tag)))
    maybe_tags = graphene.List(Tag)
    broken = graphene.String()
    must = graphene.NonNull(graphene.String)
    greeting = graphene.String(greeting=graphene.String(default_value="hello"))

    def resolve_size(thing, info):
        return len(thing["name"])

    def resolve_broken(thing, info):
        raise ValueError(f"broken {thing['name']}")

    def resolve_must(thing, info):
        return None if thing["name"] == "b" else thing["name"]

    def resolve_greeting(thing, info, greeting):
        return f"{greeting} {thing['name']}"


class Missing(graphene.ObjectType):
    reason = graphene.String()


class ThingOrMissing(graphene.Union):
    class Meta:
        types = (Thing, Missing)

    @classmethod
    def resolve_type(cls, instance, info):
        return Thing if "name" in instance else Missing


class Query(graphene.ObjectType):
    things = graphene.List(Thing)
    strict_things = graphene.NonNull(graphene.List(graphene.NonNull(Thing)))
    either = graphene.List(ThingOrMissing)
    named = graphene.List(Named)

    def resolve_things(root, info):
        return ROWS

    def resolve_strict_things(root, info):
        return ROWS

    def resolve_either(root, info):
        return [ROWS[0], {"reason": "gone"}]

    def resolve_named(root, info):
        return ROWS[:1]


ROWS = [
    {"name": "a", "color": "RED", "tags": [{"key": "k", "value": "v"}, {"key": "x"}],
     "maybe_tags": [{"key": "k"}, {"value": "no key"}]},
    {"name": "b", "color": "BLUE", "tags": [{"key": None, "value": "v"}], "maybe_tags": None},
]

SCHEMA = graphene.Schema(query=Query).graphql_schema

QUERIES = {
    "leaves and defaults": "{ things { name size color tags { key value } greeting other: greeting(greeting: \"hi\") } }",
    "a resolver raises": "{ things { name broken } }",
    "null in a non-null leaf": "{ things { name must } }",
    "null propagates to a non-null list": "{ strictThings { name must } }",
    "a failing list item": "{ things { maybeTags { key value } } }",
    "null in a non-null item": "{ things { tags { key } } }",
    "union and interface": "{ either { __typename ... on Thing { name } ... on Missing { reason } } "
                           "named { __typename name ... on Thing { size } } }",
}


def _run(query: str, context_class):
    result = execute(SCHEMA, parse(query), execution_context_class=context_class)
    return result.data, sorted((e.message, tuple(e.path or ())) for e in result.errors or [])


@pytest.mark.parametrize("query", list(QUERIES.values()), ids=list(QUERIES))
def test_the_synchronous_execution_answers_as_graphql_core_does(query):
    expected = _run(query, ExecutionContext)
    assert _run(query, SyncExecutionContext) == expected
    assert expected[0] is not None or expected[1]  # each query answers something worth comparing
