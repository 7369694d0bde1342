"""Metadata values, table descriptions, coercion of plain values and the event-log JSON form."""

from __future__ import annotations

import json
import math
import pathlib
from datetime import UTC, datetime

import pytest

import orchestra as dg
from orchestra._core.metadata import metadata_from_json, metadata_to_json, normalize_metadata


def test_static_constructors_build_the_concrete_classes_with_dagster_attributes():
    assert dg.MetadataValue.text("hi") == dg.TextMetadataValue("hi")
    assert dg.MetadataValue.text("hi").text == "hi"
    assert dg.MetadataValue.url("http://x").url == "http://x"
    assert dg.MetadataValue.path(pathlib.Path("/a/b")).path == "/a/b"
    assert dg.MetadataValue.notebook("n.ipynb").value == "n.ipynb"
    assert dg.MetadataValue.json({1: [1, 2]}).data == {"1": [1, 2]}
    assert dg.MetadataValue.md("# h").md_str == "# h"
    assert dg.MetadataValue.int(3).value == 3
    assert dg.MetadataValue.float(1.5).value == 1.5
    assert dg.MetadataValue.bool(False).value is False
    assert dg.MetadataValue.dagster_run("abc").run_id == "abc"
    assert dg.MetadataValue.pool("db").pool == "db"
    assert dg.MetadataValue.null().value is None
    job = dg.MetadataValue.job("j", "loc")
    assert (job.job_name, job.location_name, job.repository_name) == ("j", "loc", None)
    artifact = dg.MetadataValue.python_artifact(json.dumps)
    assert (artifact.module, artifact.name) == ("json", "dumps")


def test_reprs_match_dagster():
    assert repr(dg.MetadataValue.text("s")) == "TextMetadataValue(text='s')"
    assert repr(dg.MetadataValue.path("/a")) == "PathMetadataValue(fspath='/a')"
    assert repr(dg.MetadataValue.null()) == "NullMetadataValue()"
    assert repr(dg.MetadataValue.pool("p")) == "PoolMetadataValue(name='p')"


def test_constructors_check_their_argument_types():
    with pytest.raises(TypeError, match='Param "value" is not a float. Got 1'):
        dg.MetadataValue.float(1)
    with pytest.raises(TypeError, match='Param "text" is not a str'):
        dg.MetadataValue.text(3)
    with pytest.raises(dg.DagsterInvalidMetadata, match="Value is not JSON serializable."):
        dg.MetadataValue.json({"a": {1, 2}})


def test_timestamp_accepts_floats_and_aware_datetimes_only():
    assert dg.MetadataValue.timestamp(5.0).value == 5.0
    aware = datetime(2024, 1, 1, tzinfo=UTC)
    assert dg.MetadataValue.timestamp(aware).value == aware.timestamp()
    with pytest.raises(Exception, match="must have timezones"):
        dg.MetadataValue.timestamp(datetime(2024, 1, 1))
    with pytest.raises(Exception, match="Expected either a float or a datetime"):
        dg.MetadataValue.timestamp(5)


def test_values_are_comparable_and_hashable():
    assert dg.MetadataValue.int(3) == dg.IntMetadataValue(3)
    assert dg.MetadataValue.int(3) != dg.MetadataValue.float(3.0)
    assert len({dg.MetadataValue.int(3), dg.IntMetadataValue(3)}) == 1


def test_table_infers_schema_from_first_record():
    table = dg.MetadataValue.table([dg.TableRecord({"a": 1, "b": "x", "c": 1.5, "d": True})])
    assert [(c.name, c.type) for c in table.schema.columns] == [("a", "int"), ("b", "string"), ("c", "float"), ("d", "bool")]
    assert table.value is table
    with pytest.raises(dg.DagsterInvalidMetadata, match="All records must have the same fields"):
        dg.MetadataValue.table([dg.TableRecord({"a": 1}), dg.TableRecord({"b": 1})])
    with pytest.raises(dg.DagsterInvalidMetadata, match="schema must be provided if records is empty"):
        dg.MetadataValue.table([])


def test_table_records_hold_only_scalars():
    with pytest.raises(TypeError, match="mismatches expected type for key a"):
        dg.TableRecord({"a": [1]})


def test_table_schema_defaults():
    column = dg.TableColumn("id")
    assert column.type == "string" and column.description is None and column.tags == {}
    assert column.constraints == dg.TableColumnConstraints(nullable=True, unique=False, other=[])
    schema = dg.TableSchema.from_name_type_dict({"id": "int", "name": "string"})
    assert [c.type for c in schema.columns] == ["int", "string"]
    assert schema.constraints == dg.TableConstraints(other=[])
    assert dg.MetadataValue.table_schema(schema).value is schema


def test_column_lineage_sorts_deps_and_rejects_duplicates():
    lineage = dg.TableColumnLineage({"c": [dg.TableColumnDep("b", "y"), dg.TableColumnDep("a", "x")]})
    assert [d.column_name for d in lineage.deps_by_column["c"]] == ["x", "y"]
    assert dg.TableColumnDep("a/b", "x").asset_key.path == ["a/b"]  # as Dagster: no splitting on "/"
    assert dg.MetadataValue.column_lineage(lineage).column_lineage is lineage
    with pytest.raises(dg.DagsterInvalidMetadata, match="must be unique by asset key and column name"):
        dg.TableColumnLineage({"c": [dg.TableColumnDep("a", "x"), dg.TableColumnDep("a", "x")]})


def test_normalize_metadata_coerces_plain_values_as_dagster():
    schema = dg.TableSchema(columns=[])
    normalized = normalize_metadata(
        {"s": "t", "i": 1, "f": 1.5, "b": True, "l": [1], "d": {"x": None}, "n": None, "p": pathlib.Path("x"), "t": schema}
    )
    assert normalized == {
        "s": dg.TextMetadataValue("t"),
        "i": dg.IntMetadataValue(1),
        "f": dg.FloatMetadataValue(1.5),
        "b": dg.BoolMetadataValue(True),
        "l": dg.JsonMetadataValue([1]),
        "d": dg.JsonMetadataValue({"x": None}),
        "n": dg.NullMetadataValue(),
        "p": dg.PathMetadataValue("x"),
        "t": dg.TableSchemaMetadataValue(schema),
    }
    url = dg.MetadataValue.url("http://x")
    assert normalize_metadata({"u": url})["u"] is url


def test_normalize_metadata_names_the_bad_key():
    with pytest.raises(dg.DagsterInvalidMetadata) as info:
        normalize_metadata({"ok": 1, "bad": object()})
    assert str(info.value) == (
        "Could not resolve the metadata value for \"bad\" to a known type. Its type was <class 'object'>. "
        "Consider wrapping the value with the appropriate MetadataValue type."
    )
    assert normalize_metadata({"bad": object()}, allow_invalid=True)["bad"] == dg.TextMetadataValue(
        "[object] (unserializable)"
    )


HOSTILE = {
    "nan": float("nan"),
    "inf": float("-inf"),
    "nul\x00label": "a\x00b\ud800c",
    "quote\"'\\": "</script><script>alert(1)</script>",
    "json": {"__float__": "NaN", "k\x00": [float("inf"), "\udfff"], "__items__": 1, "nested": {"__bytes__": "x"}},
    "table": dg.MetadataValue.table([dg.TableRecord({"a": 1, "b": None})]),
    "lineage": dg.TableColumnLineage({"c": [dg.TableColumnDep("a/b", "x")]}),
    "pool": dg.MetadataValue.pool("p"),
    "job": dg.MetadataValue.job("j", "l", repository_name="r"),
    "artifact": dg.MetadataValue.python_artifact(print),
    "ts": dg.MetadataValue.timestamp(3.0),
    "url": dg.MetadataValue.url("http://x"),
    "none": None,
    "md": dg.MetadataValue.md("# h"),
    "notebook": dg.MetadataValue.notebook("a.ipynb"),
    "run": dg.MetadataValue.dagster_run("abc"),
    "schema": dg.TableSchema(
        columns=[dg.TableColumn("id", "int", "the id", dg.TableColumnConstraints(nullable=False, unique=True, other=["> 0"]), {"pii": "no"})],
        constraints=dg.TableConstraints(other=["id > 0"]),
    ),
    "int": 2**70,
    "bool": False,
}


def _same(a, b):
    if isinstance(a.value, float) and math.isnan(a.value):
        return isinstance(b.value, float) and math.isnan(b.value)
    return a == b


def test_metadata_json_round_trip_survives_hostile_values():
    stored = json.dumps(metadata_to_json(HOSTILE), allow_nan=False)  # strict JSON, as PostgreSQL jsonb needs
    assert "\\u0000" not in stored and "\\ud800" not in stored
    back = metadata_from_json(json.loads(stored))
    expected = normalize_metadata(HOSTILE)
    assert list(back) == list(expected)
    for key in expected:
        assert _same(expected[key], back[key]), key


def test_metadata_json_entries_are_labelled_and_typed():
    assert metadata_to_json({"rows": 3, "owner": "me"}) == [
        {"label": "rows", "type": "int", "data": 3},
        {"label": "owner", "type": "text", "data": "me"},
    ]


def test_plain_metadata_is_encoded_as_its_metadata_values_are():
    # plain str/int/bool/float values take a shorter path: the same entries as their MetadataValues
    plain = {"text": "a\x00b", "int": 2**70, "bool": False, "nan": math.nan, "inf": -math.inf, "\ud800": 1.5}
    wrapped = {label: dg.MetadataValue.text(raw) if isinstance(raw, str)
               else dg.MetadataValue.bool(raw) if isinstance(raw, bool)
               else dg.MetadataValue.int(raw) if isinstance(raw, int) else dg.MetadataValue.float(raw)
               for label, raw in plain.items()}
    assert json.dumps(metadata_to_json(plain), allow_nan=False) == json.dumps(metadata_to_json(wrapped), allow_nan=False)
    assert metadata_to_json({"flag": True, "n": 1}) == [
        {"label": "flag", "type": "bool", "data": True}, {"label": "n", "type": "int", "data": 1},
    ]


def test_metadata_from_json_rejects_unknown_types():
    with pytest.raises(dg.DagsterInvalidMetadata, match="Unknown stored metadata type"):
        metadata_from_json([{"label": "x", "type": "mystery", "data": 1}])


def test_code_references_round_trip_and_expose_sources():
    refs = dg.CodeReferencesMetadataValue(
        code_references=[
            dg.LocalFileCodeReference(file_path="/repo/a.py", line_number=3),
            dg.UrlCodeReference(url="https://git.example/a.py", label="source"),
        ]
    )
    assert [r.source for r in refs.code_references] == ["/repo/a.py:3", "https://git.example/a.py"]
    assert metadata_from_json(json.loads(json.dumps(metadata_to_json({"dagster/code_references": refs})))) == {
        "dagster/code_references": refs
    }


def test_metadata_value_can_be_subscripted_in_annotations():
    assert dg.MetadataValue[str] is dg.MetadataValue
