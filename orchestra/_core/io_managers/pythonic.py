"""IO managers declared as pydantic `Config` classes, and the `FilesystemIOManager` built on them."""

from __future__ import annotations

import abc
from typing import Any, Generic, TypeVar

from pydantic import Field as PydanticField

from orchestra._core.io_managers.base import IOManager, IOManagerDefinition
from orchestra._core.io_managers.builtin import PickledObjectFilesystemIOManager, default_storage_dir
from orchestra._core.resources.context import InitResourceContext
from orchestra._core.resources.definition import resource_init_call
from orchestra._core.resources.pythonic import (
    ConfigurableResourceFactory,
    ConfigurableResourceFactoryResourceDefinition,
    PartialResource,
)

TResValue = TypeVar("TResValue")


class ConfigurableIOManagerFactoryResourceDefinition(ConfigurableResourceFactoryResourceDefinition, IOManagerDefinition):
    """The definition behind a configurable IO manager: an `IOManagerDefinition` too."""


class ConfigurableIOManagerFactory(ConfigurableResourceFactory[TResValue], Generic[TResValue]):
    """An IO manager declared as a `Config` class whose `create_io_manager` builds the `IOManager`.

    Example:
        ```python
        class ExternalIOManagerFactory(dg.ConfigurableIOManagerFactory):
            connection: str

            def create_io_manager(self, context) -> ExternalIOManager:
                return ExternalIOManager(self.connection)
        ```
    """

    @abc.abstractmethod
    def create_io_manager(self, context: InitResourceContext) -> Any:
        """Return the `IOManager` to use for the run."""

    def create_resource(self, context: InitResourceContext) -> Any:
        return self.create_io_manager(context)

    @classmethod
    def configure_at_launch(cls, **kwargs: Any) -> PartialResource:
        """An IO manager whose config (beyond `kwargs`) is given in run config at launch."""
        return PartialResource(cls, data=kwargs)


class ConfigurableIOManager(ConfigurableIOManagerFactory, IOManager):
    """An IO manager declared as a `Config` class: its attributes are config, and it implements
    `handle_output` and `load_input` itself.

    Example:
        ```python
        class JsonIOManager(dg.ConfigurableIOManager):
            root: str

            def handle_output(self, context, obj):
                Path(self.root, *context.get_asset_identifier()).write_text(json.dumps(obj))

            def load_input(self, context):
                return json.loads(Path(self.root, *context.get_asset_identifier()).read_text())
        ```
    """

    def create_io_manager(self, context: InitResourceContext) -> Any:
        return self


class ConfigurableLegacyIOManagerAdapter(ConfigurableIOManagerFactory):
    """Wraps a function-style IO manager (`@io_manager`) so it can be configured as a class.

    Example:
        ```python
        class MyIOManager(dg.ConfigurableLegacyIOManagerAdapter):
            base_path: str

            @property
            def wrapped_io_manager(self) -> dg.IOManagerDefinition:
                return old_io_manager
        ```
    """

    @property
    @abc.abstractmethod
    def wrapped_io_manager(self) -> IOManagerDefinition:
        """The function-style IO manager definition to build with this instance's config."""

    def create_io_manager(self, context: InitResourceContext) -> Any:
        return resource_init_call(self.wrapped_io_manager, context)


class FilesystemIOManager(ConfigurableIOManagerFactory):
    """Built-in filesystem IO manager that stores and retrieves values using pickling.

    Files live under `base_dir`, which defaults to the instance's storage directory
    (`$ORCHESTRA_HOME/storage`, or a temporary directory without a home). Op outputs go to
    `<base_dir>/<run_id>/<step_key>/<output_name>`; an asset goes to `<base_dir>/<asset key path>`
    (plus `/<partition>` when partitioned) and is overwritten by each materialisation.

    Example:
        ```python
        defs = dg.Definitions(
            assets=[asset1, asset2],
            resources={"io_manager": dg.FilesystemIOManager(base_dir="/my/base/path")},
        )
        ```
    """

    base_dir: str | None = PydanticField(default=None, description="Base directory for storing files.")

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return True

    def create_io_manager(self, context: InitResourceContext) -> PickledObjectFilesystemIOManager:
        return PickledObjectFilesystemIOManager(base_dir=self.base_dir or default_storage_dir(context.instance))
