"""Orchestrations: one pure generator per workflow (no I/O, clock, environment or randomness)."""
