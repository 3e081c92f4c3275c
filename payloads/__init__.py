"""Typed payloads crossing the function app's boundaries: HTTP bodies, orchestration and activity I/O."""
