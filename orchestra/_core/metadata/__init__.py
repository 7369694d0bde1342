"""Metadata: typed values (`values`), table descriptions (`table`) and the event-log JSON form (`json_form`).

`table` imports nothing from here; `values` imports `table`; `code_references` imports `values`;
`json_form` imports all three.
"""

from orchestra._core.metadata.code_references import (
    CodeReferencesMetadataValue as CodeReferencesMetadataValue,
)
from orchestra._core.metadata.code_references import LocalFileCodeReference as LocalFileCodeReference
from orchestra._core.metadata.code_references import UrlCodeReference as UrlCodeReference
from orchestra._core.metadata.json_form import metadata_from_json as metadata_from_json
from orchestra._core.metadata.json_form import metadata_to_json as metadata_to_json
from orchestra._core.metadata.table import TableColumn as TableColumn
from orchestra._core.metadata.table import TableColumnConstraints as TableColumnConstraints
from orchestra._core.metadata.table import TableColumnDep as TableColumnDep
from orchestra._core.metadata.table import TableColumnLineage as TableColumnLineage
from orchestra._core.metadata.table import TableConstraints as TableConstraints
from orchestra._core.metadata.table import TableRecord as TableRecord
from orchestra._core.metadata.table import TableSchema as TableSchema
from orchestra._core.metadata.values import BoolMetadataValue as BoolMetadataValue
from orchestra._core.metadata.values import (
    CodeLocationReconstructionMetadataValue as CodeLocationReconstructionMetadataValue,
)
from orchestra._core.metadata.values import DagsterAssetMetadataValue as DagsterAssetMetadataValue
from orchestra._core.metadata.values import DagsterJobMetadataValue as DagsterJobMetadataValue
from orchestra._core.metadata.values import DagsterRunMetadataValue as DagsterRunMetadataValue
from orchestra._core.metadata.values import FloatMetadataValue as FloatMetadataValue
from orchestra._core.metadata.values import IntMetadataValue as IntMetadataValue
from orchestra._core.metadata.values import JsonMetadataValue as JsonMetadataValue
from orchestra._core.metadata.values import MarkdownMetadataValue as MarkdownMetadataValue
from orchestra._core.metadata.values import MetadataValue as MetadataValue
from orchestra._core.metadata.values import NotebookMetadataValue as NotebookMetadataValue
from orchestra._core.metadata.values import NullMetadataValue as NullMetadataValue
from orchestra._core.metadata.values import PathMetadataValue as PathMetadataValue
from orchestra._core.metadata.values import PoolMetadataValue as PoolMetadataValue
from orchestra._core.metadata.values import PythonArtifactMetadataValue as PythonArtifactMetadataValue
from orchestra._core.metadata.values import TableColumnLineageMetadataValue as TableColumnLineageMetadataValue
from orchestra._core.metadata.values import TableMetadataValue as TableMetadataValue
from orchestra._core.metadata.values import TableSchemaMetadataValue as TableSchemaMetadataValue
from orchestra._core.metadata.values import TextMetadataValue as TextMetadataValue
from orchestra._core.metadata.values import TimestampMetadataValue as TimestampMetadataValue
from orchestra._core.metadata.values import UrlMetadataValue as UrlMetadataValue
from orchestra._core.metadata.values import normalize_metadata as normalize_metadata
from orchestra._core.metadata.values import normalize_metadata_value as normalize_metadata_value
