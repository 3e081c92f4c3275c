"""Prometheus metrics, with vLLM's names where vLLM has one; one CollectorRegistry per app."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)


class ServerMetrics:
    """All metrics of one server instance."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.num_running = Gauge("vllm:num_requests_running", "Requests in the running batch.", registry=r)
        self.num_waiting = Gauge("vllm:num_requests_waiting", "Requests waiting for a batch slot.", registry=r)
        self.ttft = Histogram("vllm:time_to_first_token_seconds", "Time to first token.",
                              buckets=_LATENCY_BUCKETS, registry=r)
        self.e2e = Histogram("vllm:e2e_request_latency_seconds", "Request latency, arrival to finish.",
                             buckets=_LATENCY_BUCKETS, registry=r)
        self.prompt_tokens = Counter("vllm:prompt_tokens", "Prompt tokens processed.", registry=r)
        self.generation_tokens = Counter("vllm:generation_tokens", "Tokens generated.", registry=r)
        self.success = Counter("vllm:request_success", "Finished requests by finish reason.",
                               ["finished_reason"], registry=r)
        self.startup_phase = Gauge("inference_startup_phase_seconds", "Duration of each start-up phase.",
                                   ["phase"], registry=r)
        self.merged_cache_hit = Gauge("inference_merged_cache_hit",
                                      "1 when merged weights came from the cache at start-up, else 0.",
                                      registry=r)
        self.adapter_swaps = Counter("inference_adapter_swaps", "In-place adapter swaps by result (success, "
                                     "gate_failed, adapter_load_failed, drain_timeout, swap_failed).", ["result"],
                                     registry=r)
        self.adapter_version = Info("inference_adapter_version", "The adapter version serving now.", registry=r)
        self.adapter_swap_pause = Gauge("inference_adapter_swap_pause_seconds",
                                        "How long the last swap held client requests back.", registry=r)

    def record_finish(self, reason: str, prompt_tokens: int, completion_tokens: int, latency: float) -> None:
        """Count one finished request."""
        self.success.labels(finished_reason=reason).inc()
        self.prompt_tokens.inc(prompt_tokens)
        self.generation_tokens.inc(completion_tokens)
        self.e2e.observe(latency)
