"""Cache of merged base+adapter weights: one directory per key, written atomically, verified on load.

An entry is `<cache_dir>/<key>/` with the merged model's files and `manifest.json` (size and sha256 of
each file). It is written under a temporary name and renamed into place, so a reader never sees a half
entry; an entry whose manifest is missing or whose files do not match it is deleted and rebuilt.
The key hashes the adapter's file contents and the base files' names, sizes and modification times
(hashing multi-GB base weights on every start would cost as much as the merge the cache saves). Adapter versions
with different files therefore have different keys; an in-place swap stores the new version's entry under the key
a restart with ADAPTER_PATH of that version computes (`plain_state_dict` strips the base view's LoRA wrappers).
"""

import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class CorruptEntryError(Exception):
    """A cache entry that does not match its manifest."""


def cache_key(base_dir: Path, adapter_dir: Path) -> str:
    """Hex key identifying this base and adapter."""
    digest = hashlib.sha256()
    for path in _files(base_dir):
        stat = path.stat()
        digest.update(f"base:{path.relative_to(base_dir)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for path in _files(adapter_dir):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(f"adapter:{path.relative_to(adapter_dir)}:{content}\n".encode())
    return digest.hexdigest()[:32]


def load_entry(cache_dir: Path, key: str) -> tuple[Path, dict[str, torch.Tensor]] | None:
    """The entry's directory and its merged weights, read eagerly; None on a miss or a corrupt entry."""
    entry = cache_dir / key
    if not entry.is_dir():
        return None
    try:
        return entry, _read_verified(entry)
    except (CorruptEntryError, OSError, ValueError) as exc:
        log.warning("merged cache entry %s is corrupt (%s); deleting it and rebuilding", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        return None


def store_entry(cache_dir: Path, key: str, model: Any,
                state_dict: dict[str, torch.Tensor] | None = None) -> Path | None:
    """Save merged weights (`state_dict`, default the model's) under `key` atomically; None (and a warning) if the
    cache is not writable."""
    temp = cache_dir / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(temp, safe_serialization=True, state_dict=state_dict)
        files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p.read_bytes())} for p in _files(temp)}
        (temp / MANIFEST).write_text(json.dumps({"key": key, "files": files}, indent=2))
        os.rename(temp, cache_dir / key)
        return cache_dir / key
    except OSError as exc:
        log.warning("could not write merged cache entry %s (%s); serving without caching", key, exc)
        shutil.rmtree(temp, ignore_errors=True)
        return None


def plain_state_dict(model: Any) -> dict[str, torch.Tensor]:
    """The merged model's weights under the names the plain model has, without peft's LoRA wrappers and tensors."""
    return {key.replace(".base_layer.", "."): value for key, value in model.state_dict().items()
            if ".lora_" not in key}


def _read_verified(entry: Path) -> dict[str, torch.Tensor]:
    manifest_path = entry / MANIFEST
    if not manifest_path.is_file():
        raise CorruptEntryError("no manifest")
    files: dict[str, dict[str, Any]] = json.loads(manifest_path.read_text())["files"]
    state: dict[str, torch.Tensor] = {}
    for name, meta in files.items():
        data = (entry / name).read_bytes()
        if len(data) != meta["size"]:
            raise CorruptEntryError(f"{name} has {len(data)} bytes, manifest says {meta['size']}")
        if _sha256(data) != meta["sha256"]:
            raise CorruptEntryError(f"{name} does not match its sha256")
        if name.endswith(".safetensors"):
            state.update(load_safetensors(data))
    if not state:
        raise CorruptEntryError("no weights")
    return state


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
