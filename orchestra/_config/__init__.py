"""The config system: schemas (legacy types and pythonic `Config`), validation, processing and JSON export.

Layering (each module may import only those above it; none imports pydantic except `pythonic`):
    types      config types (ConfigType, Shape, Selector, Array, Enum, ...)
    env_var    EnvVar / IntEnvVar
    field      Field, shorthand resolution, convert_potential_field
    errors     EvaluationError, reasons, messages, type printer
    validate   validate_config / process_config_or_raise
    sources    StringSource / IntSource / BoolSource
    mapping    ConfigMapping / config_mapping / configured
    snapshot   JSON Schema and plain-dict snapshots
    pythonic   Config, PermissiveConfig, RunConfig (pydantic; imported lazily)
"""

from orchestra._config.env_var import EnvVar as EnvVar
from orchestra._config.env_var import IntEnvVar as IntEnvVar
from orchestra._config.errors import DagsterEvaluationErrorReason as DagsterEvaluationErrorReason
from orchestra._config.errors import EvaluationError as EvaluationError
from orchestra._config.field import FIELD_NO_DEFAULT_PROVIDED as FIELD_NO_DEFAULT_PROVIDED
from orchestra._config.field import Field as Field
from orchestra._config.field import convert_potential_field as convert_potential_field
from orchestra._config.field import resolve_to_config_type as resolve_to_config_type
from orchestra._config.sources import BoolSource as BoolSource
from orchestra._config.sources import IntSource as IntSource
from orchestra._config.sources import StringSource as StringSource
from orchestra._config.types import Array as Array
from orchestra._config.types import ConfigType as ConfigType
from orchestra._config.types import ConfigTypeKind as ConfigTypeKind
from orchestra._config.types import Enum as Enum
from orchestra._config.types import EnumValue as EnumValue
from orchestra._config.types import Map as Map
from orchestra._config.types import Noneable as Noneable
from orchestra._config.types import Permissive as Permissive
from orchestra._config.types import PostProcessingError as PostProcessingError
from orchestra._config.types import ScalarUnion as ScalarUnion
from orchestra._config.types import Selector as Selector
from orchestra._config.types import Shape as Shape
from orchestra._config.validate import EvaluateValueResult as EvaluateValueResult
from orchestra._config.validate import process_config as process_config
from orchestra._config.validate import process_config_or_raise as process_config_or_raise
from orchestra._config.validate import process_run_config as process_run_config
from orchestra._config.validate import validate_config as validate_config
