"""Resources: definitions, init contexts, initialisation, and the pydantic-based resource classes.

Layering (each module may import only those above it):

1. `config_bridge` — how the pydantic-free modules reach `orchestra._config` (schemas, validation).
2. `definition` — `ResourceDefinition`, `@resource`, `ResourceParam`.
3. `context` and `initialization` — init contexts, dependency order, set-up and teardown.
4. `pythonic_fields` (`ResourceDependency`, the resource metaclass), then `pythonic`
   (`ConfigurableResource` and friends) — the only modules here that import pydantic.

This package `__init__` imports nothing so `import orchestra` stays cheap; the public SDK table
points at the submodules directly. The execution core's entry points are in `RESOURCES.md`.
"""
