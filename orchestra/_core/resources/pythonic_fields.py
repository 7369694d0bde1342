"""Resource attributes that hold other resources: `ResourceDependency`, and the metaclass that
keeps such attributes out of pydantic validation and out of the config schema."""

from __future__ import annotations

import sys
import types
import typing
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin

from pydantic._internal._model_construction import ModelMetaclass

from orchestra._core.resources.definition import TreatAsResourceParam

V = TypeVar("V")


class ResourceDependency(Generic[V]):
    """Annotate a resource attribute as `ResourceDependency[T]` to hold any resource (a function
    resource, a plain value, ...) rather than config.

    Example:
        ```python
        @dg.resource
        def credentials():
            return "secret"

        class Client(dg.ConfigurableResource):
            credentials: dg.ResourceDependency[str]

        defs = dg.Definitions(assets=[a], resources={"client": Client(credentials=credentials)})
        ```
    """


class ResourceFieldMarker:
    """Annotated metadata on a resource attribute that holds another resource (not config)."""

    def __init__(self, original: Any):
        self.original = original

    def __repr__(self) -> str:
        return f"resource field {self.original!r}"


def _is_resource_annotation(annotation: Any) -> bool:
    if get_origin(annotation) is ResourceDependency:
        return True
    if get_origin(annotation) is Annotated:
        return _is_resource_annotation(get_args(annotation)[0])
    if get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return bool(members) and all(_is_resource_annotation(a) for a in members)
    return isinstance(annotation, type) and issubclass(annotation, TreatAsResourceParam)


class ResourceMeta(ModelMetaclass):
    """Turns attributes annotated with a resource type into untyped, config-less fields.

    Such an attribute may hold a configured resource, a `configure_at_launch()` partial or a
    resource definition, none of which pydantic could validate against the declared type.
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> Any:
        annotations = dict(namespace.get("__annotations__", {}))
        module = sys.modules.get(namespace.get("__module__", ""))
        scope = dict(vars(module)) if module is not None else {}
        # A class defined inside a function may name other local classes in its annotations; pydantic
        # would look for them one frame too deep (here), so hand it the defining frame's locals.
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name == "__new__":
            frame = frame.f_back
        caller_locals = None
        if frame is not None and frame.f_code.co_name != "<module>":
            caller_locals = dict(frame.f_locals)
            scope.update(caller_locals)
        if "__pydantic_reset_parent_namespace__" not in kwargs:
            kwargs["__pydantic_reset_parent_namespace__"] = False
            namespace["__pydantic_parent_namespace__"] = caller_locals
        for attr, annotation in annotations.items():
            resolved = annotation
            if isinstance(annotation, str):
                try:
                    resolved = eval(annotation, scope, dict(namespace))  # noqa: S307 - the class's own annotation
                except Exception:
                    continue
            if get_origin(resolved) is typing.ClassVar:
                continue
            if _is_resource_annotation(resolved):
                annotations[attr] = Annotated[Any, ResourceFieldMarker(resolved)]
        namespace["__annotations__"] = annotations
        return super().__new__(mcs, name, bases, namespace, **kwargs)
