"""The root GraphQL schema: every app's query and mutation fields, composed once."""

from importlib.metadata import PackageNotFoundError, version

import graphene

from runs.schema import INTERFACE_ONLY_TYPES as RUN_TYPES
from runs.schema import RunMutations, RunQueries
from runs.schema_instance import InstanceQueries
from runs.schema_launch import INTERFACE_ONLY_TYPES as LAUNCH_TYPES
from runs.schema_launch import LaunchMutations, LaunchQueries
from scheduling.schema import TYPES as SCHEDULING_TYPES
from scheduling.schema import SchedulingMutations, SchedulingQueries
from workspace.schema import WorkspaceMutations, WorkspaceQueries


class Query(RunQueries, WorkspaceQueries, LaunchQueries, InstanceQueries, SchedulingQueries,
            graphene.ObjectType):
    version = graphene.NonNull(graphene.String, description="The Orchestra version serving this API.")

    def resolve_version(root, info) -> str:
        try:
            return version("orchestra-django")
        except PackageNotFoundError:
            return "unknown"


class Mutation(RunMutations, LaunchMutations, WorkspaceMutations, SchedulingMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, types=[*RUN_TYPES, *LAUNCH_TYPES, *SCHEDULING_TYPES])
