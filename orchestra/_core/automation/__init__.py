"""Schedules and sensors: definitions, evaluation contexts, cron tick times, and one tick's evaluation.

Modules, each importing only those listed before it:

1. `run_request` — `RunRequest`, `SkipReason`, `SensorResult`, dynamic partition requests, tag rules.
2. `cron` — cron validation and tick times across daylight-saving transitions (the only `croniter` user).
3. `target` — what a schedule or sensor launches; name, owner and metadata checks.
4. `context` — what evaluation contexts share; direct invocation of decorated functions.
5. `schedule_context`, `sensor_context` — `ScheduleEvaluationContext`, `SensorEvaluationContext`, statuses.
6. `schedule`, `sensor` — `ScheduleDefinition` / `@schedule`, `SensorDefinition` / `@sensor`.
7. `run_status_sensor`, `asset_sensor` — sensors the daemon drives with instance data.
8. `partitioned_schedule` — `build_schedule_from_partitioned_job` (uses `orchestra._core.partitions`).
9. `evaluation` — `evaluate_schedule` / `evaluate_sensor`: plain-data results for a code server.

This `__init__` imports nothing so `import orchestra` stays cheap; the SDK table points at submodules.
"""
