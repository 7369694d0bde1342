"""`ActiveExecution`: the run-side state machine that decides which steps run, skip, retry or are abandoned.

Executors drive it: ask for ready steps, run them (anywhere), and feed every event back through
`handle_event`. It resolves dynamic steps as mapping keys arrive and enforces retry budgets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from orchestra._core.events import DagsterEvent
from orchestra._core.plan import FROM_COLLECT, FROM_MULTI, ExecutionPlan, ExecutionStep
from orchestra._core.step import KnownState


class ActiveExecution:
    def __init__(self, plan: ExecutionPlan, *, retries_enabled: bool = True, max_concurrent: int | None = None,
                 require_upstream_step_success: bool = True):
        self.plan = plan
        self.retries_enabled = retries_enabled
        self.max_concurrent = max_concurrent
        self.require_upstream_step_success = require_upstream_step_success
        # pending: step key -> keys it still waits for (unresolved keys stand for their future copies)
        self._pending: dict[str, set[str]] = {}
        self._unresolved: dict[str, ExecutionStep] = {}
        for step in plan.steps:
            if step.is_unresolved:
                self._unresolved[step.key] = step
            self._pending[step.key] = set(step.deps)
        self.step_dict: dict[str, ExecutionStep] = dict(plan.step_dict)  # plus resolved dynamic steps
        self._has_priorities = any("dagster/priority" in step.tags for step in plan.steps)
        self._deps_of: dict[str, set[str]] = {step.key: set(step.deps) for step in plan.steps}
        self._dependents: dict[str, list[str]] = {}
        for step in plan.steps:
            for dep in step.deps:
                self._dependents.setdefault(dep, []).append(step.key)
        # a re-execution of some steps (`reexecution.ReexecutionPlan`): the others complete at once, with no
        # event, their outputs known from the parent chain (`seed`)
        self._runs_step = getattr(plan, "runs_step", None)
        self._silent: list[str] = []
        self._executable: list[str] = []
        for key in [k for k, deps in self._pending.items() if not deps and k not in self._unresolved]:
            del self._pending[key]
            self._enqueue(key)
        self._in_flight: set[str] = set()
        self._success: set[str] = set()
        self._failed: set[str] = set()
        self._skipped: set[str] = set()
        self._abandoned: set[str] = set()
        self._waiting_to_retry: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._to_skip: list[str] = []
        self._to_abandon: list[str] = []
        self.known = KnownState()
        seed = getattr(plan, "seed", None)
        if seed is not None:
            self.known.produced.update(seed.produced)
            self.known.mapping_keys.update({k: list(v) for k, v in seed.mapping_keys.items()})
            self.known.sources.update(seed.sources)
        self.skipped_deps: dict[str, list[str]] = {}
        self._complete_silent()

    # --- queries --------------------------------------------------------------------------

    @property
    def is_complete(self) -> bool:
        return not (self._pending or self._executable or self._in_flight or self._waiting_to_retry or self._to_skip or self._to_abandon)

    @property
    def failed_step_keys(self) -> list[str]:
        return sorted(self._failed)

    def retry_number(self, step_key: str) -> int:
        return self._attempts.get(step_key, 0)

    def get_step(self, key: str) -> ExecutionStep:
        return self.step_dict[key]

    # --- scheduling -----------------------------------------------------------------------

    def get_steps_to_execute(self, limit: int | None = None) -> list[ExecutionStep]:
        if self._waiting_to_retry:
            now = time.time()
            for key, at in list(self._waiting_to_retry.items()):
                if at <= now:
                    self._executable.append(key)
                    del self._waiting_to_retry[key]
        if not self._executable:
            return []
        if limit is None and self.max_concurrent:
            limit = max(0, self.max_concurrent - len(self._in_flight))
        step_dict = self.step_dict
        if self._has_priorities:
            self._executable.sort(key=lambda k: -_priority(step_dict[k]))
        batch_keys = self._executable[:limit] if limit is not None else list(self._executable)
        del self._executable[: len(batch_keys)]
        self._in_flight.update(batch_keys)
        return [step_dict[k] for k in batch_keys]

    def get_next_step(self) -> ExecutionStep | None:
        steps = self.get_steps_to_execute(limit=1)
        return steps[0] if steps else None

    def sleep_interval(self) -> float:
        if not self._waiting_to_retry or self._executable:
            return 0.0
        return max(0.0, min(self._waiting_to_retry.values()) - time.time())

    def sleep_til_ready(self) -> None:
        interval = self.sleep_interval()
        if interval > 0:
            time.sleep(interval)

    # --- events ---------------------------------------------------------------------------

    def handle_event(self, event: DagsterEvent) -> None:
        kind = event.event_type_value
        key = event.step_key
        if kind == "STEP_OUTPUT":
            data = event.event_specific_data
            handle = data.step_output_handle
            self.known.produced.add((key, handle.output_name))  # type: ignore[arg-type]
            if handle.mapping_key is not None:
                self.known.mapping_keys.setdefault((key, handle.output_name), []).append(handle.mapping_key)  # type: ignore[arg-type]
        elif kind == "STEP_SUCCESS":
            self._in_flight.discard(key)  # type: ignore[arg-type]
            self._success.add(key)  # type: ignore[arg-type]
            for output in self.step_dict[key].op_def.output_defs:  # type: ignore[index]
                if output.is_dynamic and output.is_required:
                    self.known.produced.add((key, output.name))  # type: ignore[arg-type]
            self._resolve_dynamic(key)  # type: ignore[arg-type]
            self._release(key)  # type: ignore[arg-type]
        elif kind == "STEP_FAILURE":
            self._in_flight.discard(key)  # type: ignore[arg-type]
            self._failed.add(key)  # type: ignore[arg-type]
            self._release(key)  # type: ignore[arg-type]
        elif kind == "STEP_UP_FOR_RETRY":
            self._in_flight.discard(key)  # type: ignore[arg-type]
            self._attempts[key] = self._attempts.get(key, 0) + 1  # type: ignore[index]
            wait = event.event_specific_data.seconds_to_wait or 0
            self._waiting_to_retry[key] = time.time() + wait  # type: ignore[index]
        elif kind == "STEP_SKIPPED":
            self._in_flight.discard(key)  # type: ignore[arg-type]
            self._skipped.add(key)  # type: ignore[arg-type]
            self._release(key)  # type: ignore[arg-type]
        if self._silent:
            self._complete_silent()

    def _resolve_dynamic(self, key: str) -> None:
        step = self.step_dict[key]
        for output in step.op_def.output_defs:
            if not output.is_dynamic:
                continue
            root = (key, output.name)
            if root not in self.plan.unresolved_by_root:
                continue
            mapping_keys = self.known.mapping_keys.get(root, [])
            resolved = self.plan.resolve(root, mapping_keys)
            done = self._done
            for unresolved_key, copies in resolved.items():
                copy_keys = [c.key for c in copies]
                self.known.resolved[unresolved_key] = copy_keys
                unresolved_deps = self._pending.pop(unresolved_key, set())
                self._unresolved.pop(unresolved_key, None)
                for copy in copies:
                    self.step_dict[copy.key] = copy
                    self._deps_of[copy.key] = set(copy.deps)
                    waits = set(copy.deps) - done
                    if waits:
                        self._pending[copy.key] = waits
                    else:
                        self._enqueue(copy.key)
                    for dep in copy.deps:
                        self._dependents.setdefault(dep, []).append(copy.key)
                del unresolved_deps
                # whoever waited on the unresolved step now waits on its copies
                for dependent in self._dependents.get(unresolved_key, []):
                    waiting = self._pending.get(dependent)
                    deps_of = self._deps_of.get(dependent)
                    if deps_of is not None and unresolved_key in deps_of:
                        deps_of.discard(unresolved_key)
                        deps_of.update(copy_keys)
                    if waiting is not None and unresolved_key in waiting:
                        waiting.discard(unresolved_key)
                        waiting.update(k for k in copy_keys if k not in done)
                        self._dependents_add(copy_keys, dependent)
                        if not waiting and dependent not in self._unresolved:
                            self._ready(dependent)

    def _dependents_add(self, keys: list[str], dependent: str) -> None:
        for key in keys:
            self._dependents.setdefault(key, []).append(dependent)

    @property
    def _done(self) -> set[str]:
        return self._success | self._failed | self._skipped | self._abandoned

    def _release(self, key: str) -> None:
        for dependent in self._dependents.get(key, ()):
            waiting = self._pending.get(dependent)
            if waiting is None:
                continue
            waiting.discard(key)
            if not waiting:
                if dependent in self._unresolved:
                    # its dynamic root finished without resolving it (failed or skipped): nothing to map
                    self._finish_unresolved(dependent)
                else:
                    self._ready(dependent)

    def _finish_unresolved(self, key: str) -> None:
        del self._pending[key]
        del self._unresolved[key]
        step = self.step_dict[key]
        root_key = step.dynamic_root[0]  # type: ignore[index]
        if root_key in self._failed or root_key in self._abandoned or (self._deps_of[key] & (self._failed | self._abandoned)):
            self._abandoned.add(key)
        else:
            self._skipped.add(key)
        self.known.resolved[key] = []
        self._release(key)

    def _enqueue(self, key: str) -> None:
        if self._runs_step is not None and not self._runs_step(key):
            self._silent.append(key)
        else:
            self._executable.append(key)

    def _complete_silent(self) -> None:
        """Complete the steps a re-execution leaves out (iteratively: a long chain must not recurse)."""
        while self._silent:
            key = self._silent.pop(0)
            self._success.add(key)
            self._resolve_dynamic(key)
            self._release(key)

    def _ready(self, key: str) -> None:
        del self._pending[key]
        if self._runs_step is not None and not self._runs_step(key):
            self._silent.append(key)
            return
        step = self.step_dict[key]
        if self.require_upstream_step_success and self._deps_of[key] & (self._failed | self._abandoned):
            self._to_abandon.append(key)
            return
        missing = self._missing_inputs(step)
        if missing:
            self.skipped_deps[key] = missing
            self._to_skip.append(key)
            return
        self._executable.append(key)

    def _missing_inputs(self, step: ExecutionStep) -> list[str]:
        produced = self.known.produced
        missing: list[str] = []
        for step_input in step.inputs:
            source = step_input.source
            if source.kind == FROM_COLLECT:
                root = self._collect_root(source)
                if root not in produced:  # an optional dynamic output that yielded nothing
                    missing.append(f"{root[0]}.{root[1]}")
                continue
            if source.kind == FROM_MULTI:
                handles = [(s.step_key, s.output_name) for s in source.sources or () if s.step_key]
                if handles and not any(h in produced for h in handles):
                    missing.extend(f"{k}.{o}" for k, o in handles)
                continue
            if source.step_key and (source.step_key, source.output_name) not in produced:
                missing.append(f"{source.step_key}.{source.output_name}")
        return sorted(set(missing))

    def _collect_root(self, source: Any) -> tuple[str, str]:
        upstream = self.step_dict.get(source.step_key)
        if upstream is not None and upstream.is_unresolved:
            return upstream.dynamic_root  # type: ignore[return-value]
        return (source.step_key, source.output_name)

    def plan_events_iterator(self, run_context: Any) -> Iterator[DagsterEvent]:
        """Skip and abandon whatever became unrunnable; yields STEP_SKIPPED events (and logs)."""
        while self._to_skip or self._to_abandon:
            while self._to_skip:
                key = self._to_skip.pop(0)
                step = self.step_dict[key]
                self._in_flight.add(key)
                run_context.log.for_step(key).info(
                    f"Skipping step {key} due to skipped dependencies: {self.skipped_deps.get(key, [])}."
                )
                yield DagsterEvent("STEP_SKIPPED", run_context.job_name, key, step.node_handle, "COMPUTE", None, None,
                                   f'Skipped execution of step "{key}".', run_context.pid)
            while self._to_abandon:
                key = self._to_abandon.pop(0)
                step = self.step_dict[key]
                deps = sorted(self._deps_of[key])
                failed = [d for d in deps if d in self._failed]
                abandoned = [d for d in deps if d in self._abandoned]
                message = f"Dependencies for step {key}"
                if failed:
                    message += f" failed: {failed}"
                if abandoned:
                    message += f" were not executed: {abandoned}"
                if failed or any(not k.endswith("[?]") for k in abandoned):
                    run_context.log.for_step(key).error(message + ". Not executing.")
                self._abandoned.add(key)
                self._release(key)

    def abandon_all(self) -> None:
        """Stop: nothing further runs (used when a step failed and the run raises)."""
        self._pending.clear()
        self._executable.clear()
        self._waiting_to_retry.clear()
        self._to_skip.clear()
        self._to_abandon.clear()
        self._unresolved.clear()


def _priority(step: ExecutionStep) -> int:
    try:
        return int(step.tags.get("dagster/priority", 0))
    except (TypeError, ValueError):
        return 0
