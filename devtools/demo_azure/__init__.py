"""`python -m devtools.demo_azure` (`make demo-azure`): the whole job on the azure target, against the simulators."""
