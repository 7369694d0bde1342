"""The root GraphQL schema: every app's query and mutation fields, composed once."""

from importlib.metadata import PackageNotFoundError, version

import graphene

from runs.schema import INTERFACE_ONLY_TYPES as RUN_TYPES
from runs.schema import RunMutations, RunQueries


class Query(RunQueries, graphene.ObjectType):
    version = graphene.NonNull(graphene.String, description="The Orchestra version serving this API.")

    def resolve_version(root, info) -> str:
        try:
            return version("orchestra-django")
        except PackageNotFoundError:
            return "unknown"


class Mutation(RunMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, types=[*RUN_TYPES])
