"""Memory-bandwidth bound on decode throughput: every decode step reads all weights once from HBM.

bound tokens/s at batch B = B / ((weight bytes + B × KV-cache bytes per sequence) / HBM bytes per second).
Embedding rows are gathered (B rows, negligible), so the input embedding does not count; the LM head does.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

# Peak HBM bandwidth in GB/s by device-name substring (vendor data sheets); first match wins.
HBM_GBPS = (
    ("H200", 4800.0),
    ("H100 PCIe", 2000.0),
    ("H100", 3350.0),
    ("A100 80GB PCIe", 1935.0),
    ("A100-SXM4-80GB", 2039.0),
    ("A100", 1555.0),
    ("L40S", 864.0),
    ("A10", 600.0),
    ("L4", 300.0),
    ("T4", 320.0),
)


@dataclass(frozen=True)
class BandwidthBound:
    """Bytes read per decode step and the throughput bound they imply."""

    device: str
    hbm_gbps: float
    weight_bytes: int
    kv_bytes_per_token: int
    context_tokens: int
    bound_tokens_per_second: dict[int, float]


def hbm_gbps_for(device_name: str) -> float | None:
    """Peak HBM bandwidth (GB/s) for a CUDA device name, or None when it is not in the table."""
    for key, gbps in HBM_GBPS:
        if key.lower() in device_name.lower():
            return gbps
    return None


def decode_weight_bytes(config: dict[str, int | bool], dtype_bytes: int = 2) -> tuple[int, int]:
    """(weight bytes read per decode step, KV-cache bytes per token of context) from a config.json."""
    h, n_layers = int(config["hidden_size"]), int(config["num_hidden_layers"])
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or h // heads)
    inter, vocab = int(config["intermediate_size"]), int(config["vocab_size"])
    attention = h * heads * head_dim + 2 * h * kv_heads * head_dim + heads * head_dim * h
    mlp = 3 * h * inter  # gate, up, down (Phi-3 fuses gate+up; same count)
    per_layer = attention + mlp + 2 * h
    params = n_layers * per_layer + h + vocab * h  # final norm + LM head
    kv_per_token = 2 * n_layers * kv_heads * head_dim * dtype_bytes
    return params * dtype_bytes, kv_per_token


def estimate(model_dir: Path, device_name: str, hbm_gbps: float, concurrencies: list[int],
             context_tokens: int) -> BandwidthBound:
    """The bound at each concurrency for the model in `model_dir` (bf16) on `device_name`."""
    config = json.loads((model_dir / "config.json").read_text())
    weights, kv = decode_weight_bytes(config)
    per_second = hbm_gbps * 1e9
    bounds = {c: c / ((weights + c * kv * context_tokens) / per_second) for c in concurrencies}
    return BandwidthBound(device_name, hbm_gbps, weights, kv, context_tokens, bounds)


def format_bound(bound: BandwidthBound, achieved: dict[int, float]) -> str:
    """Lines comparing the bound with measured tokens/s of our server."""
    lines = [
        f"Memory-bandwidth bound (UNTESTED estimate) on {bound.device} at {bound.hbm_gbps:.0f} GB/s:",
        f"  weights read per decode step: {bound.weight_bytes / 1e9:.2f} GB; KV cache "
        f"{bound.kv_bytes_per_token / 1e3:.0f} kB/token at ~{bound.context_tokens} tokens of context",
    ]
    for c, tps in bound.bound_tokens_per_second.items():
        got = achieved.get(c)
        share = f", ours {got:.0f} tok/s = {100 * got / tps:.0f}% of bound" if got else ""
        lines.append(f"  concurrency {c:>3}: bound {tps:,.0f} tok/s{share}")
    return "\n".join(lines)


def as_dict(bound: BandwidthBound) -> dict[str, object]:
    """JSON-ready form."""
    return asdict(bound)
