"""Swap the served adapter version in place: load, drain, rewrite the merged weights, gate, commit or swap back.

1. Off the engine thread: read and check the new adapter and compute every touched weight (`adapter_weights`).
   A failure here is a 422 and nothing changed.
2. Hold client requests (they wait in the queue) and, once the running batch has finished on the old weights,
   on the engine thread: load the new LoRA negated into the base view, write the new merged weights.
3. Run the gate prompts (internal requests, still before any client request). If one fails, write back the
   saved old weights and view (409 with the transcript); else drop the old view adapter and serve the new ids.
4. Admit client requests again; write the new merged weights to the merge cache in the background.
One swap at a time: a second one meanwhile is a 409 `swap_in_progress`.
"""

import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from inference_container import merge_cache
from inference_container.adapter_weights import (
    AdapterLoadError,
    AdapterVersion,
    BaseTensors,
    SwapPlan,
    load_adapter,
    plan_swap,
)
from inference_container.base_view import BaseModelView
from inference_container.engine import Engine
from inference_container.errors import APIError
from inference_container.gate import GateResult, GateSpec, run_gate
from inference_container.metrics import ServerMetrics
from inference_container.served_models import ServedModels
from inference_container.settings import Settings

log = logging.getLogger(__name__)


class SwapError(APIError):
    """A swap that did not happen (or was undone): its HTTP status, error type and extra answer fields."""

    def __init__(self, status: int, err_type: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(status, message, code=err_type, err_type=err_type, extra=extra)


class AdapterSwapper:
    """Owns the adapter version being served by one engine; `swap` blocks (call it from a worker thread)."""

    def __init__(self, settings: Settings, engine: Engine, model: Any, base_view: BaseModelView | None,
                 tokenizer: Any, max_model_len: int, models: ServedModels, metrics: ServerMetrics) -> None:
        self._settings, self._engine, self._model, self._view = settings, engine, model, base_view
        self._tokenizer, self._max_model_len, self._models, self._metrics = tokenizer, max_model_len, models, metrics
        self._lock = threading.Lock()
        self._base = BaseTensors(settings.model_path)
        self._cache_writer: threading.Thread | None = None
        self.version, self.adapter_path = settings.adapter_model_name, settings.adapter_path
        self.last_swap: dict[str, Any] | None = None
        self.swapping: str | None = None  # the version a swap in progress is bringing in
        self._current: AdapterVersion | None = None
        self._unsupported: str | None = None
        if self.version is not None and self.adapter_path is not None:
            try:
                self._current = load_adapter(self.version, self.adapter_path, model)
            except AdapterLoadError as exc:
                self._unsupported = f"the adapter served since start-up cannot be swapped out: {exc}"
        metrics.adapter_version.info({"version": self.version or ""})

    def status(self) -> dict[str, Any]:
        """Body of GET /admin/adapter."""
        return {"version": self.version, "alias": self._models.alias,
                "adapter_path": str(self.adapter_path) if self.adapter_path else None,
                "swap_in_progress": self.swapping, "last_swap": self.last_swap}

    def swap(self, version: str, adapter_path: Path, gate: GateSpec | None) -> dict[str, Any]:
        """Serve `version` from `adapter_path` if it loads and passes `gate`; the 200 body, or SwapError."""
        if not self._lock.acquire(blocking=False):
            raise SwapError(409, "swap_in_progress", "Another adapter swap is in progress; retry when it has ended.")
        self.swapping = version
        try:
            body = self._swap(version, adapter_path, gate)
            self._record("success", body)
            return body
        except SwapError as exc:
            self._record(exc.err_type or "swap_failed", {"version": self.version, "attempted_version": version,
                                                        "error": exc.message, **(exc.extra or {})})
            raise
        finally:
            self.swapping = None
            self._lock.release()

    def _record(self, result: str, body: dict[str, Any]) -> None:
        self._metrics.adapter_swaps.labels(result=result).inc()
        self.last_swap = {"result": result, **body}

    def _swap(self, version: str, adapter_path: Path, gate: GateSpec | None) -> dict[str, Any]:
        started = time.monotonic()
        if self._view is None or self._current is None:
            raise SwapError(409, "swap_unsupported", self._unsupported or
                            "This server was started without an adapter (ADAPTER_PATH), so it has none to swap.")
        if version in (self._models.base, self._models.alias):
            raise SwapError(422, "adapter_load_failed", f"version '{version}' is already the id of another model")
        self._wait_for_cache_write()
        try:
            new = load_adapter(version, adapter_path, self._model)
            plan = plan_swap(self._model, self._base, self._current, new)
        except AdapterLoadError as exc:
            raise SwapError(422, "adapter_load_failed", f"The adapter was not loaded: {exc}") from None
        loaded = time.monotonic()
        previous = self._current
        gate_result, paused_s = self._swap_paused(previous, new, plan, gate)
        self._current, self.version, self.adapter_path = new, version, adapter_path
        self._metrics.adapter_version.info({"version": version})
        self._start_cache_write(adapter_path)
        body = {"version": version, "previous_version": previous.version, "paused_s": round(paused_s, 3),
                "load_s": round(loaded - started, 3), "total_s": round(time.monotonic() - started, 3),
                "gate": gate_result.to_json() if gate_result else None}
        log.info("adapter swap %s -> %s: paused %.3fs, total %.3fs", previous.version, version, paused_s,
                 body["total_s"])
        return body

    def _swap_paused(self, old: AdapterVersion, new: AdapterVersion, plan: SwapPlan,
                     gate: GateSpec | None) -> tuple[GateResult | None, float]:
        """Steps 2-3, with client requests held back; the gate's result and how long they were held."""
        paused = time.monotonic()
        self._engine.hold()
        self._metrics.adapter_swap_pause.set(0)
        try:
            old_view, new_view = self._when_idle(lambda: self._apply(plan, new),
                                                 self._settings.adapter_swap_drain_timeout_s)
            try:
                result = run_gate(self._engine, self._tokenizer, self._max_model_len, gate) if gate else None
            except Exception as exc:
                self._when_idle(lambda: self._revert(plan, old_view, new_view, old.version), None)
                log.exception("the gate could not run")
                raise SwapError(500, "swap_failed", f"The gate could not run ({type(exc).__name__}: {exc}); "
                                f"version '{old.version}' serves again.") from None
            if result is not None and not result.passed:
                self._when_idle(lambda: self._revert(plan, old_view, new_view, old.version), None)
                failed = [e.reason for e in result.transcript if not e.passed]
                raise SwapError(409, "gate_failed", f"The gate failed ({'; '.join(map(str, failed))}); version "
                                f"'{old.version}' serves again.", extra={"gate": result.to_json()})
            self._when_idle(lambda: self._view.remove(old_view) if self._view else None, None)
            self._models.set_version(new.version, new.path.name)
        finally:
            self._engine.release()
            paused_s = time.monotonic() - paused
            self._metrics.adapter_swap_pause.set(paused_s)
        return result, paused_s

    def _when_idle(self, fn: Any, timeout: float | None) -> Any:
        future: Future[Any] = self._engine.call_when_idle(fn)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            if future.cancel():
                raise SwapError(503, "drain_timeout", f"The running requests did not finish within "
                                f"{timeout:g}s (ADAPTER_SWAP_DRAIN_TIMEOUT_S); nothing changed.") from None
            return future.result()
        except AdapterLoadError as exc:
            raise SwapError(422, "adapter_load_failed", f"The adapter was not loaded: {exc}") from None
        except SwapError:
            raise
        except Exception as exc:
            log.exception("adapter swap failed on the engine thread")
            raise SwapError(500, "swap_failed", f"The swap failed ({type(exc).__name__}: {exc}); "
                            "the previous version serves.") from None

    def _apply(self, plan: SwapPlan, new: AdapterVersion) -> tuple[str, str]:
        """Engine thread, nothing running: the new LoRA into the base view, the new merged weights in place."""
        assert self._view is not None
        try:
            new_view, changed = self._view.add(new.config, new.state)
        except (ValueError, RuntimeError) as exc:
            raise AdapterLoadError(f"{new.path} does not fit the model: {exc}") from None
        if changed != set(new.deltas):
            self._view.remove(new_view)
            raise AdapterLoadError(f"{new.path}: its config targets modules its weights do not match "
                                   f"({len(changed)} targeted, {len(new.deltas)} with weights)")
        try:
            plan.apply()
        except Exception:
            plan.revert()
            self._view.remove(new_view)
            raise
        old_view = self._view.active
        self._view.use(new_view)
        self._engine.adapter_version = new.version
        return old_view, new_view

    def _revert(self, plan: SwapPlan, old_view: str, new_view: str, old_version: str) -> None:
        """Engine thread, nothing running: the old weights and view adapter back, exactly as they were."""
        assert self._view is not None
        plan.revert()
        self._view.use(old_view)
        self._view.remove(new_view)
        self._engine.adapter_version = old_version

    def _start_cache_write(self, adapter_path: Path) -> None:
        cache_dir = self._settings.merged_cache_dir
        if cache_dir is None:
            return
        self._cache_writer = threading.Thread(target=self._write_cache, args=(cache_dir, adapter_path),
                                              name="merged-cache-write", daemon=True)
        self._cache_writer.start()

    def _write_cache(self, cache_dir: Path, adapter_path: Path) -> None:
        """The merged weights of the version just swapped in, under the key a restart with it computes."""
        try:
            key = merge_cache.cache_key(self._settings.model_path, adapter_path)
            if (cache_dir / key).is_dir():
                return
            stored = merge_cache.store_entry(cache_dir, key, self._model, merge_cache.plain_state_dict(self._model))
            log.info("merged cache entry for %s written: %s", adapter_path, stored)
        except Exception:  # the cache is an optimisation: serving goes on without it
            log.exception("writing the merged cache entry for %s failed", adapter_path)

    def _wait_for_cache_write(self) -> None:
        """The cache writer reads the live weights: a next swap changes them only after it has finished."""
        if self._cache_writer is not None:
            self._cache_writer.join()
