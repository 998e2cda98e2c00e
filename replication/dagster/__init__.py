"""The hand-off to Dagster: a dagster-sling code location for replications (`location`),
its `definitions.py` written from the template files beside it."""
