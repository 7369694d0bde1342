"""Definitions of ops, graphs and jobs.

Layering (a module may import only those listed before it): `inout`, `output`, `dependency`,
`composition`, `node`, `op`, `graph`, `executor`, `job`. The public names are exported by
`orchestra/__init__.py`; nothing is re-exported here so importing one module stays cheap.
"""
