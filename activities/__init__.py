"""Activities: one module per verb; each validates its payload, acts through a target, returns JSON."""
