"""JSON output held to a grammar: `response_format` json_object and json_schema, through llguidance.

llguidance was chosen over xgrammar by measurement (devtools/benchmarks/grammar_engines.py, results in
devtools/benchmarks/results/grammar_engines.md): every reply it allowed was valid JSON that validated, while
xgrammar 0.2.8 let raw control characters into strings; it compiles a schema in 1-2 ms against xgrammar's
8-68 ms (paid by each request before its first token); and it installs 8 MB against xgrammar's 1 GB (triton).
xgrammar fills one row's mask faster; here the mask of each constrained row is filled in parallel (Rust
threads, outside the GIL).

A constrained row's logits are masked to the tokens that keep its text a prefix of a valid reply, so every
draw (greedy or sampled, seeded or not) stays on the grammar, and the row ends ("stop") when the grammar is
complete and the model picks the end token, or when nothing can follow. JSON is written without optional
whitespace: a small model cannot then loop on blank lines.
"""

import json
from dataclasses import dataclass
from typing import Any

import llguidance
import llguidance.hf
import llguidance.torch as llt
import torch


class GrammarError(ValueError):
    """The schema cannot be turned into a grammar; the message says why."""


@dataclass(frozen=True)
class Grammar:
    """A checked grammar (llguidance's serialized form), ready for a matcher per row."""

    text: str


class Grammars:
    """The tokenizer's view that grammars are compiled against, built once per loaded model."""

    def __init__(self, tokenizer: Any, vocab_size: int) -> None:
        self.vocab_size = vocab_size
        eos = tokenizer.eos_token_id
        self._tokenizer = llguidance.hf.from_tokenizer(tokenizer, vocab_size, eos_token=eos)
        self._executor = llguidance.LLExecutor()

    def json(self, schema: dict[str, Any] | None) -> Grammar:
        """A grammar for JSON valid against `schema` (None: any JSON object); GrammarError if unusable."""
        try:
            text = llguidance.LLMatcher.grammar_from_json_schema(
                json.dumps(schema if schema is not None else {"type": "object"}),
                defaults={"whitespace_flexible": False})
        except ValueError as exc:
            raise GrammarError(str(exc)) from None
        problem = llguidance.LLMatcher.validate_grammar(text, self._tokenizer)
        if problem:
            raise GrammarError(problem)
        return Grammar(text)

    def matcher(self, grammar: Grammar) -> llguidance.LLMatcher:
        """A fresh matcher at the grammar's start (one per generated choice)."""
        matcher = llguidance.LLMatcher(self._tokenizer, grammar.text)
        if matcher.is_error():
            raise GrammarError(matcher.get_error())
        return matcher

    def mask(self, matchers: list[tuple[int, llguidance.LLMatcher]], rows: int) -> torch.Tensor:
        """Allowed tokens of the given (row, matcher) pairs as a bool mask [rows, vocab] (other rows all True)."""
        bitmask = llt.allocate_token_bitmask(rows, self.vocab_size)
        bitmask.fill_(-1)
        llt.fill_next_token_bitmask_par(self._executor, [(m, row) for row, m in matchers], bitmask)
        bits = torch.arange(32, dtype=torch.int32)
        allowed = (bitmask.unsqueeze(-1) >> bits) & 1
        return allowed.reshape(rows, -1)[:, :self.vocab_size].bool()
