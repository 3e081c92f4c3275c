"""The base model served from the merged weights: per request row, the adapter's update is taken back out.

The merged model holds W + s·BA. Loading the same LoRA again on top of it with the scale negated gives
W + s·BA - s·BA = W for the rows that ask for the base model; peft's mixed-adapter batches pick that per
row, so base and fine-tuned requests still share one forward pass and one copy of the weights. The result
equals the base model up to floating-point rounding (exact to about 1e-6 in float32; bf16 rounds more).

An adapter swap (`adapter_swap.py`) adds the new version's LoRA beside the old one (`add`), switches the base rows
to it (`use`), and drops the one no longer needed (`remove`); all three run on the engine thread between steps.
"""

import warnings
from pathlib import Path
from typing import Any

import torch

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
        self.active = VIEW_ADAPTER  # the view adapter base rows use: the negated LoRA of the version merged now
        self._added = 0

    def add(self, config: Any, state: dict[str, torch.Tensor]) -> tuple[str, set[str]]:
        """Load another version's LoRA (peft config and saved tensors) negated, beside the active one.

        Returns its adapter name and the paths of the modules it changes (as the served model names them).
        """
        from peft import set_peft_model_state_dict
        from peft.tuners.lora import LoraLayer

        self._added += 1
        name = f"{VIEW_ADAPTER}_{self._added}"
        self._view.add_adapter(name, config)
        loaded: Any = set_peft_model_state_dict(self._view, state, adapter_name=name)
        unexpected = list(loaded.unexpected_keys)
        if unexpected:
            self.remove(name)
            raise ValueError(f"the adapter holds tensors no module takes: {', '.join(unexpected[:3])}")
        changed: set[str] = set()
        for path, module in self._view.base_model.model.named_modules():
            if isinstance(module, LoraLayer) and name in module.scaling:
                module.scaling[name] = -module.scaling[name]
                changed.add(path)
        self._view.eval()
        self._tuner.disable_adapter_layers()
        return name, changed

    def use(self, name: str) -> None:
        """Base rows take this view adapter out from now on."""
        self.active = name

    def remove(self, name: str) -> None:
        """Drop a view adapter that base rows no longer use."""
        with warnings.catch_warnings():  # peft warns when the adapter it calls active goes; base rows pick theirs
            warnings.simplefilter("ignore")
            self._view.delete_adapter(name)
        self._tuner.disable_adapter_layers()

    def forward(self, base_rows: list[bool], **inputs: Any) -> Any:
        """One forward pass; row i uses the base model's weights where `base_rows[i]`."""
        if not any(base_rows):
            return self._merged(**inputs)
        names = [self.active if base else MERGED_ROW for base in base_rows]
        self._tuner.enable_adapter_layers()
        try:
            return self._view(**inputs, adapter_names=names)
        finally:
            self._tuner.disable_adapter_layers()
