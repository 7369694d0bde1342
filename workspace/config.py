"""The workspace: where the code is, read from `workspace.yaml` or `[tool.orchestra]` in `pyproject.toml`.

The entry forms follow Dagster's `workspace.yaml` (`python_file`, `python_module`, `python_package`,
each as a scalar shorthand or a mapping, and a server run by someone else under `code_server`, with
`grpc_server` read as its alias), so a Dagster user's file works unchanged. Relative paths are taken
from the file's directory and `~` is expanded; strings accept `{env: VAR}`. A bad file is refused as a
whole, each mistake naming its entry and the reason. This module imports no Django.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.config_errors import (
    YamlMappingError,
    describe_validation_error,
    load_yaml_mapping,
    resolve_env,
    type_name,
)

WORKSPACE_FILE_NAMES = ("workspace.yaml", "workspace.yml")
PYPROJECT_FILE_NAME = "pyproject.toml"

LocationKind = Literal["python_file", "python_module", "python_package", "code_server"]


class WorkspaceConfigError(Exception):
    """The workspace is invalid; `problems` lists each mistake (its entry and the reason) on its own line."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid workspace in {source}:\n{listing}")


@dataclass(frozen=True)
class LocationEntry:
    """One code location of the workspace, with every path absolute and its name settled."""

    name: str
    kind: LocationKind
    python_file: str | None = None
    module_name: str | None = None
    package_name: str | None = None
    attribute: str | None = None
    working_directory: str | None = None
    executable_path: str | None = None
    host: str | None = None
    port: int | None = None
    additional_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        """A location whose code server Orchestra starts itself (everything but `code_server`)."""
        return self.kind != "code_server"

    @property
    def python(self) -> str:
        """The interpreter that runs this location's code (the entry's `executable_path`, or ours)."""
        return self.executable_path or sys.executable

    def origin(self) -> dict[str, Any]:
        """Plain JSON stored on `CodeLocation.origin`: enough to start the code again anywhere."""
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}

    def pointer_args(self) -> list[str]:
        """The `orchestra code-server start` options naming this location's code."""
        args: list[str] = []
        if self.python_file:
            args += ["-f", self.python_file]
        elif self.module_name:
            args += ["-m", self.module_name]
        elif self.package_name:
            args += ["--package-name", self.package_name]
        if self.attribute:
            args += ["-a", self.attribute]
        if self.working_directory:
            args += ["-d", self.working_directory]
        return [*args, "--location-name", self.name]

    @classmethod
    def from_origin(cls, origin: Mapping[str, Any]) -> LocationEntry:
        return cls(**origin)


# ---------------------------------------------------------------------------------------------
# Schema of one entry. Every model forbids unknown keys, so a typo is reported, not ignored.
# ---------------------------------------------------------------------------------------------


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value


class _CodeEntry(_Entry):
    attribute: str | None = None
    location_name: str | None = None
    working_directory: str | None = None
    executable_path: str | None = None


class PythonFileEntry(_CodeEntry):
    relative_path: str


class PythonModuleEntry(_CodeEntry):
    module_name: str


class PythonPackageEntry(_CodeEntry):
    package_name: str


class CodeServerEntry(_Entry):
    host: str = "localhost"
    port: int | None = Field(default=None, ge=1, le=65535)
    socket: str | None = None
    location_name: str | None = None
    ssl: bool = False
    additional_metadata: dict[str, Any] = Field(default_factory=dict)


_ENTRY_MODELS: dict[str, type[_Entry]] = {
    "python_file": PythonFileEntry,
    "python_module": PythonModuleEntry,
    "python_package": PythonPackageEntry,
    "code_server": CodeServerEntry,
}
_SCALAR_FIELD = {"python_file": "relative_path", "python_module": "module_name", "python_package": "package_name"}
_ALIASES = {"grpc_server": "code_server"}
_REFUSED_KINDS = {
    "autoload_defs_module": "components (autoload_defs_module) are not supported yet; "
    "use python_module with the module that builds your Definitions",
}


class _WorkspaceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    load_from: list[Any] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_workspace_file(path: str | Path, environ: Mapping[str, str] | None = None) -> list[LocationEntry]:
    """The locations of a `workspace.yaml`, or of the `[tool.orchestra]`/`[tool.dagster]` block of a
    `pyproject.toml`. Raises WorkspaceConfigError listing every mistake.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise WorkspaceConfigError(str(path), ["no such file"])
    if path.name == PYPROJECT_FILE_NAME:
        return parse_pyproject(path.read_text(), path, environ)
    return parse_workspace_yaml(path.read_text(), path, environ)


def load_workspace_files(paths: Sequence[str | Path], environ: Mapping[str, str] | None = None) -> list[LocationEntry]:
    """Several files merged in order; a location named again in a later file replaces the earlier one
    (Dagster's rule for repeated `-w`). Names must still be unique within each file.
    """
    merged: dict[str, LocationEntry] = {}
    for path in paths:
        for entry in load_workspace_file(path, environ):
            merged[entry.name] = entry
    return list(merged.values())


def find_workspace(directory: str | Path) -> Path | None:
    """The file that describes the workspace of `directory`, in Dagster's order: a `pyproject.toml`
    with an `[tool.orchestra]` or `[tool.dagster]` block, else `workspace.yaml`, else `workspace.yml`.
    """
    directory = Path(directory)
    pyproject = directory / PYPROJECT_FILE_NAME
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text()).get("tool", {})
        except tomllib.TOMLDecodeError:
            tool = {}
        if isinstance(tool, dict) and (_has_block(tool, "orchestra") or _has_block(tool, "dagster")):
            return pyproject
    for name in WORKSPACE_FILE_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def _has_block(tool: dict[str, Any], name: str) -> bool:
    block = tool.get(name)
    return isinstance(block, dict) and ("module_name" in block or "modules" in block)


def parse_workspace_yaml(text: str, path: str | Path, environ: Mapping[str, str] | None = None) -> list[LocationEntry]:
    environ = os.environ if environ is None else environ
    source = str(path)
    try:
        raw = load_yaml_mapping(text, expected="a mapping with 'load_from'")
    except YamlMappingError as exc:
        raise WorkspaceConfigError(source, [str(exc)]) from None
    try:
        top = _WorkspaceFile.model_validate(raw)
    except ValidationError as exc:
        raise WorkspaceConfigError(source, describe_validation_error(exc, _WorkspaceFile)) from None

    base_dir = Path(source).parent
    problems: list[str] = []
    entries: list[tuple[str, LocationEntry]] = []
    for index, item in enumerate(top.load_from):
        where = f"load_from.{index}"
        entry = _parse_entry(item, where, base_dir, environ, problems)
        if entry is not None:
            entries.append((f"{where} ({entry.kind})", entry))
    problems.extend(_duplicate_names(entries))
    if problems:
        raise WorkspaceConfigError(source, problems)
    return [entry for _, entry in entries]


def _parse_entry(
    item: Any, where: str, base_dir: Path, environ: Mapping[str, str], problems: list[str]
) -> LocationEntry | None:
    expected = ", ".join(_ENTRY_MODELS)
    if not isinstance(item, dict) or len(item) != 1:
        shown = ", ".join(map(str, item)) if isinstance(item, dict) and item else type_name(item)
        problems.append(f"{where}: an entry is a mapping with exactly one of: {expected} (got {shown})")
        return None
    [(written_kind, value)] = item.items()
    if written_kind in _REFUSED_KINDS:
        problems.append(f"{where}.{written_kind}: {_REFUSED_KINDS[written_kind]}")
        return None
    kind = _ALIASES.get(written_kind, written_kind)
    if kind not in _ENTRY_MODELS:
        problems.append(f"{where}: unknown entry type {written_kind!r}; expected one of: {expected} (or grpc_server)")
        return None
    path = (*where.split("."), written_kind)
    before = len(problems)
    value = resolve_env(value, path, environ, problems)
    if len(problems) > before:
        return None
    if isinstance(value, str) and kind in _SCALAR_FIELD:
        value = {_SCALAR_FIELD[kind]: value}
    model = _ENTRY_MODELS[kind]
    try:
        parsed = model.model_validate(value)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, model, path))
        return None
    label = ".".join(path)
    if isinstance(parsed, CodeServerEntry):
        return _code_server_entry(parsed, label, problems)
    assert isinstance(parsed, _CodeEntry)
    return _code_entry(kind, parsed, base_dir)


def _code_server_entry(parsed: CodeServerEntry, label: str, problems: list[str]) -> LocationEntry | None:
    if parsed.socket is not None:
        problems.append(f"{label}.socket: Orchestra's code servers listen on TCP; give 'port' instead of 'socket'")
        return None
    if parsed.port is None:
        problems.append(f"{label}.port: required key is missing (the port the code server listens on)")
        return None
    if parsed.ssl:
        problems.append(f"{label}.ssl: TLS to code servers is not supported yet; remove the key or set it to false")
        return None
    return LocationEntry(
        name=parsed.location_name or f"grpc:{parsed.host}:{parsed.port}",  # Dagster's default name
        kind="code_server",
        host=parsed.host,
        port=parsed.port,
        additional_metadata=dict(parsed.additional_metadata),
    )


def _code_entry(kind: str, parsed: _CodeEntry, base_dir: Path) -> LocationEntry:
    def rebase(value: str) -> str:
        return str((base_dir / Path(value).expanduser()).resolve())

    python_file = rebase(parsed.relative_path) if isinstance(parsed, PythonFileEntry) else None
    module_name = parsed.module_name if isinstance(parsed, PythonModuleEntry) else None
    package_name = parsed.package_name if isinstance(parsed, PythonPackageEntry) else None
    # Dagster's default names: the file's base name, the module or the package, then ":attribute".
    target = os.path.basename(python_file) if python_file else (module_name or package_name)
    name = parsed.location_name or (f"{target}:{parsed.attribute}" if parsed.attribute else str(target))
    # A file runs from its own directory; modules and packages from the workspace file's directory,
    # so the result does not depend on where the host process happens to be started.
    working_directory = rebase(parsed.working_directory) if parsed.working_directory else str(base_dir.resolve())
    executable = parsed.executable_path
    if executable is not None:
        executable = os.path.expanduser(executable)
        if os.sep in executable:
            executable = rebase(executable)
    return LocationEntry(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        python_file=python_file,
        module_name=module_name,
        package_name=package_name,
        attribute=parsed.attribute,
        working_directory=working_directory,
        executable_path=executable,
    )


def _duplicate_names(entries: list[tuple[str, LocationEntry]]) -> list[str]:
    problems = []
    first: dict[str, str] = {}
    for label, entry in entries:
        if entry.name in first:
            problems.append(
                f"{label}: location name {entry.name!r} is already used by {first[entry.name]}; "
                "give one of them a different location_name"
            )
        else:
            first[entry.name] = label
    return problems


# ---------------------------------------------------------------------------------------------
# pyproject.toml
# ---------------------------------------------------------------------------------------------


class _ModuleItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["module"]
    name: str


class _ToolBlock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    module_name: str | None = None
    modules: list[_ModuleItem] | None = None
    code_location_name: str | None = None


class _DagsterToolBlock(_ToolBlock):
    # Dagster's own tools read other keys from this block; they are none of Orchestra's business.
    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_pyproject(text: str, path: str | Path, environ: Mapping[str, str] | None = None) -> list[LocationEntry]:
    """The locations of `[tool.orchestra]` (or, without it, `[tool.dagster]`) in a `pyproject.toml`."""
    environ = os.environ if environ is None else environ
    source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceConfigError(source, [f"not valid TOML ({exc})"]) from None
    tool = data.get("tool", {})
    name = "orchestra" if isinstance(tool.get("orchestra"), dict) else "dagster"
    block = tool.get(name)
    if not isinstance(block, dict):
        raise WorkspaceConfigError(source, ["no [tool.orchestra] or [tool.dagster] table"])
    path_prefix = ("tool", name)
    problems: list[str] = []
    block = resolve_env(block, path_prefix, environ, problems)
    model = _ToolBlock if name == "orchestra" else _DagsterToolBlock
    try:
        parsed = model.model_validate(block)
    except ValidationError as exc:
        raise WorkspaceConfigError(source, problems + describe_validation_error(exc, model, path_prefix)) from None
    label = ".".join(path_prefix)
    if (parsed.module_name is None) == (parsed.modules is None):
        problems.append(f"{label}: give exactly one of 'module_name' or 'modules'")
    if problems:
        raise WorkspaceConfigError(source, problems)
    base_dir = Path(source).parent.resolve()
    modules = [parsed.module_name] if parsed.module_name is not None else [m.name for m in parsed.modules or []]
    entries = [
        (
            f"{label}.module_name" if parsed.module_name is not None else f"{label}.modules.{i}",
            LocationEntry(
                name=parsed.code_location_name or module,
                kind="python_module",
                module_name=module,
                working_directory=str(base_dir),
            ),
        )
        for i, module in enumerate(modules)
    ]
    problems = _duplicate_names(entries)
    if problems:
        raise WorkspaceConfigError(source, problems)
    return [entry for _, entry in entries]
