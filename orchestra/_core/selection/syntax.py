"""Dagster's asset selection language, parsed into `AssetSelection`s.

Supported: `key:<pattern>` (with `*` wildcards; a bare word inside an expression means `key:`, an
Orchestra extension; a string that is a single bare clause such as `orders+` keeps Dagster's older
meaning, one layer per `+`), `group:`, `tag:k` /
`tag:k=v`, `kind:`, `owner:`, quoted values, `*` (everything), `N+expr` / `+expr` (ancestors, all
when no number), `expr+N` / `expr+`, `and` / `or` / `not` (any case), parentheses, `roots(...)` and
`sinks(...)`. Precedence, loosest first: `or`, `and`, `not`, traversal.
"""

from __future__ import annotations

import re

from orchestra._core.selection.asset_selection import (
    AllSelection,
    AssetSelection,
    DagsterInvalidAssetSelectionError,
    GroupsAssetSelection,
    KeyWildcardAssetSelection,
    KindAssetSelection,
    OwnerAssetSelection,
    TagAssetSelection,
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>\d+(?=\+))
      | (?P<punct>[()+:=])
      | (?P<word>[^\s()+:="]+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not"}
_UNSUPPORTED = {"status", "column", "table_name", "column_tag", "changed_in_branch", "code_location"}


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise DagsterInvalidAssetSelectionError(f"Invalid selection string: {text}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "keyword", value.lower()
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, include_sources: bool):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.include_sources = include_sources

    def fail(self) -> DagsterInvalidAssetSelectionError:
        return DagsterInvalidAssetSelectionError(f"Invalid selection string: {self.text}")

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail()
        self.pos += 1
        return token

    def expect(self, kind: str, value: str | None = None) -> str:
        token_kind, token_value = self.take()
        if token_kind != kind or (value is not None and token_value != value):
            raise self.fail()
        return token_value

    def at(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        return token is not None and token[0] == kind and (value is None or token[1] == value)

    # --- grammar ------------------------------------------------------------------------------

    def parse(self) -> AssetSelection:
        if not self.tokens:
            raise self.fail()
        result = self.or_expr()
        if self.peek() is not None:
            raise self.fail()
        return result

    def or_expr(self) -> AssetSelection:
        result = self.and_expr()
        while self.at("keyword", "or"):
            self.take()
            result = result | self.and_expr()
        return result

    def and_expr(self) -> AssetSelection:
        result = self.not_expr()
        while self.at("keyword", "and"):
            self.take()
            result = result & self.not_expr()
        return result

    def not_expr(self) -> AssetSelection:
        if self.at("keyword", "not"):
            self.take()
            return AllSelection(include_sources=self.include_sources) - self.not_expr()
        return self.traversal()

    def traversal(self) -> AssetSelection:
        up: tuple[bool, int | None] = (False, None)
        if self.at("number"):
            depth = int(self.take()[1])
            self.expect("punct", "+")
            up = (True, depth)
        elif self.at("punct", "+"):
            self.take()
            up = (True, None)
        base = self.primary()
        result = base.upstream(depth=up[1]) if up[0] else base
        if self.at("punct", "+"):
            self.take()
            depth = None
            nxt = self.peek()
            if nxt is not None and nxt[0] == "word" and nxt[1].isdigit():
                depth = int(self.take()[1])
            down = base.downstream(depth=depth)
            result = result | down if up[0] else down  # both directions start from the same operand
        return result

    def primary(self) -> AssetSelection:
        kind, value = self.take()
        if kind == "punct" and value == "(":
            inner = self.or_expr()
            self.expect("punct", ")")
            return inner
        if kind == "word" and value == "*":
            return AllSelection(include_sources=self.include_sources)
        if kind == "word" and value in ("roots", "sinks") and self.at("punct", "("):
            self.take()
            inner = self.or_expr()
            self.expect("punct", ")")
            return inner.roots() if value == "roots" else inner.sinks()
        if kind == "word" and self.at("punct", ":"):
            self.take()
            return self.attribute(value)
        if kind == "word" and "*" not in value:
            return AssetSelection.keys(value)  # a bare key must exist, as in Dagster
        if kind == "word":
            return KeyWildcardAssetSelection(selected_key_wildcard=value)
        raise self.fail()

    def value(self) -> str:
        kind, value = self.take()
        if kind not in ("word", "string", "number"):
            raise self.fail()
        return value

    def attribute(self, name: str) -> AssetSelection:
        value = self.value()
        if name == "key":
            return KeyWildcardAssetSelection(selected_key_wildcard=value)
        if name == "group":
            if "*" in value and not self._was_quoted():
                raise self.fail()
            return GroupsAssetSelection(selected_groups=(value,), include_sources=self.include_sources)
        if name == "tag":
            tag_value = ""
            if self.at("punct", "="):
                self.take()
                tag_value = self.value()
            return TagAssetSelection(key=value, value=tag_value, include_sources=self.include_sources)
        if name == "kind":
            return KindAssetSelection(kind_str=value, include_sources=self.include_sources)
        if name == "owner":
            return OwnerAssetSelection(selected_owner=value)
        if name in _UNSUPPORTED:
            raise DagsterInvalidAssetSelectionError(
                f"{name}: cannot be used to select assets in user code (selection string: {self.text})"
            )
        raise self.fail()

    def _was_quoted(self) -> bool:
        return self.tokens[self.pos - 1][0] == "string"


# Dagster's older clause syntax, which it still reads when the whole string is one bare clause:
# `name`, `+name`, `name++`, `*name*` -- each `+` is one layer, `*` is every layer.
_CLAUSE = re.compile(r"^(?P<up>\*?\+*)(?P<name>[\w./\[\]?-]+)(?P<down>\+*\*?)$")


def _clause_depth(part: str) -> int | None:
    return None if "*" in part else len(part)


def _parse_clause(text: str) -> AssetSelection | None:
    match = _CLAUSE.match(text.strip())
    if match is None:
        return None
    base = AssetSelection.keys(match.group("name"))
    up, down = match.group("up"), match.group("down")
    if up and down:
        return base.upstream(depth=_clause_depth(up)) | base.downstream(depth=_clause_depth(down))
    if up:
        return base.upstream(depth=_clause_depth(up))
    if down:
        return base.downstream(depth=_clause_depth(down))
    return base


def parse_selection(text: str, include_sources: bool = False) -> AssetSelection:
    """The `AssetSelection` a selection string means; DagsterInvalidAssetSelectionError when it is malformed."""
    if not isinstance(text, str):
        raise DagsterInvalidAssetSelectionError(f"Invalid selection string: {text!r}")
    clause = _parse_clause(text) if text.strip() != "*" else None
    if clause is not None:
        return clause
    return _Parser(text, include_sources).parse()
