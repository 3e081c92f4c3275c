"""Side-by-side benchmark of inference_container against a seed-style baseline (`python -m devtools.benchmarks`)."""
