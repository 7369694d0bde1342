"""GraphQL building blocks shared by every app's schema: Dagster's error types and the error boundary."""

from __future__ import annotations

import functools
import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

import graphene
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseBadRequest
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, parse, validate

from core.graphql_execution import SyncExecutionContext

logger = logging.getLogger(__name__)

# Query text -> its parsed document, for texts that parsed and validated against the schema.
_VALID_DOCUMENTS: dict[str, Any] = {}
_VALID_DOCUMENTS_MAX = 1000


def _never_awaitable(value: Any) -> bool:
    """Every resolver is synchronous (a WSGI-style view), so graphql-core need not inspect each value
    for an awaitable: its check ran for every field of every row, about 7% of a runs page."""
    return False


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
        except InputRefused:
            raise
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

    def parse_body(self, request):
        # Hostile bodies are the client's error: too big is 413, too deep or not Unicode is 400.
        try:
            request.body  # noqa: B018 - reading it applies DATA_UPLOAD_MAX_MEMORY_SIZE
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            raise HttpError(HttpResponse(status=413), f"The request body is over {limit} bytes "
                            "(DATA_UPLOAD_MAX_MEMORY_SIZE).") from None
        try:
            data = super().parse_body(request)
        except RecursionError:
            raise HttpError(HttpResponseBadRequest(), "The request body is nested too deeply.") from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise HttpError(HttpResponseBadRequest(), "The request body holds a lone surrogate (\\udXXX), "
                            "which is not valid Unicode.") from None
        except RecursionError:
            raise HttpError(HttpResponseBadRequest(), "The request body is nested too deeply.") from None
        return data

    def execute_graphql_request(self, request, *args, **kwargs):
        result = self._execute_query_from_cache(request, *args, **kwargs)
        originals = [getattr(e, "original_error", None) for e in (result.errors or [])] if result else []
        request.graphql_resolver_failed = any(o is not None and not isinstance(o, InputRefused) for o in originals)
        request.graphql_input_refused = any(isinstance(o, InputRefused) for o in originals)
        return result

    def _execute_query_from_cache(self, request, data, query, variables, operation_name, show_graphiql=False):
        """graphene-django's execution, minus parsing and validating a query text seen before.

        Validation costs more than resolving a page of runs, and clients send the same few query
        texts again and again. Only documents that parsed and validated are cached; errors,
        mutations and operations sent over GET take graphene-django's path unchanged.
        """
        schema = self.schema.graphql_schema
        document = _VALID_DOCUMENTS.get(query) if query else None
        if document is None and query:
            try:
                parsed = parse(query)
            except Exception:
                parsed = None
            if parsed is not None and not validate(schema, parsed, self.validation_rules,
                                                   graphene_settings.MAX_VALIDATION_ERRORS):
                if len(_VALID_DOCUMENTS) >= _VALID_DOCUMENTS_MAX:
                    _VALID_DOCUMENTS.clear()
                _VALID_DOCUMENTS[query] = document = parsed
        operation = get_operation_ast(document, operation_name) if document is not None else None
        if operation is None or operation.operation != OperationType.QUERY or request.method.lower() != "post":
            return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
        try:
            return execute(schema, document, root_value=self.get_root_value(request),
                           context_value=self.get_context(request), variable_values=variables,
                           operation_name=operation_name, middleware=self.get_middleware(request),
                           is_awaitable=_never_awaitable,
                           execution_context_class=self.execution_context_class or SyncExecutionContext)
        except Exception as exc:
            return ExecutionResult(errors=[exc])

    def get_response(self, request, data, show_graphiql=False):
        result, status_code = super().get_response(request, data, show_graphiql)
        if status_code == 200 and getattr(request, "graphql_resolver_failed", False):
            status_code = 500
        elif status_code == 200 and getattr(request, "graphql_input_refused", False):
            status_code = 400
        return result, status_code


class PermissionGrant(graphene.ObjectType):
    """One action and whether the caller may take it (Dagster's `Permission`), named as Dagster's."""

    class Meta:
        name = "Permission"

    permission = graphene.NonNull(graphene.String)
    value = graphene.NonNull(graphene.Boolean)
    disabledReason = graphene.String()


def permission_grants(request: Any, location: str | None = None) -> list[PermissionGrant]:
    """Every permission of the caller of `request`, in code location `location` (else instance-wide)."""
    from core.permissions import least_role
    from core.selectors import permissions_for

    where = f" in code location {location!r}" if location else ""
    return [
        PermissionGrant(permission=permission.value, value=held,
                        disabledReason=None if held else f"Requires the {least_role(permission).label} role{where}.")
        for permission, held in permissions_for(request=request, location=location).items()
    ]
