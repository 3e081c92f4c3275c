"""The base model served from the merged weights: per request row, the adapter's update is taken back out.

The merged model holds W + s·BA. Loading the same LoRA again on top of it with the scale negated gives
W + s·BA - s·BA = W for the rows that ask for the base model; peft's mixed-adapter batches pick that per
row, so base and fine-tuned requests still share one forward pass and one copy of the weights. The result
equals the base model up to floating-point rounding (exact to about 1e-6 in float32; bf16 rounds more).
"""

from pathlib import Path
from typing import Any

VIEW_ADAPTER = "base_view"
MERGED_ROW = "__base__"  # peft's name for "no adapter on this row": here, the merged fine-tune


class BaseModelView:
    """Runs a batch where some rows use the base model's weights and the others the merged fine-tune."""

    def __init__(self, merged_model: Any, adapter_path: Path) -> None:
        from peft import PeftModel  # imported here: peft is only needed when an adapter is served
        from peft.tuners.lora import LoraLayer

        self._merged = merged_model
        view: Any = PeftModel.from_pretrained(merged_model, adapter_path, adapter_name=VIEW_ADAPTER)
        for module in view.modules():
            if isinstance(module, LoraLayer) and VIEW_ADAPTER in module.scaling:
                module.scaling[VIEW_ADAPTER] = -module.scaling[VIEW_ADAPTER]
        self._view, self._tuner = view.eval(), view.base_model  # the tuner switches the view's layers on and off
        self._tuner.disable_adapter_layers()  # calls without base rows see the merged weights

    def forward(self, base_rows: list[bool], **inputs: Any) -> Any:
        """One forward pass; row i uses the base model's weights where `base_rows[i]`."""
        if not any(base_rows):
            return self._merged(**inputs)
        names = [VIEW_ADAPTER if base else MERGED_ROW for base in base_rows]
        self._tuner.enable_adapter_layers()
        try:
            return self._view(**inputs, adapter_names=names)
        finally:
            self._tuner.disable_adapter_layers()
