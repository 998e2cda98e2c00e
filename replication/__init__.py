"""Sling replication configs in plain Python: parse, emit, validate, translate, lineage.

Nothing here imports Django; the studio is one user of this package, the
command line and the tests are others.
"""
