"""The interfaces: the FastAPI app (JSON API and pages), the CLI and the scheduler wiring."""
