"""The server's one settings object, read from the environment."""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment of `python -m inference_container`; MODEL_PATH is required."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    model_path: Path = Field(description="Directory of the base model (config.json, weights, tokenizer).")
    adapter_path: Path | None = None
    api_key: SecretStr | None = None
    admin_api_key: SecretStr | None = Field(
        default=None, description="Bearer key of /admin (the in-place adapter swap); unset: /admin answers 404.")
    adapter_alias: str | None = Field(
        default=None, description="Stable model id of whichever adapter version serves (default <base>-finetuned).")
    adapter_swap_drain_timeout_s: float = Field(
        default=300.0, gt=0, description="How long a swap waits for the running batch to finish before giving up.")
    port: int = 7860
    host: str = "0.0.0.0"
    merged_cache_dir: Path | None = None
    served_model_name: str | None = None
    max_batch_size: int = Field(default=32, ge=1)
    torch_threads: int | None = Field(default=None, ge=1, description="CPU threads for torch (default: see "
                                      "`compute_threads`).")
    max_queue_size: int = Field(default=256, ge=0)
    max_model_len: int | None = Field(default=None, ge=2)
    log_level: str = "INFO"
    container_app_revision: str | None = Field(
        default=None, description="The revision this replica belongs to; Container Apps sets it in every container. "
        "/health and /ready report it, so a deploy can tell its own revision from another server on the port.")

    @field_validator("model_path")
    @classmethod
    def _model_dir(cls, value: Path) -> Path:
        if not (value / "config.json").is_file():
            raise ValueError(f"MODEL_PATH={value} is not a model directory (no config.json); "
                             "point it at the directory holding the base model's config and weights")
        return value

    @field_validator("adapter_path")
    @classmethod
    def _adapter_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not (value / "adapter_config.json").is_file():
            raise ValueError(f"ADAPTER_PATH={value} holds no adapter_config.json; "
                             "point it at the LoRA adapter directory or leave it unset")
        return value

    @field_validator("api_key", "admin_api_key")
    @classmethod
    def _empty_key_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        return value

    @property
    def base_model_name(self) -> str:
        """Name clients use for the base model."""
        return self.served_model_name or self.model_path.name

    @property
    def adapter_alias_name(self) -> str:
        """Model id that always names the adapter version serving now."""
        return self.adapter_alias or f"{self.base_model_name}-finetuned"

    @property
    def adapter_model_name(self) -> str | None:
        """Name clients use for the adapter, or None when there is none."""
        if self.adapter_path is None:
            return None
        name = self.adapter_path.name
        return f"{self.base_model_name}-{name}" if name in {"adapter", self.base_model_name} else name

    def compute_threads(self, torch_default: int, cores: int, gpu: bool) -> int:
        """Threads for torch: TORCH_THREADS, else torch's default; on a host without a GPU at most all cores but one.

        Without a GPU the model's matmuls and the HTTP side (parsing, streaming each token) share the cores; with
        every core in torch's pool, the event loop waits for a core at every step. Measured on the 2-core dev box
        (devtools/benchmarks, 64 tokens per request): one thread instead of two gave 1,261-1,290 tok/s against
        757-888 at 8 clients and 2,305-2,894 against 1,759-1,997 at 32, with equal single-client figures.
        """
        if self.torch_threads:
            return self.torch_threads
        return torch_default if gpu else max(1, min(torch_default, cores - 1))
