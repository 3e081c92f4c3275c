"""Incremental detokenization with stop strings: text is released only once no stop string can match it."""

from typing import Any


class StopAwareText:
    """Turns a growing list of token ids into text deltas, cutting the output before any stop string."""

    def __init__(self, tokenizer: Any, stop: tuple[str, ...]) -> None:
        self._tokenizer = tokenizer
        self._stop = stop
        self._hold = max((len(s) for s in stop), default=1) - 1
        self._ids: list[int] = []
        self._text = ""
        self.emitted = 0

    def add(self, token_id: int) -> tuple[str, bool]:
        """Append a token; return (text safe to release now, whether a stop string was hit)."""
        self._ids.append(token_id)
        self._text = self._tokenizer.decode(self._ids, skip_special_tokens=True)
        hit = self._find_stop()
        if hit is not None:
            delta = self._text[self.emitted:hit]
            self.emitted = max(self.emitted, hit)
            return delta, True
        safe = len(self._text) - self._hold
        if self._text.endswith("\ufffd"):  # an incomplete UTF-8 sequence: wait for the next token
            safe = min(safe, len(self._text) - 1)
        if safe <= self.emitted:
            return "", False
        delta, self.emitted = self._text[self.emitted:safe], safe
        return delta, False

    def rest(self) -> str:
        """Everything not yet released (at the end of a request that did not hit a stop string)."""
        delta = self._text[self.emitted:]
        self.emitted = len(self._text)
        return delta

    def _find_stop(self) -> int | None:
        start = max(0, self.emitted - self._hold)
        hits = [i for i in (self._text.find(s, start) for s in self._stop) if i >= 0]
        return min(hits) if hits else None
