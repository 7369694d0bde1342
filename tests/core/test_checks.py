"""Components named in orchestra.yaml must import at start-up (a system check)."""

from __future__ import annotations

import dataclasses

from core.checks import check_instance_components
from core.instance_config import parse_instance_config


def _check_with(settings, text):
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=parse_instance_config(text, "orchestra.yaml", {}))
    return check_instance_components()


def test_importable_component_passes(settings):
    assert _check_with(settings, "run_launcher: {module: collections, class: OrderedDict}") == []


def test_missing_module_and_missing_class_are_errors(settings):
    [err] = _check_with(settings, "run_launcher: {module: no_such_module_xyz, class: Launcher}")
    assert err.id == "orchestra.E001" and "no_such_module_xyz" in err.msg
    [err] = _check_with(settings, "run_coordinator: {module: collections, class: NoSuchThing}")
    assert err.id == "orchestra.E002" and "NoSuchThing" in err.msg
