"""A LoRA adapter version as the in-place swap needs it: its update of each target Linear, checked against the model.

`load_adapter` reads peft's files (config and safetensors) and computes ΔW = scale·B·A per target module in
float32, refusing what it cannot apply exactly (other peft types, DoRA, extra modules, wrong shapes, values that
are not finite). `plan_swap` then computes, off the engine thread, the weights each touched module will hold:
`base + ΔW_new` recomputed from the base model's own tensor (read from MODEL_PATH, only those tensors) rather
than `W - ΔW_old + ΔW_new`, so repeated swaps never accumulate rounding in bf16/fp16; where the base file does
not hold a tensor under the module's name, `W - ΔW_old` (in float32) stands in for it.
"""

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_PREFIX = "base_model.model."
_UNSUPPORTED = {"use_dora": "DoRA", "modules_to_save": "modules_to_save", "lora_bias": "lora_bias",
                "trainable_token_indices": "trainable_token_indices", "target_parameters": "target_parameters",
                "layer_replication": "layer_replication"}
_SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


class AdapterLoadError(Exception):
    """The adapter cannot be served; the message names the file or module at fault."""


@dataclass(frozen=True)
class AdapterVersion:
    """One loaded adapter version: peft's config and tensors (for the base view) and ΔW per module path."""

    version: str
    path: Path
    config: Any  # peft.LoraConfig
    state: dict[str, torch.Tensor]
    deltas: dict[str, torch.Tensor]


def load_adapter(version: str, path: Path, model: Any) -> AdapterVersion:
    """Read and check the adapter at `path` against `model` (the served, merged model); AdapterLoadError if unfit."""
    from peft import LoraConfig
    from peft.utils import load_peft_weights

    if not path.is_dir():
        raise AdapterLoadError(f"adapter directory {path} does not exist")
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        if not (path / name).is_file():
            raise AdapterLoadError(f"{path / name} is missing")
    try:
        raw = json.loads((path / ADAPTER_CONFIG).read_text())
        if raw.get("peft_type") != "LORA":
            raise AdapterLoadError(f"{path / ADAPTER_CONFIG}: peft_type {raw.get('peft_type')!r} is not LORA")
        config = LoraConfig.from_pretrained(str(path))
    except (ValueError, TypeError, OSError) as exc:
        raise AdapterLoadError(f"{path / ADAPTER_CONFIG} is not a valid LoRA config: {exc}") from None
    for field, what in _UNSUPPORTED.items():
        if getattr(config, field, None):
            raise AdapterLoadError(f"{path / ADAPTER_CONFIG}: {what} adapters cannot be swapped in place")
    try:
        state = load_peft_weights(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for a corrupt file
        raise AdapterLoadError(f"{path / ADAPTER_WEIGHTS} is not readable: {type(exc).__name__}: {exc}") from None
    return AdapterVersion(version, path, config, state, _deltas(path, config, state, model))


def _deltas(path: Path, config: Any, state: dict[str, torch.Tensor], model: Any) -> dict[str, torch.Tensor]:
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        module, dot, rest = key.removeprefix(_PREFIX).rpartition(".lora_")
        if not key.startswith(_PREFIX) or not dot or rest not in ("A.weight", "B.weight"):
            raise AdapterLoadError(f"{path / ADAPTER_WEIGHTS} holds {key!r}, which is not a LoRA A/B weight")
        pairs.setdefault(module, {})[rest[0]] = tensor
    if not pairs:
        raise AdapterLoadError(f"{path / ADAPTER_WEIGHTS} holds no LoRA weights")
    return {module: _delta(path, config, module, pair, model) for module, pair in sorted(pairs.items())}


def _delta(path: Path, config: Any, module: str, pair: dict[str, torch.Tensor], model: Any) -> torch.Tensor:
    from peft.utils.other import get_pattern_key

    if set(pair) != {"A", "B"}:
        raise AdapterLoadError(f"{path / ADAPTER_WEIGHTS}: {module} has lora_{''.join(pair)} without its pair")
    weight = target_weight(model, module, path)
    a, b = pair["A"].float(), pair["B"].float()
    rank_key = get_pattern_key(list(config.rank_pattern), module)
    rank = config.rank_pattern.get(rank_key, config.r)
    out_features, in_features = weight.shape[::-1] if config.fan_in_fan_out else weight.shape
    if a.dim() != 2 or b.dim() != 2 or a.shape != (rank, in_features) or b.shape != (out_features, rank):
        raise AdapterLoadError(
            f"{path / ADAPTER_WEIGHTS}: wrong shapes for {module}: lora_A {list(a.shape)}, lora_B {list(b.shape)}; "
            f"its weight is [{out_features}, {in_features}] and the config says r={rank}")
    alpha_key = get_pattern_key(list(config.alpha_pattern), module)
    alpha = config.alpha_pattern.get(alpha_key, config.lora_alpha)
    scale = alpha / math.sqrt(rank) if config.use_rslora else alpha / rank
    delta = (b @ a) * scale
    if config.fan_in_fan_out:
        delta = delta.T.contiguous()
    if not torch.isfinite(delta).all():
        raise AdapterLoadError(f"{path / ADAPTER_WEIGHTS}: {module}'s update is not finite (NaN or inf)")
    return delta


def target_weight(model: Any, module: str, path: Path | None = None) -> torch.Tensor:
    """The weight of the Linear at `module` (inside peft's wrapper when the base view wrapped it)."""
    try:
        target = model.get_submodule(module)
    except AttributeError:
        raise AdapterLoadError(f"{path or 'the adapter'} targets {module}, which the model does not have") from None
    if hasattr(target, "get_base_layer"):
        target = target.get_base_layer()
    if not isinstance(target, torch.nn.Linear):
        raise AdapterLoadError(f"{path or 'the adapter'} targets {module}, a {type(target).__name__}; "
                               "only Linear layers can be swapped in place")
    return target.weight


@dataclass
class SwapPlan:
    """Per touched module: the live weight, the values it will hold, and its current values (to swap back)."""

    weights: dict[str, torch.Tensor]
    new: dict[str, torch.Tensor]
    old: dict[str, torch.Tensor]

    def apply(self) -> None:
        """Write the new version's weights (engine thread, nothing in flight)."""
        for module, weight in self.weights.items():
            weight.copy_(self.new[module])

    def revert(self) -> None:
        """Write back exactly what the weights held before `apply`."""
        for module, weight in self.weights.items():
            weight.copy_(self.old[module])


class BaseTensors:
    """The base model's own values of target weights, read from MODEL_PATH's safetensors once and kept."""

    def __init__(self, model_dir: Path) -> None:
        self._files = sorted(model_dir.glob("*.safetensors"))
        self._kept: dict[str, torch.Tensor] = {}

    def get(self, name: str) -> torch.Tensor | None:
        """The stored tensor `name` (for example `model.layers.0.self_attn.q_proj.weight`), or None."""
        if name not in self._kept:
            for path in self._files:
                found = _read_tensor(path, name)
                if found is not None:
                    self._kept[name] = found
                    break
        return self._kept.get(name)


def _read_tensor(path: Path, name: str) -> torch.Tensor | None:
    """Read one tensor of a safetensors file by its offsets: no memory map (slow over SMB/NFS shares)."""
    with open(path, "rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_len))
        meta = header.get(name)
        if meta is None or meta.get("dtype") not in _SAFETENSORS_DTYPES:
            return None
        start, end = meta["data_offsets"]
        handle.seek(8 + header_len + start)
        data = bytearray(handle.read(end - start))
    dtype = _SAFETENSORS_DTYPES[meta["dtype"]]
    return torch.frombuffer(data, dtype=dtype).reshape(meta["shape"]) if data else None


def plan_swap(model: Any, base: BaseTensors, old: AdapterVersion | None, new: AdapterVersion) -> SwapPlan:
    """The weights every module either version touches will hold with `new` merged (computed in float32)."""
    plan = SwapPlan({}, {}, {})
    modules = sorted(set(new.deltas) | set(old.deltas if old else ()))
    for module in modules:
        weight = target_weight(model, module, new.path)
        stored = base.get(f"{module}.weight")
        if stored is not None and stored.shape == weight.shape:
            reference = stored.to(weight.dtype).float()  # as a fresh load rounds it, then merges
        else:
            reference = weight.detach().float().cpu()
            if old is not None and module in old.deltas:
                reference -= old.deltas[module]
        update = new.deltas.get(module)
        merged = reference if update is None else reference + update
        plan.weights[module] = weight
        plan.new[module] = merged.to(weight.dtype)
        plan.old[module] = weight.detach().to("cpu", copy=True)
    return plan
