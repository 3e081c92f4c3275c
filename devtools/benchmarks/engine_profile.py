"""Where time to first token goes: the engine alone (no HTTP), closed-loop clients, every step timed.

`python -m devtools.benchmarks.engine_profile [--clients 8] [--requests 6] [--output-tokens 64]`

Each client thread submits the benchmark's prompt (the same sentences `make bench` sends, through the chat
template), waits for its request to end and submits the next. For every request it records the time from
submit to admission (waiting for the running step to end, or for a batch slot), and from admission to its
first text (the step that prefilled it). Every engine step is timed by wrapping the batch's `prefill` and
`decode` (here only; the server has no such hook). It prints TTFT percentiles split into those parts and the
step durations by kind, so a TTFT spike can be put down to a long prefill, a queue, or the machine.

`--json` holds every request to a JSON schema (`response_format`): a list of records whose fields are
fixed-length strings, enums and integers, about as many tokens as the free-text runs. Run both to see what
the grammar costs per token.
"""

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from devtools.benchmarks.run import PROMPT_SENTENCE
from devtools.benchmarks.shapes import build_model
from inference_container.engine import Admitted, Engine, Finished, GenerationRequest, SamplingParams, TextDelta
from inference_container.engine.grammar import Grammars
from inference_container.metrics import ServerMetrics

RECORDS = {"type": "array", "minItems": 4, "maxItems": 4, "items": {
    "type": "object", "properties": {
        "name": {"type": "string", "minLength": 16, "maxLength": 16},
        "kind": {"enum": ["cat", "dog", "bird"]},
        "legs": {"type": "integer", "minimum": 0, "maximum": 8}},
    "required": ["name", "kind", "legs"], "additionalProperties": False}}


@dataclass
class Timing:
    """One request's moments (perf_counter seconds) and its output token count."""

    submitted: float
    admitted: float = 0.0
    first_text: float = 0.0
    tokens: int = 0
    ended: threading.Event = field(default_factory=threading.Event)


@dataclass
class StepLog:
    """Every engine step's kind, rows, tokens and seconds, taken by wrapping the batch's prefill and decode."""

    steps: list[tuple[str, int, int, float]] = field(default_factory=list)  # kind, rows, tokens, seconds

    def wrap(self, batch: Any) -> None:
        prefill, decode = batch.prefill, batch.decode

        def timed_prefill(prompts: list[list[int]], *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = prefill(prompts, *args, **kwargs)
            self.steps.append(("prefill", len(prompts), sum(len(p) for p in prompts), time.perf_counter() - start))
            return out

        def timed_decode(last: list[int], *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = decode(last, *args, **kwargs)
            self.steps.append(("decode", len(last), len(last), time.perf_counter() - start))
            return out

        batch.prefill, batch.decode = timed_prefill, timed_decode


def _client(engine: Engine, prompt: list[int], params: SamplingParams, count: int, out: list[Timing]) -> None:
    for i in range(count):
        timing = Timing(time.perf_counter())

        def emit(event: Any, timing: Timing = timing) -> None:
            now = time.perf_counter()
            if isinstance(event, Admitted):
                timing.admitted = now
            elif isinstance(event, TextDelta | Finished) and not timing.first_text and (event.text or
                                                                                      isinstance(event, Finished)):
                timing.first_text = now
            if isinstance(event, Finished):
                timing.tokens = event.completion_tokens
                timing.ended.set()

        engine.submit(GenerationRequest(f"{threading.get_ident()}-{i}", prompt, params, emit))
        timing.ended.wait(timeout=600)
        out.append(timing)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {1e3 * statistics.median(ordered):6.1f}  p99 {1e3 * p99:6.1f}  max {1e3 * ordered[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=6, help="per client, after one warm-up request each")
    parser.add_argument("--output-tokens", type=int, default=64)
    parser.add_argument("--share", type=Path, default=Path(".local/bench-share"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", action="store_true", help="hold every request to a JSON schema")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = build_model("tiny", args.share, "cpu")
    tokenizer = AutoTokenizer.from_pretrained(paths.base_dir)
    model = AutoModelForCausalLM.from_pretrained(paths.base_dir).eval()
    grammars = Grammars(tokenizer, int(model.get_input_embeddings().num_embeddings))
    engine = Engine(model, tokenizer, ServerMetrics(), max_batch_size=32, max_queue_size=256, grammars=grammars)
    log = StepLog()
    log.wrap(engine._batch)  # a profile of the engine's own steps
    engine.start()
    text = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT_SENTENCE * 4}], tokenize=False,
                                         add_generation_prompt=True)
    prompt = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    grammar = grammars.json(RECORDS) if args.json else None
    limit = 4 * args.output_tokens if args.json else args.output_tokens  # JSON replies end with their document
    params = SamplingParams(limit, temperature=0.7, top_p=0.9, ignore_eos=True, grammar=grammar)
    print(f"{args.clients} clients x {args.requests} requests, prompt {len(prompt)} tokens, "
          f"{'a JSON document' if args.json else f'{args.output_tokens} tokens'} each, "
          f"torch threads {torch.get_num_threads()}")
    for phase, count in (("warm-up", 1), ("measured", args.requests)):
        log.steps.clear()
        timings: list[Timing] = []
        threads = [threading.Thread(target=_client, args=(engine, prompt, params, count, timings))
                   for _ in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        if phase == "warm-up":
            continue
        tokens = sum(t.tokens for t in timings)
        print(f"{len(timings)} requests in {wall:.1f} s: {tokens / len(timings):.0f} tokens each, "
              f"{tokens / wall:.0f} tok/s")
        print(f"  TTFT                    {_ms([t.first_text - t.submitted for t in timings])}")
        print(f"    submit -> admitted    {_ms([t.admitted - t.submitted for t in timings])}")
        print(f"    admitted -> text      {_ms([t.first_text - t.admitted for t in timings])}")
        kinds: dict[tuple[str, int], list[float]] = {}
        for kind, rows, _, step_seconds in log.steps:
            kinds.setdefault((kind, rows), []).append(step_seconds)
        for (kind, rows), durations in sorted(kinds.items()):
            print(f"  {kind:7} {rows:2} rows x{len(durations):4}  {_ms(durations)}")
        busy = sum(s for *_, s in log.steps)
        print(f"  forward time {busy:.1f} s of {wall:.1f} s wall ({100 * busy / wall:.0f}%)")
    engine.stop()


if __name__ == "__main__":
    main()
