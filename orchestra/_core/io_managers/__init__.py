"""IO managers: base classes and definitions, the IO contexts, built-ins and pydantic-based classes.

Layering (each module may import only those before it): `base` (on top of
`orchestra._core.resources.definition`), `io_context_base`, `contexts`, `builders`, `upath`,
`builtin`, then `pythonic`, the only module here that imports pydantic. This `__init__` imports
nothing so `import orchestra` stays cheap; the public SDK table points at the submodules directly.
"""
