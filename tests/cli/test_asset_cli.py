"""`orchestra asset list|materialize` in real processes against the test database."""

from __future__ import annotations

import pytest

from runs import selectors
from runs.models import AssetIndex, Run, RunStatus
from tests.cli.test_job_cli import orchestra

DEFS = '''
import orchestra as dg

daily = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(group_name="etl")
def raw():
    return 1


@dg.asset(group_name="etl")
def clean(raw):
    return raw + 1


@dg.asset(partitions_def=daily)
def by_day(context):
    return context.partition_key


@dg.asset(config_schema={"factor": int})
def scaled(context):
    return context.op_config["factor"]


defs = dg.Definitions(assets=[raw, clean, by_day, scaled])
'''


@pytest.fixture
def defs_file(tmp_path):
    path = tmp_path / "assets.py"
    path.write_text(DEFS)
    (tmp_path / "scaled.yaml").write_text("ops:\n  scaled:\n    config:\n      factor: 3\n")
    return path


def test_asset_list_prints_the_selected_keys(tmp_path, defs_file):
    result = orchestra(tmp_path, "asset", "list", "-f", str(defs_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["by_day", "clean", "raw", "scaled"]
    assert orchestra(tmp_path, "asset", "list", "-f", str(defs_file), "--select", "group:etl").stdout.split() == ["clean", "raw"]


@pytest.mark.django_db(transaction=True)
def test_materialize_a_selection_records_the_materializations(child_home, defs_file):
    result = orchestra(child_home, "asset", "materialize", "-f", str(defs_file), "--select", "*clean")
    assert result.returncode == 0, result.stderr
    assert "ASSET_MATERIALIZATION" in result.stderr
    [run] = Run.objects.all()
    assert run.status == RunStatus.SUCCESS
    assert set(AssetIndex.objects.values_list("asset_key", flat=True)) >= {"raw", "clean"}
    steps = [e.step_key for e in selectors.events_after(run_id=run.run_id, event_types=["STEP_START"])]
    assert sorted(steps) == ["clean", "raw"]


@pytest.mark.django_db(transaction=True)
def test_materialize_a_partition_with_config(child_home, defs_file):
    result = orchestra(child_home, "asset", "materialize", "-f", str(defs_file), "--select", "by_day",
                       "--partition", "2026-02-03")
    assert result.returncode == 0, result.stderr
    run = Run.objects.get()
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id))["dagster/partition"] == "2026-02-03"
    assert AssetIndex.objects.filter(asset_key="by_day", partition="2026-02-03").exists()
    configured = orchestra(child_home, "asset", "materialize", "-f", str(defs_file), "--select", "scaled",
                           "-c", str(defs_file.parent / "scaled.yaml"))
    assert configured.returncode == 0, configured.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--select", "nowhere"], "Error: invalid asset selection 'nowhere'"),
    (["--select", "raw", "--partition", "2026-01-01"], "Error: --partition '2026-01-01' given, but the selected assets are not partitioned"),
    (["--select", "by_day", "--partition", "yesterday"], "Error: unknown partition 'yesterday'"),
    (["--select", "scaled"], "Error: invalid run config for job"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, defs_file, args, message):
    result = orchestra(tmp_path, "asset", "materialize", "-f", str(defs_file), *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(message)
