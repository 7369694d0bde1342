"""GraphQL building blocks shared by every app's schema: Dagster's error types and the error boundary."""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import Any

import graphene
from graphene_django.views import GraphQLView
from graphql import GraphQLError

logger = logging.getLogger(__name__)


class Error(graphene.Interface):
    """Dagster's `Error` interface: every error type of a result union has a message."""

    message = graphene.NonNull(graphene.String)


class PythonError(graphene.ObjectType):
    """An unexpected exception, returned as data in a result union (Dagster's `PythonError`)."""

    class Meta:
        interfaces = (Error,)

    className = graphene.String()
    stack = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    cause = graphene.Field(lambda: PythonError)
    causes = graphene.NonNull(graphene.List(graphene.NonNull(lambda: PythonError)))

    @classmethod
    def from_exception(cls, exc: BaseException) -> PythonError:
        cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        return cls(
            message=f"{type(exc).__name__}: {exc}",
            className=type(exc).__name__,
            stack=traceback.format_tb(exc.__traceback__),
            cause=cls.from_exception(cause) if cause is not None else None,
        )

    @classmethod
    def from_error_data(cls, data: dict[str, Any]) -> PythonError:
        """An error stored as data (`{cls_name, message, stack, cause}`, e.g. a code location's load error)."""
        cause = data.get("cause")
        return cls(
            message=str(data.get("message") or ""),
            className=data.get("cls_name"),
            stack=[str(line) for line in data.get("stack") or []],
            cause=cls.from_error_data(cause) if isinstance(cause, dict) else None,
        )

    def resolve_causes(self, info) -> list[PythonError]:
        chain, link = [], self.cause
        while link is not None:
            chain.append(link)
            link = link.cause
        return chain


class AssetKey(graphene.ObjectType):
    """An asset key as its path (Dagster's `AssetKey`); used by runs' events and the workspace's asset nodes."""

    path = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


class AssetKeyInput(graphene.InputObjectType):
    path = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


class UnauthorizedError(graphene.ObjectType):
    """The caller may not perform this action (Dagster's `UnauthorizedError`)."""

    class Meta:
        interfaces = (Error,)


def errors_as_data(resolver: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an unexpected exception in a result-union resolver into a `PythonError` member.

    Expected outcomes (not found, unauthorized, ...) are the resolver's own union members; anything
    else is logged with its traceback and answered as data, as Dagster does, instead of a failed request.
    """

    @functools.wraps(resolver)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return resolver(*args, **kwargs)
        except Exception as exc:
            logger.exception("GraphQL resolver %s failed", resolver.__qualname__)
            return PythonError.from_exception(exc)

    return wrapper


class InputRefused(GraphQLError):
    """Raised by a resolver outside a result union to refuse its arguments: answered 400, never 500."""


class OrchestraGraphQLView(GraphQLView):
    """graphene-django's view with Dagster's status codes: a resolver that raised answers 500.

    Parse and validation errors stay 400 (graphene-django's own rule); errors caught into a result
    union are data and answer 200. The body is JSON in every case.
    """

    def execute_graphql_request(self, request, *args, **kwargs):
        result = super().execute_graphql_request(request, *args, **kwargs)
        originals = [getattr(e, "original_error", None) for e in (result.errors or [])] if result else []
        request.graphql_resolver_failed = any(o is not None and not isinstance(o, InputRefused) for o in originals)
        request.graphql_input_refused = any(isinstance(o, InputRefused) for o in originals)
        return result

    def get_response(self, request, data, show_graphiql=False):
        result, status_code = super().get_response(request, data, show_graphiql)
        if status_code == 200 and getattr(request, "graphql_resolver_failed", False):
            status_code = 500
        elif status_code == 200 and getattr(request, "graphql_input_refused", False):
            status_code = 400
        return result, status_code
