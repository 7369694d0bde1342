"""Code references: where an asset's source lives, as a local file (and line) or a URL."""

from __future__ import annotations

import dataclasses

from orchestra._core.metadata.values import MetadataValue


@dataclasses.dataclass(frozen=True, kw_only=True)
class LocalFileCodeReference:
    """A file on the machine that loaded the code, optionally a line in it.

    Example:
        ```python
        dg.LocalFileCodeReference(file_path="/repo/assets.py", line_number=12)
        ```
    """

    file_path: str
    line_number: int | None = None
    label: str | None = None

    @property
    def source(self) -> str:
        return f"{self.file_path}:{self.line_number}" if self.line_number else self.file_path


@dataclasses.dataclass(frozen=True, kw_only=True)
class UrlCodeReference:
    """A link to the source, e.g. a file in a git host."""

    url: str
    label: str | None = None

    @property
    def source(self) -> str:
        return self.url


@dataclasses.dataclass(frozen=True, kw_only=True)
class CodeReferencesMetadataValue(MetadataValue):
    """The `dagster/code_references` metadata of an asset: a list of code references."""

    kind = "code_references"
    code_references: list[LocalFileCodeReference | UrlCodeReference]

    @property
    def value(self) -> CodeReferencesMetadataValue:
        return self
