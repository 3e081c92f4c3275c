"""Schemathesis hooks for test_openapi.py's runs (loaded by `st` through SCHEMATHESIS_HOOKS).

Valid ("positive") generation requests are kept short: at most TOKEN_CAP new tokens and a short prompt. The
one rule the document cannot state is that prompt and token limit together must fit the context (a 400
`context_length_exceeded`); capping both keeps valid requests valid and the run quick on a CPU.
"""

from typing import Any

import schemathesis

TOKEN_CAP = 4
PROMPT_IDS_CAP = 32


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Cap the token limit and a token-id prompt of a valid /v1 generation request."""
    body = case.body
    meta = case.meta
    if not (isinstance(body, dict) and meta is not None and meta.generation.mode.is_positive
            and case.operation.path.startswith("/v1/")):
        return case
    limits = [name for name in ("max_tokens", "max_completion_tokens", "max_output_tokens")
              if isinstance(body.get(name), int)]
    for name in limits:
        body[name] = min(body[name], TOKEN_CAP)
    if not limits:  # /v1/responses names its limit max_output_tokens and refuses max_tokens
        body["max_output_tokens" if case.operation.path == "/v1/responses" else "max_tokens"] = TOKEN_CAP
    prompt = body.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], int):
        body["prompt"] = prompt[:PROMPT_IDS_CAP]
    return case
