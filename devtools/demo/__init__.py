"""`python -m devtools.demo` (`make demo`): the whole job on the local target, driven by the `ftdeploy` CLI."""
