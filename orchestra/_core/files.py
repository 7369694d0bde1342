"""Paths in user code: `file_relative_path`."""

from __future__ import annotations

import os


def file_relative_path(dunderfile: str, relative_path: str) -> str:
    """A path relative to the directory of the calling module's file (pass `__file__`).

    Example:
        >>> file_relative_path("/repo/pipelines/jobs.py", "data/input.csv")
        '/repo/pipelines/data/input.csv'
    """
    return os.path.join(os.path.dirname(dunderfile), relative_path)
