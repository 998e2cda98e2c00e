"""The studio's forms, one module per area as in `studio/views/` (editor, replications, yaml,
connections, downstream, schedules), and `fields`, the field classes they share. Views import
the area's module; this package re-exports nothing."""
