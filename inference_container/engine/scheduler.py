"""The engine thread: admits waiting requests between steps and decodes all running rows together.

The measurements that chose this design are in the package docstring (`inference_container.engine`).
Between steps it can also run a function with nothing in flight (`call_when_idle`: the adapter swap changes
the weights there) and hold client requests back while internal ones still run (`hold`: the swap's gate).
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch

from inference_container.base_view import BaseModelView
from inference_container.engine.batch import Forward, PaddedBatch
from inference_container.engine.detokenize import Detokenizer, StopAwareText
from inference_container.engine.grammar import Grammars
from inference_container.engine.sampling import BatchSampler, Pick, make_generator
from inference_container.engine.types import Admitted, Finished, GenerationRequest, TextDelta, TokenLogprob
from inference_container.metrics import ServerMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")


class QueueFullError(Exception):
    """Raised by `Engine.submit` when the waiting queue is full."""


@dataclass
class _Sequence:
    request: GenerationRequest
    text: StopAwareText
    generator: torch.Generator | None
    matcher: Any = None  # its grammar's matcher (llguidance.LLMatcher) when the request has a response_format
    arrived: float = field(default_factory=time.monotonic)
    index: int = 0  # which of the request's `n` choices this row produces
    output: list[int] = field(default_factory=list)
    pending_logprobs: list[TokenLogprob] = field(default_factory=list)  # of tokens whose text is not out yet
    last_token: int = 0
    done: bool = False


class Engine:
    """Owns the model; `submit` from any thread, events come back through each request's `emit`."""

    def __init__(self, model: Any, tokenizer: Any, metrics: ServerMetrics, max_batch_size: int,
                 max_queue_size: int, base_view: BaseModelView | None = None,
                 adapter_version: str | None = None, grammars: Grammars | None = None) -> None:
        self._detokenizer, self._metrics = Detokenizer(tokenizer), metrics
        self._device = next(model.parameters()).device
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        forward = base_view.forward if base_view is not None else _merged_only(model)
        sdpa = getattr(getattr(model, "config", None), "_attn_implementation", None) == "sdpa"
        self._batch = PaddedBatch(forward, self._device, int(pad or 0), mask_4d=sdpa)
        self._grammars = grammars
        self._sampler = BatchSampler(self._device, grammars)
        self._eos = _eos_ids(model, tokenizer)
        self._max_batch, self._max_queue = max_batch_size, max_queue_size
        self._waiting: deque[_Sequence] = deque()
        self._running: list[_Sequence] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._held = False  # client requests wait in the queue; internal ones are still admitted
        self._idle_calls: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self.adapter_version = adapter_version  # whose weights fine-tune rows run on; changed only when idle
        self._thread = threading.Thread(target=self._loop, name="engine", daemon=True)

    @property
    def max_batch_size(self) -> int:
        """Rows decoded together (a request with `n` choices takes `n` rows)."""
        return self._max_batch

    def start(self) -> None:
        """Start the step loop thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the step loop to end and wait for it."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        with self._cond:
            for _, future in self._idle_calls:
                if future.set_running_or_notify_cancel():
                    future.set_exception(RuntimeError("the engine stopped"))
            self._idle_calls.clear()

    def hold(self) -> None:
        """Stop admitting client requests (they wait in the queue, in order); internal requests still run."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        """Admit client requests again."""
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def call_when_idle(self, fn: Callable[[], T]) -> "Future[T]":
        """Run `fn` on the engine thread once no request is running; nothing is admitted until it has run.

        The running batch finishes first (on the weights it started with); `fn` may then change the weights.
        """
        future: Future[T] = Future()
        with self._cond:
            if self._stopped:
                future.set_exception(RuntimeError("the engine stopped"))
                return future
            self._idle_calls.append((fn, future))
            self._cond.notify_all()
        return future

    def submit(self, request: GenerationRequest) -> None:
        """Queue a request; raise QueueFullError when running and waiting slots are all taken.

        An internal request (the start-up warm-up) is never refused: it waits for a batch slot instead.
        """
        seq = _Sequence(request, self._detokenizer.stream(request.params.stop),
                        make_generator(request.params, self._device), self._matcher(request))
        with self._cond:
            full = len(self._running) + len(self._waiting) >= self._max_batch + self._max_queue
            if full and not request.internal:
                raise QueueFullError()
            self._waiting.append(seq)
            self._metrics.num_waiting.set(len(self._waiting))
            self._cond.notify_all()

    def _matcher(self, request: GenerationRequest) -> Any:
        """A fresh grammar matcher for one choice of `request`, or None when it has no grammar."""
        if request.params.grammar is None:
            return None
        if self._grammars is None:
            raise ValueError("this engine was built without grammar support")
        return self._grammars.matcher(request.params.grammar)

    def cancel(self, request: GenerationRequest) -> None:
        """Stop a request (its client went away); its slot is freed before the next step."""
        request.cancelled = True
        with self._cond:
            for seq in [s for s in self._waiting if s.request is request]:
                self._waiting.remove(seq)
                self._finish(seq, "abort")
            self._metrics.num_waiting.set(len(self._waiting))
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and not self._running and not self._idle_calls and not self._admissible():
                    self._cond.wait()
                if self._stopped:
                    return
                call = self._idle_calls.popleft() if self._idle_calls and not self._running else None
                admitted = self._admit() if call is None else []
            if call is not None:
                self._run_idle_call(*call)
                continue
            if not admitted and not self._running:
                continue  # everything that was waiting had been cancelled, or an idle call waits for the batch
            try:
                with torch.inference_mode():
                    self._step(admitted)
            except Exception:  # a failing forward must not kill the engine; fail the batch instead
                log.exception("engine step failed; failing %d running requests", len(self._running))
                self._fail_all()

    @staticmethod
    def _run_idle_call(fn: Callable[[], Any], future: "Future[Any]") -> None:
        if not future.set_running_or_notify_cancel():  # its caller gave up waiting
            return
        try:
            with torch.no_grad():
                future.set_result(fn())
        except BaseException as exc:  # handed to the caller, who decides what it means
            future.set_exception(exc)

    def _admissible(self) -> bool:
        return any(not self._held or s.request.internal or s.request.cancelled for s in self._waiting)

    def _admit(self) -> list[_Sequence]:
        admitted: list[_Sequence] = []
        while self._idle_calls and self._idle_calls[0][1].cancelled():  # its caller stopped waiting for it
            self._idle_calls.popleft()
        if self._idle_calls:  # let the running batch drain so the idle call can run
            return admitted
        kept: deque[_Sequence] = deque()
        rows = len(self._running)
        while self._waiting and rows < self._max_batch:
            seq = self._waiting[0]
            request = seq.request
            if request.cancelled:
                self._finish(self._waiting.popleft(), "abort")
            elif self._held and not request.internal:
                kept.append(self._waiting.popleft())
            elif (request.adapter_version is not None and not request.base_model
                  and request.adapter_version != self.adapter_version):
                self._finish(self._waiting.popleft(), "model_gone")
            elif rows + request.params.n > self._max_batch:
                break  # its choices wait for room together, and nothing overtakes it
            else:
                admitted.append(self._waiting.popleft())
                rows += request.params.n
        self._waiting.extendleft(reversed(kept))
        self._metrics.num_waiting.set(len(self._waiting))
        return admitted

    def _step(self, admitted: list[_Sequence]) -> None:
        if admitted:
            try:
                logits, cache, mask = self._batch.prefill([s.request.prompt_ids for s in admitted],
                                                          [s.request.base_model for s in admitted],
                                                          [s.request.params.n for s in admitted])
            except Exception:  # e.g. out of memory on a long prompt: fail the newcomers, keep the batch
                log.exception("prefill of %d new requests failed", len(admitted))
                for seq in admitted:
                    self._finish(seq, "error")
                return
            self._batch.append(cache, mask)
            rows = [row for seq in admitted for row in self._choices(seq)]
            for seq in admitted:
                seq.request.emit(Admitted(None if seq.request.base_model else self.adapter_version))
            self._sampler.append([s.request.params for s in rows], [s.generator for s in rows],
                                 [s.matcher for s in rows])
            start = len(self._running)
            self._running.extend(rows)
        else:
            logits = self._batch.decode([s.last_token for s in self._running],
                                        [s.request.base_model for s in self._running])
            start = 0
        self._metrics.num_running.set(len(self._running))
        chosen = self._sampler.sample(logits, start)
        for seq, pick in zip(self._running[start:], chosen, strict=True):
            self._advance(seq, pick)
        self._drop_finished()

    def _choices(self, seq: _Sequence) -> list[_Sequence]:
        """The rows of an admitted request: itself as choice 0, then its other choices (sharing its prefill)."""
        request = seq.request
        return [seq] + [_Sequence(request, self._detokenizer.stream(request.params.stop),
                                  make_generator(request.params, self._device, index), self._matcher(request),
                                  arrived=seq.arrived, index=index) for index in range(1, request.params.n)]

    def _advance(self, seq: _Sequence, pick: Pick) -> None:
        token, logprob = pick.token, pick.logprob
        if seq.done or seq.request.cancelled:
            return
        if pick.grammar_failed:
            log.error("request %s: its grammar matcher refused token %d", seq.request.request_id, token)
            self._finish(seq, "error")
            return
        if not seq.output and seq.index == 0 and not seq.request.internal:
            self._metrics.ttft.observe(time.monotonic() - seq.arrived)
        seq.output.append(token)
        seq.last_token = token
        params = seq.request.params
        if token in self._eos and (not params.ignore_eos or pick.grammar_done):
            self._finish(seq, "stop")  # the end token is not part of the output, nor of its logprobs
            return
        if logprob is not None:
            seq.pending_logprobs.append(logprob)
        delta, hit_stop = seq.text.add(token)
        if hit_stop:
            self._finish(seq, "stop", delta)
            return
        if pick.grammar_done:  # nothing may follow: the reply is complete
            self._finish(seq, "stop", delta + seq.text.rest())
            return
        if len(seq.output) >= params.max_new_tokens:
            self._finish(seq, "length", delta + seq.text.rest())
            return
        if delta:
            seq.request.emit(TextDelta(delta, seq.index, self._take_logprobs(seq)))

    @staticmethod
    def _take_logprobs(seq: _Sequence) -> tuple[TokenLogprob, ...]:
        taken, seq.pending_logprobs = tuple(seq.pending_logprobs), []
        return taken

    def _finish(self, seq: _Sequence, reason: str, text: str | None = None) -> None:
        if text is None:
            text = seq.text.rest() if reason == "stop" else ""
        seq.done = True
        prompt, completion = len(seq.request.prompt_ids), len(seq.output)
        if not seq.request.internal:  # a request's prompt is counted once, with its first choice
            self._metrics.record_finish(reason, prompt if seq.index == 0 else 0, completion,
                                        time.monotonic() - seq.arrived)
        seq.request.emit(Finished(reason, prompt, completion, text, seq.index, self._take_logprobs(seq)))

    def _drop_finished(self) -> None:
        for seq in self._running:
            if seq.request.cancelled and not seq.done:
                self._finish(seq, "abort")
        keep = [i for i, s in enumerate(self._running) if not s.done]
        if len(keep) != len(self._running):
            self._batch.keep(keep)
            self._sampler.keep(keep)
            with self._cond:
                self._running = [self._running[i] for i in keep]
        self._metrics.num_running.set(len(self._running))

    def _fail_all(self) -> None:
        for seq in self._running:
            if not seq.done:
                self._finish(seq, "error")
        self._batch.keep([])
        self._sampler.keep([])
        with self._cond:
            self._running = []
        self._metrics.num_running.set(0)


def _merged_only(model: Any) -> Forward:
    """The forward of a server without a base view: every row runs on the one model."""

    def forward(base_rows: list[bool], **inputs: Any) -> Any:
        return model(**inputs)

    return forward


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(int(v) for v in value)
    return ids
