"""The thin HTTP API: validate, authorise, call the workflow, return its answer."""
