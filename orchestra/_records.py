"""`Record`: an immutable object made of named fields, with the value semantics of a frozen dataclass."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar


class Record:
    """Immutable named fields, compared, hashed and shown by value.

    The fields are the class's annotated attributes, in order (a subclass's after its base's); a
    value given in the class body is the field's default. They are set by position or keyword, then
    never change. A record equals, and hashes like, a record of the same class with equal fields; it
    shows as `Name(field=value, ...)`, and `__match_args__` lists its fields. A subclass with its own
    `__init__` sets its fields with `object.__setattr__`.

    This is what `@dataclass(frozen=True)` gives, written once: a dataclass generates each class's
    methods with `exec` when the class is defined, ~0.4 ms a class, and defining the SDK's selections,
    run requests and config errors that way took ~6 ms of loading a code location.

    Example:
        >>> class Point(Record):
        ...     x: int
        ...     y: int = 0
        >>> Point(1) == Point(x=1, y=0), Point(1)
        (True, Point(x=1, y=0))
    """

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        annotations = cls.__dict__.get("__annotations__", {})
        own = tuple(
            name for name, annotation in annotations.items()
            if name not in cls._fields and not str(annotation).startswith(("ClassVar", "typing.ClassVar"))
        )
        cls._fields = (*cls._fields, *own)
        cls.__match_args__ = cls._fields

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls, names = type(self), self._fields
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} positional arguments but {len(args)} were given")
        values = dict(zip(names, args, strict=False))  # fewer arguments than fields: the rest by keyword or default
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            values[name] = value
        for name in names:
            if name in values:
                object.__setattr__(self, name, values[name])
            elif hasattr(cls, name):
                object.__setattr__(self, name, getattr(cls, name))
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
