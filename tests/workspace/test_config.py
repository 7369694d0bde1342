"""workspace.yaml and pyproject.toml: Dagster's entry forms, resolved paths, default names, and each mistake."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from workspace.config import (
    LocationEntry,
    WorkspaceConfigError,
    find_workspace,
    load_workspace_file,
    load_workspace_files,
    parse_pyproject,
    parse_workspace_yaml,
)


def parse(text: str, tmp_path: Path, environ: dict[str, str] | None = None) -> list[LocationEntry]:
    return parse_workspace_yaml(text, tmp_path / "workspace.yaml", environ or {})


def problems(text: str, tmp_path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(WorkspaceConfigError) as caught:
        parse(text, tmp_path, environ)
    assert str(tmp_path / "workspace.yaml") in str(caught.value)
    return caught.value.problems


# --- the entry forms -----------------------------------------------------------------------------


def test_scalar_shorthands_resolve_paths_and_take_dagsters_default_names(tmp_path):
    entries = parse("load_from:\n  - python_file: defs/a.py\n  - python_module: pkg.defs\n"
                    "  - python_package: my_pkg\n", tmp_path)
    assert [e.name for e in entries] == ["a.py", "pkg.defs", "my_pkg"]
    assert [e.kind for e in entries] == ["python_file", "python_module", "python_package"]
    assert entries[0].python_file == str(tmp_path / "defs" / "a.py")
    assert entries[1].module_name == "pkg.defs" and entries[2].package_name == "my_pkg"
    # Every local entry runs from the workspace file's directory unless told otherwise.
    assert {e.working_directory for e in entries} == {str(tmp_path)}
    assert all(e.is_local and e.python == sys.executable for e in entries)


def test_mapping_forms_take_every_field(tmp_path):
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    entries = parse(
        "load_from:\n"
        "  - python_file:\n      relative_path: a.py\n      attribute: defs\n      working_directory: src\n"
        "      executable_path: venv/bin/python\n"
        "  - python_module:\n      module_name: pkg.defs\n      attribute: make_defs\n      location_name: analytics\n"
        "      executable_path: ~/envs/x/bin/python\n"
        "  - python_package:\n      package_name: my_pkg\n      working_directory: /abs/dir\n",
        tmp_path,
    )
    first, second, third = entries
    assert first.name == "a.py:defs" and first.attribute == "defs"
    assert first.working_directory == str(tmp_path / "src")
    assert first.executable_path == str(tmp_path / "venv" / "bin" / "python")
    assert second.name == "analytics" and second.attribute == "make_defs"
    assert second.executable_path == os.path.expanduser("~/envs/x/bin/python")
    assert third.working_directory == "/abs/dir" and third.name == "my_pkg"


def test_home_is_expanded_in_paths(tmp_path):
    [entry] = parse("load_from:\n  - python_file: ~/project/defs.py\n", tmp_path)
    assert entry.python_file == str(Path("~/project/defs.py").expanduser())


def test_code_server_and_its_grpc_server_alias(tmp_path):
    entries = parse(
        "load_from:\n  - code_server: {host: remote.example, port: 4266, location_name: remote}\n"
        "  - grpc_server: {port: 4000}\n",
        tmp_path,
    )
    assert entries[0] == LocationEntry(name="remote", kind="code_server", host="remote.example", port=4266)
    assert entries[1].name == "grpc:localhost:4000" and entries[1].host == "localhost"
    assert not entries[1].is_local


def test_env_references_are_resolved(tmp_path):
    entries = parse(
        "load_from:\n  - python_module: {env: DEFS_MODULE}\n"
        "  - code_server:\n      host: {env: CS_HOST}\n      port: {env: CS_PORT}\n",
        tmp_path, {"DEFS_MODULE": "pkg.defs", "CS_HOST": "10.0.0.5", "CS_PORT": "4100"},
    )
    assert entries[0].module_name == "pkg.defs"
    assert (entries[1].host, entries[1].port) == ("10.0.0.5", 4100)


def test_empty_file_and_empty_load_from_are_an_empty_workspace(tmp_path):
    assert parse("", tmp_path) == []
    assert parse("load_from: []\n", tmp_path) == []


def test_origin_round_trips_and_pointer_args_name_the_code(tmp_path):
    [entry] = parse("load_from:\n  - python_file: {relative_path: a.py, attribute: defs}\n", tmp_path)
    assert LocationEntry.from_origin(entry.origin()) == entry
    assert entry.pointer_args() == ["-f", str(tmp_path / "a.py"), "-a", "defs", "-d", str(tmp_path),
                                    "--location-name", "a.py:defs"]


# --- mistakes: each names its entry and the reason ----------------------------------------------------


def test_duplicate_location_names_are_refused_naming_both_entries(tmp_path):
    found = problems("load_from:\n  - python_file: a/defs.py\n  - python_file: b/defs.py\n", tmp_path)
    assert found == ["load_from.1 (python_file): location name 'defs.py' is already used by load_from.0 "
                     "(python_file); give one of them a different location_name"]


def test_duplicate_explicit_names_across_kinds(tmp_path):
    found = problems("load_from:\n  - python_module: {module_name: a, location_name: x}\n"
                     "  - code_server: {port: 4000, location_name: x}\n", tmp_path)
    assert "location name 'x' is already used by load_from.0 (python_module)" in found[0]


def test_unknown_entry_type(tmp_path):
    assert problems("load_from:\n  - python_files: a.py\n", tmp_path) == [
        "load_from.0: unknown entry type 'python_files'; expected one of: python_file, python_module, "
        "python_package, code_server (or grpc_server)"
    ]


def test_entry_with_two_kinds(tmp_path):
    [problem] = problems("load_from:\n  - python_file: a.py\n    python_module: b\n", tmp_path)
    assert problem.startswith("load_from.0: an entry is a mapping with exactly one of:")
    assert "(got python_file, python_module)" in problem


def test_entry_that_is_not_a_mapping(tmp_path):
    [problem] = problems("load_from:\n  - a.py\n", tmp_path)
    assert "load_from.0: an entry is a mapping" in problem and "(got a string)" in problem


def test_unknown_key_in_entry_lists_the_allowed_ones(tmp_path):
    assert problems("load_from:\n  - python_file: {relative_path: a.py, atribute: defs}\n", tmp_path) == [
        "load_from.0.python_file.atribute: unknown key; expected one of: attribute, location_name, "
        "working_directory, executable_path, relative_path"
    ]


def test_missing_required_key(tmp_path):
    assert problems("load_from:\n  - python_module: {attribute: defs}\n", tmp_path) == [
        "load_from.0.python_module.module_name: required key is missing"
    ]


def test_wrong_types_are_named(tmp_path):
    found = problems("load_from:\n  - python_file: {relative_path: [a]}\n  - code_server: {port: http}\n"
                     "  - code_server: {port: 70000}\n", tmp_path)
    assert found == [
        "load_from.0.python_file.relative_path: got ['a']; expected a string",
        "load_from.1.code_server.port: got 'http'; expected an integer",
        "load_from.2.code_server.port: got 70000; expected a number <= 65535",
    ]


def test_empty_strings_are_refused(tmp_path):
    assert problems("load_from:\n  - python_module: ''\n", tmp_path) == [
        "load_from.0.python_module.module_name: must not be empty"
    ]


def test_code_server_needs_a_port_and_refuses_socket_and_tls(tmp_path):
    found = problems("load_from:\n  - code_server: {host: h}\n  - grpc_server: {socket: /tmp/s}\n"
                     "  - code_server: {port: 1, ssl: true}\n", tmp_path)
    assert found[0] == "load_from.0.code_server.port: required key is missing (the port the code server listens on)"
    assert found[1].startswith("load_from.1.grpc_server.socket: Orchestra's code servers listen on TCP")
    assert found[2].startswith("load_from.2.code_server.ssl: TLS to code servers is not supported")


def test_code_server_has_no_scalar_form(tmp_path):
    assert problems("load_from:\n  - code_server: localhost:4000\n", tmp_path) == [
        "load_from.0.code_server: got 'localhost:4000'; expected a mapping"
    ]


def test_autoload_defs_module_is_refused_with_a_reason(tmp_path):
    [problem] = problems("load_from:\n  - autoload_defs_module: pkg.defs\n", tmp_path)
    assert problem.startswith("load_from.0.autoload_defs_module: components (autoload_defs_module) are not supported")


def test_missing_env_variable(tmp_path):
    assert problems("load_from:\n  - python_module: {env: NOPE}\n", tmp_path) == [
        "load_from.0.python_module: environment variable NOPE is not set"
    ]


def test_unknown_top_level_key_and_bad_shapes(tmp_path):
    assert problems("load_form: []\n", tmp_path) == ["load_form: unknown key; expected one of: load_from"]
    assert problems("load_from: defs.py\n", tmp_path) == ["load_from: got 'defs.py'; expected a list"]
    assert problems("- python_file: a.py\n", tmp_path) == ["the file must hold a mapping with 'load_from', got a list"]


def test_invalid_yaml_names_line_and_column(tmp_path):
    [problem] = problems("load_from:\n  - python_file: [a.py\n", tmp_path)
    assert problem.startswith("line 3, column 1: not valid YAML")


def test_every_mistake_is_listed_at_once(tmp_path):
    found = problems("load_from:\n  - python_files: a.py\n  - python_module: {}\n  - python_file: a.py\n"
                     "  - python_file: a.py\n", tmp_path)
    assert len(found) == 3


# --- files ------------------------------------------------------------------------------------------


def test_load_workspace_file_reads_relative_to_the_file(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "workspace.yaml").write_text("load_from:\n  - python_file: ../defs.py\n")
    [entry] = load_workspace_file(tmp_path / "conf" / "workspace.yaml")
    assert entry.python_file == str(tmp_path / "defs.py")
    assert entry.working_directory == str(tmp_path / "conf")


def test_missing_file(tmp_path):
    with pytest.raises(WorkspaceConfigError, match="no such file"):
        load_workspace_file(tmp_path / "nope.yaml")


def test_later_files_override_earlier_names(tmp_path):
    (tmp_path / "one.yaml").write_text("load_from:\n  - python_module: {module_name: a, location_name: x}\n")
    (tmp_path / "two.yaml").write_text("load_from:\n  - python_module: {module_name: b, location_name: x}\n"
                                       "  - python_module: c\n")
    entries = load_workspace_files([tmp_path / "one.yaml", tmp_path / "two.yaml"])
    assert [(e.name, e.module_name) for e in entries] == [("x", "b"), ("c", "c")]


# --- pyproject.toml ---------------------------------------------------------------------------------


def test_tool_orchestra_module_name(tmp_path):
    [entry] = parse_pyproject('[tool.orchestra]\nmodule_name = "pkg.defs"\ncode_location_name = "pkg"\n',
                              tmp_path / "pyproject.toml", {})
    assert (entry.name, entry.kind, entry.module_name) == ("pkg", "python_module", "pkg.defs")
    assert entry.working_directory == str(tmp_path)


def test_tool_dagster_modules_list_and_foreign_keys_ignored(tmp_path):
    text = ('[tool.dagster]\nmodules = [{type = "module", name = "a.defs"}, {type = "module", name = "b.defs"}]\n'
            'something_dagster_reads = true\n')
    entries = parse_pyproject(text, tmp_path / "pyproject.toml", {})
    assert [e.name for e in entries] == ["a.defs", "b.defs"]


def test_tool_orchestra_wins_over_tool_dagster(tmp_path):
    text = '[tool.dagster]\nmodule_name = "d"\n[tool.orchestra]\nmodule_name = "o"\n'
    assert [e.module_name for e in parse_pyproject(text, tmp_path / "pyproject.toml", {})] == ["o"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[tool.orchestra]\nmodule_name = "a"\nmodules = []\n', "tool.orchestra: give exactly one of 'module_name' or 'modules'"),
        ('[tool.orchestra]\ncode_location_name = "a"\n', "tool.orchestra: give exactly one of 'module_name' or 'modules'"),
        ('[tool.orchestra]\nmodule = "a"\n', "tool.orchestra.module: unknown key; expected one of: module_name, modules, code_location_name"),
        ('[tool.orchestra]\nmodules = [{type = "file", name = "a"}]\n', "tool.orchestra.modules.0.type: got 'file'; expected one of 'module'"),
        ('[tool.dagster]\nmodules = [{type = "module"}]\n', "tool.dagster.modules.0.name: required key is missing"),
        ('[tool.dagster]\nmodules = [{type = "module", name = "a"}, {type = "module", name = "b"}]\ncode_location_name = "x"\n',
         "tool.dagster.modules.1: location name 'x' is already used by tool.dagster.modules.0; give one of them a different location_name"),
        ('[tool.orchestra\n', "not valid TOML"),
        ('[project]\nname = "x"\n', "no [tool.orchestra] or [tool.dagster] table"),
    ],
)
def test_pyproject_mistakes(tmp_path, text, expected):
    with pytest.raises(WorkspaceConfigError) as caught:
        parse_pyproject(text, tmp_path / "pyproject.toml", {})
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_find_workspace_prefers_pyproject_with_a_block_then_yaml(tmp_path):
    assert find_workspace(tmp_path) is None
    (tmp_path / "workspace.yml").write_text("")
    assert find_workspace(tmp_path) == tmp_path / "workspace.yml"
    (tmp_path / "workspace.yaml").write_text("")
    assert find_workspace(tmp_path) == tmp_path / "workspace.yaml"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_workspace(tmp_path) == tmp_path / "workspace.yaml"
    (tmp_path / "pyproject.toml").write_text('[tool.dagster]\nmodule_name = "x"\n')
    assert find_workspace(tmp_path) == tmp_path / "pyproject.toml"
    [entry] = load_workspace_file(find_workspace(tmp_path))
    assert entry.module_name == "x"
