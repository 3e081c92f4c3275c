"""HTTP triggers: validate the body, start a named orchestration, answer with where to poll."""
