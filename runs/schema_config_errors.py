"""Run config errors as GraphQL types (Dagster's `PipelineConfigValidationError` family and its
evaluation stack), built from the `{message, path, reason}` errors of `RunConfigInvalid`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

import graphene
from graphene.types.generic import GenericScalar

EvaluationErrorReason = graphene.Enum(
    "EvaluationErrorReason",
    [(r, r) for r in ("RUNTIME_TYPE_MISMATCH", "MISSING_REQUIRED_FIELD", "MISSING_REQUIRED_FIELDS",
                      "FIELD_NOT_DEFINED", "FIELDS_NOT_DEFINED", "SELECTOR_FIELD_ERROR")],
)


class EvaluationStackPathEntry(graphene.ObjectType):
    fieldName = graphene.NonNull(graphene.String)


class EvaluationStackListItemEntry(graphene.ObjectType):
    listIndex = graphene.NonNull(graphene.Int)


class EvaluationStackMapKeyEntry(graphene.ObjectType):
    mapKey = graphene.NonNull(GenericScalar)


class EvaluationStackMapValueEntry(graphene.ObjectType):
    mapKey = graphene.NonNull(GenericScalar)


class EvaluationStackEntry(graphene.Union):
    class Meta:
        types = (EvaluationStackListItemEntry, EvaluationStackPathEntry, EvaluationStackMapKeyEntry,
                 EvaluationStackMapValueEntry)


class EvaluationStack(graphene.ObjectType):
    entries = graphene.NonNull(graphene.List(graphene.NonNull(EvaluationStackEntry)))


_LIST_ITEM = re.compile(r"^\[(\d+)\]$")


def evaluation_stack(path: list[str]) -> EvaluationStack:
    """The stack an error's path stands for: `[i]` is a list item, `<key>:key` / `<key>:value` a map entry
    (the key as written by `repr`), anything else a field name."""
    entries: list[Any] = []
    for part in path:
        item = _LIST_ITEM.match(part)
        if item:
            entries.append(EvaluationStackListItemEntry(listIndex=int(item.group(1))))
        elif part.endswith((":key", ":value")):
            key, _, side = part.rpartition(":")
            kind = EvaluationStackMapKeyEntry if side == "key" else EvaluationStackMapValueEntry
            entries.append(kind(mapKey=_literal(key)))
        else:
            entries.append(EvaluationStackPathEntry(fieldName=part))
    return EvaluationStack(entries=entries)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


class PipelineConfigValidationError(graphene.Interface):
    message = graphene.NonNull(graphene.String)
    path = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    stack = graphene.NonNull(EvaluationStack)
    reason = graphene.NonNull(EvaluationErrorReason)

    def resolve_stack(error: Any, info) -> EvaluationStack:
        return evaluation_stack(error.path)


class FieldNotDefinedConfigError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationError,)

    fieldName = graphene.NonNull(graphene.String)


class FieldsNotDefinedConfigError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationError,)

    fieldNames = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


class MissingFieldConfigError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationError,)


class MissingFieldsConfigError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationError,)


class RuntimeMismatchConfigError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationError,)

    valueRep = graphene.String()


class SelectorTypeConfigError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationError,)

    incomingFields = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


CONFIG_ERROR_TYPES = (FieldNotDefinedConfigError, FieldsNotDefinedConfigError, MissingFieldConfigError,
                      MissingFieldsConfigError, RuntimeMismatchConfigError, SelectorTypeConfigError)


def config_error(error: Mapping[str, Any]) -> graphene.ObjectType:
    """The typed member for one `{message, path, reason, ...}` error of `RunConfigInvalid.errors`."""
    reason = str(error.get("reason") or "RUNTIME_TYPE_MISMATCH")
    common = {"message": str(error.get("message", "")), "path": [str(p) for p in error.get("path") or []]}
    if reason == "FIELD_NOT_DEFINED":
        named = re.search(r'"([^"]+)"', common["message"])
        field_name = error.get("field_name") or (named.group(1) if named else "")
        return FieldNotDefinedConfigError(reason=reason, fieldName=str(field_name), **common)
    if reason == "FIELDS_NOT_DEFINED":
        return FieldsNotDefinedConfigError(reason=reason, fieldNames=list(error.get("field_names") or []), **common)
    if reason == "MISSING_REQUIRED_FIELD":
        return MissingFieldConfigError(reason=reason, **common)
    if reason == "MISSING_REQUIRED_FIELDS":
        return MissingFieldsConfigError(reason=reason, **common)
    if reason == "SELECTOR_FIELD_ERROR":
        return SelectorTypeConfigError(reason=reason, incomingFields=list(error.get("incoming_fields") or []),
                                       **common)
    # Reasons Dagster's GraphQL enum lacks (post-processing failures, alias collisions) are type mismatches.
    return RuntimeMismatchConfigError(reason="RUNTIME_TYPE_MISMATCH", valueRep=error.get("value_rep"), **common)
