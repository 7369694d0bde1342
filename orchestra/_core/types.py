"""Runtime type checks on op inputs and outputs: `DagsterType`, `PythonObjectDagsterType`, `TypeCheck`.

`resolve_dagster_type` maps what users write (a builtin marker, a Python class, a typing hint, a
DagsterType) to one DagsterType, cached so the per-step path never re-resolves.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from typing import Any

from orchestra._builtins import BuiltinEnum
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class TypeCheck:
    """The result of a type check: `success`, with an optional description and metadata.

    Example:
        >>> DagsterType(lambda _, v: TypeCheck(success=v > 0, description="positive"), name="Positive")
    """

    __slots__ = ("success", "description", "metadata")

    def __init__(self, success: bool, description: str | None = None, metadata: dict[str, Any] | None = None):
        self.success = bool(success)
        self.description = description
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"TypeCheck(success={self.success}, description={self.description!r}, metadata={self.metadata})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TypeCheck)
            and (self.success, self.description, self.metadata) == (other.success, other.description, other.metadata)
        )


_PASS = TypeCheck(True)


class TypeCheckContext:
    """What a type check function receives as its first argument."""

    def __init__(self, run_id: str | None = None, log: Any = None, resources: Any = None):
        self.run_id = run_id
        self.log = log
        self.resources = resources


class DagsterTypeLoaderContext:
    """What a type loader receives: the step's resources, log and op."""

    def __init__(self, resources: Any = None, log: Any = None, op_def: Any = None, run_id: str | None = None):
        self.resources = resources
        self.log = log
        self.op_def = op_def
        self.run_id = run_id


class DagsterTypeLoader:
    """Builds an unconnected input's value of a type from run config (`ops.<op>.inputs.<name>`)."""

    @property
    def schema_type(self) -> Any:
        raise NotImplementedError

    def construct_from_config_value(self, context: DagsterTypeLoaderContext, config_value: Any) -> Any:
        return config_value

    def required_resource_keys(self) -> frozenset[str]:
        return frozenset()


class _FunctionTypeLoader(DagsterTypeLoader):
    def __init__(self, config_schema: Any, fn: Callable[[DagsterTypeLoaderContext, Any], Any], resource_keys: Any):
        from orchestra._config import convert_potential_field

        self._config_type = convert_potential_field(config_schema).config_type
        self._fn = fn
        self._resource_keys = frozenset(resource_keys or ())

    @property
    def schema_type(self) -> Any:
        return self._config_type

    def construct_from_config_value(self, context: DagsterTypeLoaderContext, config_value: Any) -> Any:
        return self._fn(context, config_value)

    def required_resource_keys(self) -> frozenset[str]:
        return self._resource_keys


def dagster_type_loader(config_schema: Any, required_resource_keys: set[str] | None = None) -> Any:
    """Declare how a type's unconnected inputs are built from run config.

    Example:
        >>> @dagster_type_loader(config_schema={"path": str})
        ... def load_frame(context, config):
        ...     return read_frame(config["path"])
        >>> FrameType = DagsterType(name="Frame", type_check_fn=lambda _, v: True, loader=load_frame)
    """

    def decorate(fn: Callable[[DagsterTypeLoaderContext, Any], Any]) -> DagsterTypeLoader:
        return _FunctionTypeLoader(config_schema, fn, required_resource_keys)

    return decorate


class DagsterType:
    """A named runtime check on values passed between ops.

    Args:
        type_check_fn: `(context, value) -> bool | TypeCheck`.
        key, name: identifiers; `name` is shown in events ("of type ...").

    Example:
        >>> EvenInt = DagsterType(name="EvenInt", type_check_fn=lambda _, v: isinstance(v, int) and v % 2 == 0)
        >>> @op(out=Out(EvenInt))
        ... def two(): return 2
    """

    def __init__(
        self,
        type_check_fn: Callable[[Any, Any], Any],
        key: str | None = None,
        name: str | None = None,
        is_builtin: bool = False,
        description: str | None = None,
        loader: Any = None,
        required_resource_keys: set[str] | None = None,
        kind: str = "REGULAR",
        typing_type: Any = typing.Any,
        metadata: dict[str, Any] | None = None,
    ):
        if key is None and name is None:
            raise DagsterInvalidDefinitionError("DagsterType must have a key or a name.")
        self._type_check_fn = type_check_fn
        self.key = key or name
        self._name = name
        self.is_builtin = is_builtin
        self.description = description
        self.loader = loader
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.kind = kind
        self.typing_type = typing_type
        self.metadata = dict(metadata or {})

    @property
    def unique_name(self) -> str | None:
        return self._name

    @property
    def display_name(self) -> str:
        return self._name or self.key

    @property
    def is_nothing(self) -> bool:
        return self.kind == "NOTHING"

    @property
    def is_any(self) -> bool:
        return self.kind == "ANY"

    @property
    def supports_fan_in(self) -> bool:
        return False

    def type_check(self, context: Any, value: Any) -> TypeCheck:
        result = self._type_check_fn(context, value)
        if result is True:
            return _PASS
        if isinstance(result, bool):
            return TypeCheck(result)
        if isinstance(result, TypeCheck):
            return result
        raise DagsterInvariantViolationError(
            f"You have returned {result!r} of type {type(result)} from the type check function of type "
            f'"{self.key}". Return value must be instance of TypeCheck or a bool.'
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DagsterType) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"DagsterType(key={self.key!r})"


def _mismatch(value: Any, desc: str) -> TypeCheck:
    return TypeCheck(False, f'Value "{value}" of python type "{type(value).__name__}" must be a {desc}.')


def _scalar(name: str, py: type, desc: str, typing_type: Any) -> DagsterType:
    def check(_ctx: Any, value: Any) -> TypeCheck:
        return _PASS if isinstance(value, py) else _mismatch(value, desc)

    return DagsterType(check, key=name, name=name, is_builtin=True, kind="SCALAR", typing_type=typing_type)


Int = _scalar("Int", int, "int", int)
String = _scalar("String", str, "string", str)
Float = _scalar("Float", float, "float", float)
Bool = _scalar("Bool", bool, "bool", bool)
AnyType = DagsterType(lambda _c, _v: True, key="Any", name="Any", is_builtin=True, kind="ANY")


def _nothing_check(_ctx: Any, value: Any) -> TypeCheck:
    if value is None:
        return _PASS
    return TypeCheck(False, f"Value must be None or unset, got a {type(value)}")


NothingType = DagsterType(_nothing_check, key="Nothing", name="Nothing", is_builtin=True, kind="NOTHING", typing_type=type(None))


def _isinstance_check(py: Any, name: str, expected: str) -> Callable[[Any, Any], TypeCheck]:
    def check(_ctx: Any, value: Any) -> TypeCheck:
        if isinstance(value, py):
            return _PASS
        return TypeCheck(
            False,
            f"Value of type {type(value)} failed type check for Dagster type {name}, expected value to be "
            f"of Python type {expected}.",
        )

    return check


def _python_collection(py: type, key: str) -> DagsterType:
    """Dagster's untyped `PythonSet` / `PythonTuple`: what `set`, `tuple`, `Set` and `Tuple` resolve to."""
    name = py.__name__
    return DagsterType(_isinstance_check(py, name, name), key=key, name=name, is_builtin=True, typing_type=py)


PythonDict = _python_collection(dict, "PythonDict")
PythonSet = _python_collection(set, "PythonSet")
PythonTuple = _python_collection(tuple, "PythonTuple")

_BUILTINS = {
    BuiltinEnum.ANY: AnyType,
    BuiltinEnum.BOOL: Bool,
    BuiltinEnum.FLOAT: Float,
    BuiltinEnum.INT: Int,
    BuiltinEnum.STRING: String,
    BuiltinEnum.NOTHING: NothingType,
}
_PYTHON_BUILTINS: dict[Any, DagsterType] = {
    int: Int, str: String, float: Float, bool: Bool, dict: PythonDict, set: PythonSet, tuple: PythonTuple,
    type(None): NothingType,
    None: AnyType, typing.Any: AnyType, object: AnyType,
}


class PythonObjectDagsterType(DagsterType):
    """A DagsterType that checks `isinstance(value, python_type)`.

    Example:
        >>> DataFrameType = PythonObjectDagsterType(pd.DataFrame, name="PandasDataFrame")
    """

    def __init__(self, python_type: type | tuple[type, ...], key: str | None = None, name: str | None = None, **kwargs: Any):
        if isinstance(python_type, tuple):
            type_str = "Union[" + ", ".join(t.__name__ for t in python_type) + "]"
            name = name or type_str
        else:
            type_str = python_type.__name__
            name = name or python_type.__name__
        self.python_type = python_type
        self.type_str = type_str
        super().__init__(
            _isinstance_check(python_type, name, type_str), key=key or name, name=name,
            typing_type=kwargs.pop("typing_type", python_type), **kwargs,
        )


def _inferred(python_type: type) -> DagsterType:
    qualified = f"{python_type.__module__}.{python_type.__name__}"
    return DagsterType(
        _isinstance_check(python_type, python_type.__name__, qualified),
        key=f"_TypeHintInferred[{qualified}]", name=python_type.__name__, typing_type=python_type,
        description=f"DagsterType created from a type hint for the Python type {qualified}",
    )


def _optional(inner: DagsterType) -> DagsterType:
    def check(ctx: Any, value: Any) -> TypeCheck:
        return _PASS if value is None else inner.type_check(ctx, value)

    return DagsterType(check, key=f"Optional.{inner.key}", name=f"{inner.display_name}?", typing_type=typing.Optional[inner.typing_type])  # noqa: UP045


def _each_checked(ctx: Any, typed_values: Iterable[tuple[DagsterType, Any]]) -> TypeCheck:
    """The first failing check of the (type, value) pairs of a collection's items, else a pass."""
    for dagster_type, value in typed_values:
        result = dagster_type.type_check(ctx, value)
        if not result.success:
            return result
    return _PASS


def _list(inner: DagsterType) -> DagsterType:
    def check(ctx: Any, value: Any) -> TypeCheck:
        if not isinstance(value, list):
            return TypeCheck(False, f"Value must be a list, got {value}")
        return _PASS if inner is AnyType else _each_checked(ctx, ((inner, item) for item in value))

    return DagsterType(check, key=f"List.{inner.key}", name=f"[{inner.display_name}]", typing_type=list)


class _ListFactory:
    """`List[Int]`: Dagster's list type factory (what `list[int]` resolves to as well)."""

    def __getitem__(self, inner_type: Any) -> DagsterType:
        return _list(_wrappable(resolve_dagster_type(inner_type)))

    def __call__(self, inner_type: Any) -> DagsterType:
        return self[inner_type]


class _OptionalFactory:
    """`Optional[String]`: Dagster's type factory for a value that may be None."""

    def __getitem__(self, inner_type: Any) -> DagsterType:
        return _optional(_wrappable(resolve_dagster_type(inner_type)))


def _wrappable(inner: DagsterType) -> DagsterType:
    if inner.is_nothing:
        raise DagsterInvalidDefinitionError("Type Nothing can not be wrapped in List or Optional")
    return inner


class _DictFactory:
    """`Dict[String, Int]`: a dict whose keys and values are checked; `Dict` alone is any dict."""

    def __getitem__(self, key_and_value: tuple[Any, Any]) -> DagsterType:
        key_type, value_type = key_and_value
        return _typed_dict(resolve_dagster_type(key_type), resolve_dagster_type(value_type))


class _SetFactory:
    """`Set[Int]`: a set whose items are checked; `Set` alone is any set."""

    def __getitem__(self, item_type: Any) -> DagsterType:
        return _typed_set(resolve_dagster_type(item_type))


class _TupleFactory:
    """`Tuple[Int, String]`: a tuple of exactly these item types; `Tuple` alone is any tuple."""

    def __getitem__(self, item_types: Any) -> DagsterType:
        items = item_types if isinstance(item_types, tuple) else (item_types,)
        return _typed_tuple([resolve_dagster_type(item) for item in items])


List = _ListFactory()
Optional = _OptionalFactory()
Dict = _DictFactory()
Set = _SetFactory()
Tuple = _TupleFactory()


def _typed_dict(key_t: DagsterType, value_t: DagsterType) -> DagsterType:
    def check(ctx: Any, value: Any) -> TypeCheck:
        if not isinstance(value, dict):
            return TypeCheck(False, f"Value should be a dict, got a {type(value)}")
        return _each_checked(ctx, (pair for k, v in value.items() for pair in ((key_t, k), (value_t, v))))

    return DagsterType(
        check, key=f"TypedPythonDict.{key_t.key}.{value_t.key}",
        name=f"Dict[{key_t.display_name},{value_t.display_name}]", typing_type=dict,
    )


def _typed_set(item_t: DagsterType) -> DagsterType:
    def check(ctx: Any, value: Any) -> TypeCheck:
        if not isinstance(value, set):
            return TypeCheck(False, f"Value should be a set, got a{type(value)}")
        return _each_checked(ctx, ((item_t, item) for item in value))

    return DagsterType(check, key=f"TypedPythonSet.{item_t.key}", name=f"Set[{item_t.display_name}]", typing_type=set)


def _typed_tuple(item_ts: list[DagsterType]) -> DagsterType:
    key = "TypedPythonTuple" + ".".join(t.key for t in item_ts)

    def check(ctx: Any, value: Any) -> TypeCheck:
        if not isinstance(value, tuple):
            return TypeCheck(False, f"Value should be a tuple, got a {type(value)}")
        if len(value) != len(item_ts):
            return TypeCheck(False, f"Tuple with key {key} requires {len(item_ts)} entries, received {len(value)} values")
        return _each_checked(ctx, zip(item_ts, value, strict=True))

    name = "Tuple[" + ",".join(t.display_name for t in item_ts) + "]"
    return DagsterType(check, key=key, name=name, typing_type=tuple)


_CACHE: dict[Any, DagsterType] = {}


def resolve_dagster_type(dagster_type: Any) -> DagsterType:
    """Turn a builtin marker, Python type, typing hint or DagsterType into a DagsterType."""
    if isinstance(dagster_type, DagsterType):
        return dagster_type
    try:
        return _CACHE[dagster_type]
    except (KeyError, TypeError):
        pass
    resolved = _resolve(dagster_type)
    try:
        _CACHE[dagster_type] = resolved
    except TypeError:
        pass
    return resolved


def _resolve(t: Any) -> DagsterType:
    if isinstance(t, BuiltinEnum):
        return _BUILTINS[t]
    if isinstance(t, _DictFactory | _SetFactory | _TupleFactory):  # the bare `Dict`, `Set`, `Tuple`
        return {_DictFactory: PythonDict, _SetFactory: PythonSet, _TupleFactory: PythonTuple}[type(t)]
    if t in _PYTHON_BUILTINS:
        return _PYTHON_BUILTINS[t]
    if isinstance(t, type) and issubclass(t, DagsterType):
        raise DagsterInvalidDefinitionError(
            f"You passed the DagsterType class {t.__name__}; pass an instance of it instead."
        )
    registered = getattr(t, "_orchestra_dagster_type", None)
    if isinstance(registered, DagsterType):
        return registered
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin is typing.Union or (origin is not None and type(t).__name__ == "UnionType"):
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1 and len(args) == 2:
            return _optional(resolve_dagster_type(non_none[0]))
        return AnyType
    if origin is list:
        return _list(resolve_dagster_type(args[0]) if args else AnyType)
    if t is list:
        return _list(AnyType)
    if origin is dict:
        if args:
            return _typed_dict(resolve_dagster_type(args[0]), resolve_dagster_type(args[1]))
        return PythonDict
    if origin is set:
        return _typed_set(resolve_dagster_type(args[0])) if args else PythonSet
    if origin is tuple:
        return _typed_tuple([resolve_dagster_type(a) for a in args]) if args else PythonTuple
    if origin is not None:  # other generics (frozenset[...], Iterator[...]): check the origin class
        return _inferred(origin) if isinstance(origin, type) else AnyType
    if isinstance(t, type):
        return _inferred(t)
    if isinstance(t, str):
        raise DagsterInvalidDefinitionError(
            f'Invalid type: dagster_type must be an instance of DagsterType or a Python type: got "{t}" '
            "(a string; did you use a forward reference that could not be resolved?)"
        )
    raise DagsterInvalidDefinitionError(
        f"Invalid type: dagster_type must be an instance of DagsterType or a Python type: got {t!r}."
    )


def check_dagster_type(dagster_type: Any, value: Any) -> TypeCheck:
    """Run the type check of `dagster_type` on `value` outside any run (handy in tests).

    Example:
        >>> check_dagster_type(int, "x").success
        False
    """
    if typing.get_origin(dagster_type) is not None and typing.get_origin(dagster_type) not in (list, dict, typing.Union):
        raise DagsterInvariantViolationError(
            f"Must pass in a type from dagster module. You passed {dagster_type} which is part of python's typing module."
        )
    resolved = resolve_dagster_type(dagster_type)
    return resolved.type_check(TypeCheckContext(), value)


def make_python_type_usable_as_dagster_type(python_type: type, dagster_type: DagsterType) -> None:
    """Register `dagster_type` as what annotations of `python_type` resolve to."""
    python_type._orchestra_dagster_type = dagster_type  # type: ignore[attr-defined]
    _CACHE.pop(python_type, None)


def usable_as_dagster_type(name: Any = None, description: str | None = None, loader: Any = None) -> Any:
    """Class decorator: annotations of the class resolve to a DagsterType named after it.

    Example:
        >>> @usable_as_dagster_type(name="Money")
        ... class Money:
        ...     ...
    """

    def decorate(cls: type, type_name: str | None = None) -> type:
        dagster_type = PythonObjectDagsterType(cls, name=type_name or cls.__name__, description=description, loader=loader)
        make_python_type_usable_as_dagster_type(cls, dagster_type)
        return cls

    if isinstance(name, type):
        return decorate(name)
    return lambda cls: decorate(cls, name)
