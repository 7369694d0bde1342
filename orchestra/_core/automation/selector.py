"""Selectors naming jobs and code locations outside the sensor's own definitions (run status sensors)."""

from __future__ import annotations

from typing import Any, NamedTuple

from orchestra._errors import DagsterInvariantViolationError

# Dagster's name for the one repository a `Definitions` object makes.
SINGLETON_REPOSITORY_NAME = "__repository__"


class RepositorySelector(NamedTuple):
    """A repository in a code location (with `Definitions`, the repository is `__repository__`)."""

    location_name: str
    repository_name: str

    def to_graphql_input(self) -> dict[str, str]:
        return {"repositoryLocationName": self.location_name, "repositoryName": self.repository_name}


class CodeLocationSelector(NamedTuple):
    """Every job of one code location, e.g. `monitored_jobs=[CodeLocationSelector(location_name="etl")]`."""

    location_name: str

    def to_repository_selector(self) -> RepositorySelector:
        return RepositorySelector(location_name=self.location_name, repository_name=SINGLETON_REPOSITORY_NAME)


class _JobSelectorFields(NamedTuple):
    location_name: str
    repository_name: str
    job_name: str


class JobSelector(_JobSelectorFields):
    """One job of a code location: `JobSelector(location_name="etl", job_name="nightly")`."""

    __slots__ = ()

    def __new__(
        cls, location_name: str, repository_name: str | None = None, job_name: str | None = None
    ) -> Any:
        if job_name is None:
            raise DagsterInvariantViolationError(
                "Must provide job_name argument even though it is marked as optional in the function signature. "
                "repository_name, a truly optional parameter, is before that argument and actually optional. Use "
                "of keyword arguments is recommended to avoid confusion."
            )
        return super().__new__(cls, location_name, repository_name or SINGLETON_REPOSITORY_NAME, job_name)

    @property
    def repository_selector(self) -> RepositorySelector:
        return RepositorySelector(location_name=self.location_name, repository_name=self.repository_name)

    def to_graphql_input(self) -> dict[str, str]:
        return {
            "repositoryLocationName": self.location_name,
            "repositoryName": self.repository_name,
            "jobName": self.job_name,
        }
