"""A run launcher for tests of what sits in front of launchers (the run queue, run monitoring):
it records each launch and starts nothing, so launched runs stay STARTING until the test moves them."""

from __future__ import annotations

from runs.launching import LaunchRunContext, RunLauncher

PATH = ("tests.runs.holding_launcher", "HoldingLauncher")


class HoldingLauncher(RunLauncher):
    launched: list[str] = []
    terminated: list[str] = []

    def launch_run(self, context: LaunchRunContext) -> None:
        HoldingLauncher.launched.append(context.run.run_id)

    def terminate(self, run_id: str) -> bool:
        HoldingLauncher.terminated.append(run_id)
        return False


def use_holding_launcher(settings) -> None:
    """Point the test instance's `run_launcher` at HoldingLauncher (pytest-django `settings` fixture)."""
    import dataclasses

    from core.instance_config import ClassEntry

    entry = ClassEntry.model_validate({"module": PATH[0], "class": PATH[1]})
    config = settings.INSTANCE.config.model_copy(update={"run_launcher": entry})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    HoldingLauncher.launched.clear()
    HoldingLauncher.terminated.clear()
