"""Which grammar engine constrains `response_format`: xgrammar against llguidance, measured side by side.

`python -m devtools.benchmarks.grammar_engines` (needs both installed: `pip install xgrammar llguidance`; the
project itself installs only the one chosen). For each engine and tokenizer (the tiny model's 512-token BPE,
and a 32,000-token byte-level BPE trained here on the standard library's sources, Phi-3's vocabulary size)
it prints:

- set-up: building the engine's tokenizer view (once per server start);
- compile: turning a grammar into a matcher, per request (the builtin JSON grammar, and three schemas, each
  compiled cold with a fresh compiler so no cache helps);
- mask: filling one row's allowed-token bitmask and advancing by one token, p50 / p99 over random walks,
  and the time to fill 32 rows' masks for one decode step;
- validity: random walks (random logits, masked) that ended within 256 tokens and whose text parses and
  validates against the schema;
- install: the size of the package and of what it pulls in.

Nothing here decides at run time: the result is read by a person and recorded in results/grammar_engines.md.
"""

import glob
import importlib.metadata
import importlib.util
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jsonschema
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from devtools.tiny_model.tokenizer import train_tokenizer

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        "kind": {"enum": ["cat", "dog", "bird"]},
        "address": {"type": "object", "properties": {"city": {"type": "string"},
                                                     "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                    "required": ["city", "zip"], "additionalProperties": False},
    },
    "required": ["name", "age", "tags", "kind", "address"], "additionalProperties": False,
}
WIDE = {
    "type": "object",
    "properties": {f"field_{i}": {"type": ["string", "integer", "boolean"][i % 3]} for i in range(30)},
    "required": [f"field_{i}" for i in range(30)], "additionalProperties": False,
}
NESTED = {
    "$defs": {"node": {"type": "object", "properties": {
        "label": {"type": "string", "maxLength": 12},
        "weight": {"type": "number"},
        "child": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
        "required": ["label", "weight", "child"], "additionalProperties": False}},
    "$ref": "#/$defs/node",
}
SCHEMAS: dict[str, dict[str, Any] | None] = {"json_object": None, "person": PERSON, "wide-30": WIDE,
                                             "nested-ref": NESTED}
WALKS, MAX_TOKENS, BATCH = 40, 256, 32


class Constraint(Protocol):
    """One engine's matcher for one row: fill its mask row, advance, and say whether it ended."""

    def fill(self, bitmask: torch.Tensor, row: int) -> None: ...
    def advance(self, token: int) -> bool: ...
    def stopped(self) -> bool: ...


@dataclass
class Engine:
    name: str
    package: str
    setup: Callable[[PreTrainedTokenizerFast, int], Any]
    compile: Callable[[Any, dict[str, Any] | None], Any]
    matcher: Callable[[Any], Constraint]
    allocate: Callable[[int, int], torch.Tensor]
    apply: Callable[[torch.Tensor, torch.Tensor], None]


def _xgrammar() -> Engine:
    import xgrammar as xgr

    class Matcher(Constraint):
        def __init__(self, compiled: Any) -> None:
            self._m = xgr.GrammarMatcher(compiled)

        def fill(self, bitmask: torch.Tensor, row: int) -> None:
            self._m.fill_next_token_bitmask(bitmask, row)

        def advance(self, token: int) -> bool:
            return bool(self._m.accept_token(token))

        def stopped(self) -> bool:
            return bool(self._m.is_terminated())

    def compile_(info: Any, schema: dict[str, Any] | None) -> Any:
        compiler = xgr.GrammarCompiler(info, cache_enabled=False)
        return compiler.compile_json_schema(json.dumps(schema if schema is not None else {"type": "object"}),
                                            strict_mode=True, any_whitespace=False)

    return Engine("xgrammar", "xgrammar",
                  lambda tok, vocab: xgr.TokenizerInfo.from_huggingface(tok, vocab_size=vocab),
                  compile_, Matcher, xgr.allocate_token_bitmask,
                  lambda logits, mask: xgr.apply_token_bitmask_inplace(logits, mask))


def _llguidance() -> Engine:
    import llguidance
    import llguidance.hf
    import llguidance.torch as llt

    class Matcher(Constraint):
        def __init__(self, compiled: Any) -> None:
            self._m = llguidance.LLMatcher(*compiled)
            if self._m.is_error():
                raise ValueError(self._m.get_error())

        def fill(self, bitmask: torch.Tensor, row: int) -> None:
            llt.fill_next_token_bitmask(self._m, bitmask, row)

        def advance(self, token: int) -> bool:
            return bool(self._m.consume_token(token))

        def stopped(self) -> bool:
            return bool(self._m.is_stopped())

    def compile_(tok: Any, schema: dict[str, Any] | None) -> Any:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            json.dumps(schema if schema is not None else {"type": "object"}),
            defaults={"whitespace_flexible": False})
        matcher = llguidance.LLMatcher(tok, grammar)  # validates the grammar and builds its lexer
        return tok, grammar, matcher

    return Engine("llguidance", "llguidance", lambda tok, vocab: llguidance.hf.from_tokenizer(tok, vocab),
                  compile_, lambda compiled: Matcher(compiled[:2]), llt.allocate_token_bitmask,
                  lambda logits, mask: llt.apply_token_bitmask_inplace(logits, mask))


def big_tokenizer(vocab: int = 32000) -> PreTrainedTokenizerFast:
    """A byte-level BPE of `vocab` tokens trained on this Python's standard library sources (a few seconds)."""
    files = sorted(glob.glob(f"{Path(json.__file__).parent.parent}/**/*.py", recursive=True))

    def lines() -> Any:
        for name in files:
            yield from Path(name).read_text(encoding="utf-8", errors="replace").splitlines()

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(lines(), trainer=trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=["<|pad|>", "<|begin|>", "<|end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|begin|>", eos_token="<|end|>",
                                   pad_token="<|pad|>")


def closing_bias(tok: PreTrainedTokenizerFast) -> torch.Tensor:
    """+3 on the end token and on tokens holding a quote, comma or closing bracket: walks end sooner."""
    bias = torch.zeros(len(tok))
    for token in range(len(tok)):
        if token == tok.eos_token_id or any(c in tok.decode([token]) for c in '"},]'):
            bias[token] = 3.0
    return bias


def _walk(engine: Engine, compiled: Any, bias: torch.Tensor, eos: int, rng: torch.Generator,
          timings: list[float]) -> list[int] | None:
    """Random logits, masked, greedy: the tokens of one walk, or None if it did not end in MAX_TOKENS."""
    matcher = engine.matcher(compiled)
    bitmask = engine.allocate(1, len(bias))
    tokens: list[int] = []
    for _ in range(MAX_TOKENS):
        logits = torch.randn((1, len(bias)), generator=rng) + bias
        start = time.perf_counter()
        matcher.fill(bitmask, 0)
        engine.apply(logits, bitmask)
        token = int(logits.argmax())
        if not matcher.advance(token):
            raise AssertionError(f"{engine.name} refused a token its own mask allowed")
        timings.append(time.perf_counter() - start)
        if token != eos:
            tokens.append(token)
        if matcher.stopped():
            return tokens
    return None


def _batch_fill(engine: Engine, compiled: Any, vocab: int) -> float:
    """Seconds to fill BATCH rows' masks for one step (each row a fresh matcher a few tokens in)."""
    matchers = [engine.matcher(compiled) for _ in range(BATCH)]
    bitmask = engine.allocate(BATCH, vocab)
    start = time.perf_counter()
    for row, matcher in enumerate(matchers):
        matcher.fill(bitmask, row)
    return time.perf_counter() - start


def _installed_mb(package: str) -> float:
    """Megabytes of the package's files plus those of what it requires that nothing in the project did."""
    seen, total, todo = set(), 0, [package]
    project = {"torch", "transformers", "numpy", "pydantic", "ninja", "safetensors", "sentencepiece",
               "tiktoken", "typing-extensions", "filelock", "fsspec", "jinja2", "networkx", "sympy"}
    while todo:
        name = todo.pop()
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        total += sum((f.size or 0) for f in dist.files or [])
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            dep = req.split(";")[0].split("[")[0].split(" ")[0]
            for sep in "<>=!~":
                dep = dep.split(sep)[0]
            if dep.lower() not in project:
                todo.append(dep)
    return total / 1e6


def run(engine: Engine, label: str, tok: PreTrainedTokenizerFast) -> list[str]:
    vocab, eos, bias = len(tok), int(tok.eos_token_id), closing_bias(tok)
    start = time.perf_counter()
    view = engine.setup(tok, vocab)
    lines = [f"| {engine.name} | {label} | set-up | {1e3 * (time.perf_counter() - start):.0f} ms | |"]
    for name, schema in SCHEMAS.items():
        start = time.perf_counter()
        compiled = engine.compile(view, schema)
        compile_ms = 1e3 * (time.perf_counter() - start)
        rng = torch.Generator().manual_seed(7)
        timings: list[float] = []
        ended = valid = 0
        for _ in range(WALKS):
            tokens = _walk(engine, compiled, bias, eos, rng, timings)
            if tokens is None:
                continue
            ended += 1
            try:
                document = json.loads(str(tok.decode(tokens)))
                jsonschema.validate(document, schema if schema is not None else {"type": "object"})
                valid += 1
            except (ValueError, jsonschema.ValidationError):
                pass
        ordered = sorted(timings)
        p50, p99 = statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]
        batch = statistics.median(_batch_fill(engine, compiled, vocab) for _ in range(5))
        lines.append(f"| {engine.name} | {label} | {name} | compile {compile_ms:.1f} ms; mask+advance p50 "
                     f"{1e6 * p50:.0f} µs, p99 {1e6 * p99:.0f} µs; {BATCH} rows {1e3 * batch:.2f} ms "
                     f"| {valid}/{ended} valid of {WALKS} walks ({ended} ended) |")
    return lines


def main() -> None:
    if importlib.util.find_spec("xgrammar") is None:  # the project installs only llguidance, the one chosen
        raise SystemExit("this comparison needs xgrammar too: pip install xgrammar==0.2.8 (it pulls in ~1 GB)")
    random.seed(0)
    torch.manual_seed(0)
    tokenizers = {"512 (tiny)": train_tokenizer(512), "32,000": big_tokenizer()}
    engines = [_xgrammar(), _llguidance()]
    print("| engine | vocab | grammar | time | result |\n|---|---|---|---|---|")
    for engine in engines:
        for label, tok in tokenizers.items():
            print("\n".join(run(engine, label, tok)), flush=True)
    for engine in engines:
        version = importlib.metadata.version(engine.package)
        print(f"{engine.name} {version}: {_installed_mb(engine.package):.0f} MB installed with what it pulls in "
              f"beyond torch/transformers", file=sys.stdout)


if __name__ == "__main__":
    main()
