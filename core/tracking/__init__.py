"""Logging and reading runs: the fluent API, TrackingClient, the batching writer, run context, artifacts."""
