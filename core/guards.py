"""The permission every state-changing edge needs, checked in one place per edge before it runs.

Each app declares a table from its GraphQL mutation fields and its REST operations to a `Rule`: the
`Permission` and how to find the code location the action touches (launch and re-execute: the job's
location; terminate and delete: the run's; schedules, sensors and backfills: theirs; reload: that
location; no locator for instance-wide actions). The composition root (`orchestra_site`) merges the
tables and installs them: `guard_mutations` wraps every root mutation field's resolver, and
`guard_operations` adds a ninja decorator to every operation. Both fail closed: a mutation or a
non-GET operation missing from its table is refused, so a new one cannot slip through unchecked (and
`tests/core/test_permissions_generated.py` names it).

A locator gets the edge's own arguments (the GraphQL arguments, or ninja's parsed parameters) and
answers a location name, or None when it cannot tell (an unknown run, say): None asks for the
permission instance-wide, the stricter question, and the resolver then answers its not-found error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied

from core.permissions import Permission, has_permission

Locator = Callable[..., str | None]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Rule:
    """What one edge needs: `permission` in the location `location(**arguments)` answers.

    Without `location` the action is instance-wide (reload the workspace, wipe assets).
    `per_item` marks an edge that acts on several objects and answers each on its own (Dagster's
    `terminateRuns`): the guard leaves the check to the resolver, which asks `allowed` per object.
    """

    permission: Permission
    location: Locator | None = None
    per_item: bool = False


def denied_message(permission: Permission, location: str | None = None) -> str:
    where = f" in code location {location!r}" if location else ""
    return f"You do not have permission to {permission.value.replace('_', ' ')}{where}."


def allowed(request: Any, rule: Rule, arguments: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether the caller of `request` passes `rule` for these arguments, and the location asked about."""
    location = rule.location(**arguments) if rule.location is not None else None
    return has_permission(request, rule.permission, location), location


# --- GraphQL ----------------------------------------------------------------------------------------


def guard_mutations(schema: Any, rules: Mapping[str, Rule]) -> None:
    """Check `rules` before every root mutation field of the graphene `schema` resolves.

    A denied caller gets Dagster's `UnauthorizedError` (a member of every mutation's result union); a
    field without a rule is refused the same way.
    """
    mutation = schema.graphql_schema.mutation_type
    if mutation is None:
        return
    for name, field in mutation.fields.items():
        field.resolve = _guarded_resolver(name, rules.get(name), field.resolve)


def _guarded_resolver(name: str, rule: Rule | None, resolver: Callable[..., Any]) -> Callable[..., Any]:
    from core.graphql import UnauthorizedError

    @functools.wraps(resolver)
    def resolve(root: Any, info: Any, **arguments: Any) -> Any:
        if rule is None:
            return UnauthorizedError(message=f"The mutation {name} declares no permission, so it is refused.")
        if not rule.per_item:
            ok, location = allowed(info.context, rule, arguments)
            if not ok:
                return UnauthorizedError(message=denied_message(rule.permission, location))
        return resolver(root, info, **arguments)

    resolve.orchestra_rule = rule  # type: ignore[attr-defined]
    return resolve


# --- REST (django-ninja) ----------------------------------------------------------------------------


def operation_id(view_func: Callable[..., Any]) -> str:
    """The OpenAPI operationId ninja gives a handler (`<module>_<function>`, dots as underscores)."""
    return f"{view_func.__module__}_{view_func.__name__}".replace(".", "_")


def operation_rules(table: Mapping[Callable[..., Any], Rule]) -> dict[str, Rule]:
    """An app's table keyed by handler function, re-keyed by operationId."""
    return {operation_id(view_func): rule for view_func, rule in table.items()}


def guard_operations(api: Any, rules: Mapping[str, Rule]) -> None:
    """Check `rules` before every state-changing operation of the ninja `api` runs its handler.

    A denied caller gets 403 (Django's PermissionDenied, which the API answers as
    `{"code": "forbidden", "message": ...}`); a non-GET operation without a rule is refused the same way.
    """
    api.add_decorator(functools.partial(_guarded_handler, rules=rules), mode="operation")


def _guarded_handler(view_func: Callable[..., Any], *, rules: Mapping[str, Rule]) -> Callable[..., Any]:
    key = operation_id(view_func)

    @functools.wraps(view_func)
    def handler(request: Any, **arguments: Any) -> Any:
        if request.method not in SAFE_METHODS:
            rule = rules.get(key)
            if rule is None:
                raise PermissionDenied(f"The operation {key} declares no permission, so it is refused.")
            ok, location = allowed(request, rule, arguments)
            if not ok:
                raise PermissionDenied(denied_message(rule.permission, location))
        return view_func(request, **arguments)

    return handler


# --- the admin site ---------------------------------------------------------------------------------


def admin_allowed(model_admin: Any, request: Any, permission: Permission, location: str | None) -> bool:
    """Whether an admin action may act on one object (in `location`); tells the user when not.

    The admin site already requires the admin role; this keeps its actions under the same permission
    map as every other edge (and a location-scoped grant scoped).
    """
    if has_permission(request, permission, location):
        return True
    from django.contrib import messages

    model_admin.message_user(request, denied_message(permission, location), messages.ERROR)
    return False
