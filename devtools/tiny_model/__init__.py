"""A tiny chat model and LoRA adapter, generated locally, laid out as fine-tuning leaves them on the share."""

from devtools.tiny_model.build import TinyModelPaths, build

__all__ = ["TinyModelPaths", "build"]
