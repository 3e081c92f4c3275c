"""The model ids this server answers to, which change when an adapter version is swapped in.

Three ids at most: the base model; the adapter version serving now (its own id, e.g. `v3`); and a stable alias
(ADAPTER_ALIAS, default `<base>-finetuned`) that always means whichever version serves, so clients follow
redeploys without changing the model name. A request naming a version is pinned to it: if that version is
swapped out before the request runs, it gets the same 404 as a request naming it afterwards.
"""

import threading
from dataclasses import dataclass

from inference_container.errors import APIError
from inference_container.protocol import ModelCard

BASE_FINGERPRINT = "base"


@dataclass(frozen=True)
class Route:
    """How one request runs: on the base view's weights or the fine-tune, and pinned to a version or not."""

    base_model: bool
    pinned_version: str | None = None


def fingerprint(adapter_version: str | None) -> str:
    """`system_fingerprint` of a reply produced by this adapter version (None: the base model's weights)."""
    return BASE_FINGERPRINT if adapter_version is None else f"adapter-{adapter_version}"


def version_header(adapter_version: str | None) -> str:
    """`x-adapter-version` of a reply produced by this adapter version (None: the base model's weights)."""
    return BASE_FINGERPRINT if adapter_version is None else adapter_version


class ServedModels:
    """The ids served now; `resolve` and `cards` may run while a swap calls `set_version`."""

    def __init__(self, base: str, base_root: str, version: str | None, adapter_root: str | None,
                 alias: str | None, max_model_len: int | None = None) -> None:
        self.base, self._base_root, self.alias = base, base_root, alias if version is not None else None
        self.version, self.adapter_root = version, adapter_root
        self.max_model_len = max_model_len
        self._lock = threading.Lock()

    def set_version(self, version: str, adapter_root: str) -> None:
        """From now on the fine-tune ids name `version`."""
        with self._lock:
            self.version, self.adapter_root = version, adapter_root

    def names(self) -> list[str]:
        """The ids served now: base, adapter version, alias."""
        with self._lock:
            return [n for n in (self.base, self.version, self.alias) if n is not None]

    def resolve(self, name: str, base_view: bool) -> Route:
        """How a request for `name` runs; 404 naming the served ids when `name` is not one of them."""
        with self._lock:
            if name == self.base:
                return Route(base_model=base_view)
            if name == self.alias and self.version is not None:
                return Route(base_model=False)
            if name == self.version:
                return Route(base_model=False, pinned_version=self.version)
        raise APIError(404, self.not_found(name), param="model", code="model_not_found")

    def not_found(self, name: str) -> str:
        """The model-not-found message, naming the ids served now."""
        return f"The model '{name}' does not exist; available: {', '.join(self.names())}"

    def cards(self) -> list[ModelCard]:
        """/v1/models entries: the base, then the version and the alias (their parent is the base)."""
        with self._lock:
            cards = [ModelCard(id=self.base, root=self._base_root, max_model_len=self.max_model_len)]
            if self.version is not None:
                cards.append(ModelCard(id=self.version, root=self.adapter_root or self.version, parent=self.base,
                                       max_model_len=self.max_model_len))
                if self.alias is not None:
                    cards.append(ModelCard(id=self.alias, root=self.version, parent=self.base,
                                           max_model_len=self.max_model_len))
            return cards
