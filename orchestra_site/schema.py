"""The root GraphQL schema: every app's query and mutation fields, composed once."""

from importlib.metadata import PackageNotFoundError, version

import graphene

from core.graphql import PermissionGrant, permission_grants
from core.guards import guard_mutations
from runs.permissions import MUTATION_RULES as RUN_RULES
from runs.schema import INTERFACE_ONLY_TYPES as RUN_TYPES
from runs.schema import RunMutations, RunQueries
from runs.schema_instance import InstanceQueries
from runs.schema_launch import INTERFACE_ONLY_TYPES as LAUNCH_TYPES
from runs.schema_launch import LaunchMutations, LaunchQueries
from scheduling.permissions import MUTATION_RULES as SCHEDULING_RULES
from scheduling.schema import TYPES as SCHEDULING_TYPES
from scheduling.schema import SchedulingMutations, SchedulingQueries
from workspace.permissions import MUTATION_RULES as WORKSPACE_RULES
from workspace.schema import WorkspaceMutations, WorkspaceQueries
from workspace.schema_graph import GRAPH_TYPES, LineageQueries


class Query(RunQueries, WorkspaceQueries, LaunchQueries, InstanceQueries, SchedulingQueries, LineageQueries,
            graphene.ObjectType):
    version = graphene.NonNull(graphene.String, description="The Orchestra version serving this API.")
    permissions = graphene.NonNull(graphene.List(graphene.NonNull(PermissionGrant)),
                                   description="What the caller may do instance-wide (Dagster's permission names).")

    def resolve_permissions(root, info) -> list[PermissionGrant]:
        return permission_grants(info.context)

    def resolve_version(root, info) -> str:
        try:
            return version("orchestra-django")
        except PackageNotFoundError:
            return "unknown"


class Mutation(RunMutations, LaunchMutations, WorkspaceMutations, SchedulingMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, types=[*RUN_TYPES, *LAUNCH_TYPES, *SCHEDULING_TYPES, *GRAPH_TYPES])

# Every mutation field -> the permission it needs and where; a field missing here is refused.
MUTATION_RULES = {**RUN_RULES, **WORKSPACE_RULES, **SCHEDULING_RULES}
guard_mutations(schema, MUTATION_RULES)
