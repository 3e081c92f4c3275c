"""Local Azure Functions host with Durable Functions, for machines without Core Tools."""
