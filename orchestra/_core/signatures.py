"""`inspect.signature`, computed once per function.

Decorating one asset asks for its function's signature several times (inputs, resources, the op's
own parameters); for a module of thousands of assets `inspect.signature` was a fifth of the import.
A function without parameters (an asset that only declares `deps`) and hints that are plain classes
skip the general machinery altogether; tests/sdk/test_definitions_fast_paths.py pins both to it.
"""

from __future__ import annotations

import inspect
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any

_STAR_ARGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
_EMPTY = inspect.Signature.empty
_NONE_TYPE = type(None)
_BARE_SIGNATURES = {returns: inspect.Signature(return_annotation=returns) for returns in (None, _EMPTY)}

# Weak keys: a reloaded user module's functions are not kept alive by the cache.
_SIGNATURES: weakref.WeakKeyDictionary[Any, inspect.Signature] = weakref.WeakKeyDictionary()


def signature_of(fn: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature(fn)` (same result, same errors), cached for plain functions.

    Only plain functions are cached (their parameters, annotations, `__wrapped__` and `__signature__`
    are settled by the time they are decorated); other callables (partials, instances with `__call__`,
    bound methods, builtins) go straight to `inspect.signature`.
    """
    if type(fn) is not type(signature_of):  # not a plain Python function
        return inspect.signature(fn)
    code = fn.__code__
    if not fn.__dict__ and not (code.co_argcount or code.co_kwonlyargcount or code.co_flags & _STAR_ARGS):
        # No parameters, and no attribute (`__wrapped__`, `__signature__`) that inspect would follow:
        # the signature is the return annotation alone. Cheaper to build than to cache (an asset
        # that only declares `deps` is such a function).
        try:
            returns = fn.__annotations__.get("return", _EMPTY)
        except Exception:  # an annotation that cannot be evaluated yet (lazily evaluated annotations)
            return inspect.signature(fn)
        if returns is None or returns is _EMPTY:  # `-> None` or nothing: one shared (immutable) signature
            return _BARE_SIGNATURES[returns]
        return inspect.Signature(return_annotation=returns)
    cached = _SIGNATURES.get(fn)
    if cached is None:
        cached = _SIGNATURES[fn] = inspect.signature(fn)
    return cached


_HINTS: weakref.WeakKeyDictionary[Any, dict[bool, dict[str, Any]]] = weakref.WeakKeyDictionary()


def type_hints_of(fn: Callable[..., Any], include_extras: bool = False) -> dict[str, Any]:
    """`typing.get_type_hints(fn, include_extras=...)` (same result, same errors; a fresh dict each call).

    Cached for plain functions once it succeeds (decorating one asset asks three times); a failure, e.g.
    a forward reference not defined yet, is not cached, so a later call tries again.
    """
    if type(fn) is not type(signature_of):  # not a plain Python function
        return typing.get_type_hints(fn, include_extras=include_extras)
    # Plain classes and `None` are what `get_type_hints` would return (`None` as `NoneType`): nothing to
    # evaluate or strip, with or without extras. (One loop: this runs a few times for every asset.)
    plain: dict[str, Any] = {}
    for name, value in fn.__annotations__.items():
        if value is None:
            plain[name] = _NONE_TYPE
        elif type(value) is type:
            plain[name] = value
        else:
            break
    else:
        return plain
    by_flag = _HINTS.get(fn)
    if by_flag is None:
        by_flag = _HINTS[fn] = {}
    hints = by_flag.get(include_extras)
    if hints is None:
        hints = by_flag[include_extras] = typing.get_type_hints(fn, include_extras=include_extras)
    return dict(hints)


_GENERATOR, _COROUTINE, _ASYNC_GENERATOR = inspect.CO_GENERATOR, inspect.CO_COROUTINE, inspect.CO_ASYNC_GENERATOR


def function_kind(fn: Callable[..., Any]) -> tuple[bool, bool, bool]:
    """`(inspect.isgeneratorfunction(fn), inspect.iscoroutinefunction(fn), inspect.isasyncgenfunction(fn))`.

    For a plain function, read from its code flags once instead of three (or six) `inspect` calls.
    """
    if type(fn) is types.FunctionType:
        flags = fn.__code__.co_flags
        return (flags & _GENERATOR) != 0, (flags & _COROUTINE) != 0, (flags & _ASYNC_GENERATOR) != 0
    return inspect.isgeneratorfunction(fn), inspect.iscoroutinefunction(fn), inspect.isasyncgenfunction(fn)


def docstring_of(fn: Callable[..., Any]) -> str | None:
    """`inspect.getdoc(fn)`; a one-line docstring (most of them) is cleaned here, without `inspect.cleandoc`."""
    doc = getattr(fn, "__doc__", None)
    if type(doc) is str and "\n" not in doc and "\t" not in doc:
        return doc.lstrip()  # what cleandoc leaves of one line: no indent, trailing spaces kept, "" if blank
    return inspect.getdoc(fn)
