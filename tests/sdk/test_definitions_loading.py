"""Finding definitions in code: load_definitions_from_module(s) and the code-location loader."""

import sys
import textwrap
import types
import uuid

import pytest

import orchestra as dg
from orchestra._core.definitions_class.module_loading import DefinitionsLoadError, load_definitions

DEFS_FILE = """
import orchestra as dg

@dg.op
def hello():
    return "hi"

@dg.job
def greet():
    hello()

defs = dg.Definitions(jobs=[greet])
"""


@pytest.fixture
def write(tmp_path):
    def _write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return _write


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


# --- load_definitions_from_module(s) ---------------------------------------------------------------


@dg.asset
def alpha():
    return 1


@dg.asset
def beta(alpha):
    return alpha + 1


@dg.op
def noop():
    pass


@dg.job
def noop_job():
    noop()


def test_load_definitions_from_module_collects_everything():
    schedule = dg.ScheduleDefinition(name="s", cron_schedule="* * * * *", job=noop_job)
    module = _module("defs_mod_a", alpha=alpha, noop_job=noop_job, schedule=schedule, same_again=alpha,
                     in_a_list=[beta], spec=dg.AssetSpec("outside"))
    defs = dg.load_definitions_from_module(module, resources={"x": 1})
    assert isinstance(defs, dg.Definitions)
    assert sorted({a.key.to_user_string() for a in defs.assets}) == ["alpha", "beta", "outside"]
    assert defs.jobs == [noop_job]
    assert defs.schedules == [schedule]
    assert defs.resources == {"x": 1}
    assert defs.get_implicit_global_asset_job_def().execute_in_process().success


def test_load_definitions_from_modules_refuses_a_key_defined_twice():
    @dg.asset(name="alpha")
    def other_alpha():
        return 2

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Asset key alpha is defined multiple times. Definitions found in modules: mod_two, mod_one."):
        dg.load_definitions_from_modules([_module("mod_one", alpha=alpha), _module("mod_two", a=other_alpha)])


def test_load_definitions_from_current_module(write, tmp_path, monkeypatch):
    write("current_mod_defs.py", """
        import orchestra as dg

        @dg.asset
        def here():
            return 1

        defs = dg.load_definitions_from_current_module()
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    import current_mod_defs

    assert [a.key for a in current_mod_defs.defs.assets] == [dg.AssetKey("here")]
    sys.modules.pop("current_mod_defs", None)


def test_load_definitions_from_package_module(write, tmp_path, monkeypatch):
    package = f"pkg_{uuid.uuid4().hex[:8]}"
    write(f"{package}/__init__.py", "")
    write(f"{package}/first.py", "import orchestra as dg\n@dg.asset\ndef one():\n    return 1\n")
    write(f"{package}/sub/__init__.py", "")
    write(f"{package}/sub/second.py", "import orchestra as dg\n@dg.asset\ndef two():\n    return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    defs = dg.load_definitions_from_package_name(package)
    assert sorted(a.key.to_user_string() for a in defs.assets) == ["one", "two"]


# --- load_definitions: the code-location loader --------------------------------------------------


def test_load_definitions_from_a_file(write):
    path = write("loc_file.py", DEFS_FILE)
    defs = load_definitions(python_file=str(path))
    assert defs.get_job_def("greet").execute_in_process().output_for_node("hello") == "hi"


def test_load_definitions_from_a_module_in_a_working_directory(write, tmp_path):
    name = f"loc_mod_{uuid.uuid4().hex[:8]}"
    write(f"{name}.py", DEFS_FILE)
    defs = load_definitions(module_name=name, working_directory=str(tmp_path))
    assert defs.get_repository_def().job_names == ["greet"]
    assert str(tmp_path) not in sys.path


def test_load_definitions_by_attribute(write):
    path = write("two_defs.py", DEFS_FILE + "\nother = dg.Definitions(jobs=[greet.graph.to_job(name='other_job')])\n")
    with pytest.raises(DefinitionsLoadError, match="more than one Definitions object") as info:
        load_definitions(python_file=str(path))
    assert "defs, other" in str(info.value)
    assert load_definitions(python_file=str(path), attribute="other").get_repository_def().job_names == ["other_job"]
    with pytest.raises(DefinitionsLoadError, match='Attribute "nope" not found in file'):
        load_definitions(python_file=str(path), attribute="nope")


def test_load_definitions_names_the_file_when_nothing_is_found(write):
    path = write("empty_loc.py", "x = 1\n")
    with pytest.raises(DefinitionsLoadError, match="empty_loc.py"):
        load_definitions(python_file=str(path))


def test_import_errors_keep_the_user_traceback(write):
    path = write("broken_loc.py", "import orchestra as dg\n\ndef helper():\n    raise ValueError('user bug')\n\nhelper()\n")
    with pytest.raises(DefinitionsLoadError) as info:
        load_definitions(python_file=str(path))
    message = str(info.value)
    assert "broken_loc.py" in message
    assert "ValueError: user bug" in message
    assert "in helper" in message
    assert isinstance(info.value.__cause__, ValueError)


def test_load_definitions_wraps_a_repository(write):
    path = write("repo_loc.py", DEFS_FILE.replace("defs = dg.Definitions(jobs=[greet])", "@dg.repository\ndef repo():\n    return [greet]\n"))
    defs = load_definitions(python_file=str(path))
    assert isinstance(defs, dg.Definitions)
    assert defs.get_repository_def().name == "repo"
    assert defs.get_job_def("greet").execute_in_process().success


def test_load_definitions_needs_exactly_one_origin(write):
    with pytest.raises(DefinitionsLoadError, match="Exactly one"):
        load_definitions()
    with pytest.raises(DefinitionsLoadError, match="no such file"):
        load_definitions(python_file="/nonexistent/file.py")


def test_load_definitions_from_a_package(write, tmp_path):
    package = f"loc_pkg_{uuid.uuid4().hex[:8]}"
    write(f"{package}/__init__.py", "from .definitions import defs\n")
    write(f"{package}/definitions.py", DEFS_FILE)
    defs = load_definitions(package_name=package, working_directory=str(tmp_path))
    assert defs.get_repository_def().job_names == ["greet"]


def test_import_error_in_a_module_names_the_module(tmp_path):
    name = f"loc_broken_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("import not_a_real_module_anywhere\n")
    with pytest.raises(DefinitionsLoadError, match=f'module "{name}"') as info:
        load_definitions(module_name=name, working_directory=str(tmp_path))
    assert "ModuleNotFoundError" in str(info.value)
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
