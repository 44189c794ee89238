"""The job model and everything that needs no Jupyter: specs, payloads, records, settings."""
