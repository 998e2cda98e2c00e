"""Writes, by area. Views and management commands call these; neither builds YAML or
graphs itself. Errors the callers explain are in `studio.errors`."""
