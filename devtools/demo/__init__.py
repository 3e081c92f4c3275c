"""`python -m devtools.demo` (`make demo`): the whole job on the local target, driven over HTTP like a user would."""
