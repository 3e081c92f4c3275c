"""Simulated Azure: real HTTPS servers on loopback (a test CA) that the unmodified Azure SDK clients talk to."""
