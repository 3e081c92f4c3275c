"""Closed-loop streaming clients against an app's endpoint: what each request got, and which version answered.

Each client sends one streaming chat completion after another (greedy, a few tokens) with the openai client and no
retries, and records when it started and ended, when its first token came, the adapter version that answered (the
chunks' system_fingerprint `adapter-<version>`), and how it failed: an error, or a stream that ended without a
finish_reason (truncated). Options for the benchmark (`python -m devtools.bench_redeploy`): `ignore_eos` (every
request generates `max_tokens`), and a pause after a failed request (a client that retries at once would spin on
a port that refuses connections).
"""

import threading
import time
from dataclasses import dataclass, field

from openai import OpenAI

FINGERPRINT_PREFIX = "adapter-"


@dataclass
class Reply:
    """One request: its times, the version that answered, and its failure ("" when it succeeded)."""

    started: float
    ended: float
    version: str | None = None
    failure: str = ""
    first_token: float | None = None  # monotonic time of the first chunk with content (or the finish)


@dataclass
class LoadClients:
    """`clients` closed-loop streaming clients on `endpoint` until stopped."""

    endpoint: str
    api_key: str
    clients: int = 3
    max_tokens: int = 8
    ignore_eos: bool = False
    pause_after_failure: float = 0.0
    replies: list[Reply] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def model(self) -> str:
        """The id that always means whichever adapter version serves (the last card: the alias)."""
        client = OpenAI(base_url=f"{self.endpoint}/v1", api_key=self.api_key, max_retries=0, timeout=30)
        return client.models.list().data[-1].id

    def __enter__(self) -> "LoadClients":
        model = self.model()
        for index in range(self.clients):
            thread = threading.Thread(target=self._loop, args=(model, index), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _loop(self, model: str, index: int) -> None:
        client = OpenAI(base_url=f"{self.endpoint}/v1", api_key=self.api_key, max_retries=0, timeout=120)
        while not self.stopping.is_set():
            reply = Reply(started=time.monotonic(), ended=0.0)
            finished = False
            try:
                stream = client.chat.completions.create(
                    model=model, stream=True, max_tokens=self.max_tokens, temperature=0,
                    messages=[{"role": "user", "content": f"Client {index}: say something."}],
                    extra_body={"ignore_eos": True} if self.ignore_eos else None)
                for chunk in stream:
                    if chunk.system_fingerprint and chunk.system_fingerprint.startswith(FINGERPRINT_PREFIX):
                        reply.version = chunk.system_fingerprint.removeprefix(FINGERPRINT_PREFIX)
                    finished = finished or any(choice.finish_reason for choice in chunk.choices)
                    if reply.first_token is None and (finished or any(c.delta.content for c in chunk.choices)):
                        reply.first_token = time.monotonic()
                if not finished:
                    reply.failure = "truncated: the stream ended without a finish_reason"
            except Exception as error:  # every failure counts; the kind is what the report shows
                reply.failure = f"{type(error).__name__}: {str(error)[:160]}"
            reply.ended = time.monotonic()
            with self.lock:
                self.replies.append(reply)
            if reply.failure and self.pause_after_failure:
                self.stopping.wait(self.pause_after_failure)

    def snapshot(self) -> list[Reply]:
        """The replies so far."""
        with self.lock:
            return list(self.replies)

    def wait_for(self, count: int, after: float, timeout: float = 120.0) -> list[Reply]:
        """Wait until `count` replies started after `after` (monotonic) ended; the replies so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(reply.started >= after for reply in self.snapshot()) >= count:
                break
            time.sleep(0.05)
        return self.snapshot()
