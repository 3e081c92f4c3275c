"""Incremental detokenization with stop strings: text is released only once no stop string can match it.

Each new token is decoded together with the ids of the last released piece only (the window of vLLM's
`detokenize_incrementally` and of `tokenizers.decoders.DecodeStream`), so a token costs the same at
position 10 as at position 4000; decoding the whole output at every token made a request quadratic in its
length, on the engine thread. `DecodeStream` (tokenizers 0.23) is not used as is: it has no way to flush
the bytes of a character still unfinished when a request ends (a whole decode shows them as U+FFFD), it
keeps skipped special tokens in its window (so a run of them, e.g. EOS under `ignore_eos`, grows it), and
a slow tokenizer needs the same scheme in Python anyway. Here one implementation runs on a fast
tokenizer's Rust decoder, or on `tokenizer.decode` for a slow one.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

UNFINISHED = "\ufffd"  # what a decoder shows for the bytes of a UTF-8 character still missing its tail

Decode = Callable[[list[int]], str]


class IncrementalDecoder:
    """Token ids in, new text out; the concatenated text equals one decode of all ids (special ids skipped)."""

    def __init__(self, decode: Decode, skipped_ids: frozenset[int]) -> None:
        self._decode, self._skipped = decode, skipped_ids
        self._ids: list[int] = []  # the last released piece's ids, then the ids whose text is not out yet
        self._released = 0  # how many of `_ids` belong to the last released piece
        self._prefix = ""  # the text of `_ids[:_released]` decoded alone: what the window's text starts with

    def step(self, token_id: int) -> str:
        """Add one token; the text it completes ("" while a character is unfinished, or for a special id)."""
        if token_id in self._skipped:
            return ""
        self._ids.append(token_id)
        text = self._decode(self._ids)
        if len(text) <= len(self._prefix) or text.endswith(UNFINISHED):
            return ""
        return self._release(text)

    def flush(self) -> str:
        """The text of ids not released yet, an unfinished character shown as a whole decode shows it."""
        text = self._decode(self._ids)
        return self._release(text) if len(text) > len(self._prefix) else ""

    def _release(self, text: str) -> str:
        new = text[len(self._prefix):]
        self._ids = self._ids[self._released:]
        self._released = len(self._ids)
        self._prefix = self._decode(self._ids)
        return new


class Detokenizer:
    """What a tokenizer's request streams share: its decode function and the special ids it skips."""

    def __init__(self, tokenizer: Any) -> None:
        if getattr(tokenizer, "is_fast", False):  # decode in Rust; skip what the Rust decoder skips
            backend = tokenizer.backend_tokenizer
            skipped = {i for i, token in tokenizer.added_tokens_decoder.items() if token.special}
        else:  # a slow tokenizer's own decode, which skips its `all_special_ids`
            backend, skipped = tokenizer, set(tokenizer.all_special_ids)
        self._decode: Decode = partial(backend.decode, skip_special_tokens=True)
        self._skipped = frozenset(skipped)

    def decoder(self) -> IncrementalDecoder:
        """A fresh incremental decoder for one request."""
        return IncrementalDecoder(self._decode, self._skipped)

    def stream(self, stop: tuple[str, ...]) -> "StopAwareText":
        """A fresh stop-aware text stream for one request."""
        return StopAwareText(self.decoder(), stop)


class StopAwareText:
    """Turns tokens into text deltas, cutting the output before any stop string; keeps only unreleased text."""

    def __init__(self, decoder: IncrementalDecoder, stop: tuple[str, ...]) -> None:
        self._decoder, self._stop = decoder, stop
        self._hold = max((len(s) for s in stop), default=1) - 1
        self._pending = ""  # decoded, not released: at most `_hold` characters between calls

    def add(self, token_id: int) -> tuple[str, bool]:
        """Append a token; return (text safe to release now, whether a stop string was hit)."""
        self._pending += self._decoder.step(token_id)
        hits = [i for i in (self._pending.find(s) for s in self._stop) if i >= 0]
        if hits:
            delta, self._pending = self._pending[:min(hits)], ""
            return delta, True
        safe = len(self._pending) - self._hold
        if safe <= 0:
            return "", False
        delta, self._pending = self._pending[:safe], self._pending[safe:]
        return delta, False

    def rest(self) -> str:
        """Everything not yet released (at the end of a request that did not hit a stop string)."""
        delta, self._pending = self._pending + self._decoder.flush(), ""
        return delta
