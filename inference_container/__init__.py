"""OpenAI-compatible, batched inference server for a base model plus an optional LoRA adapter."""
