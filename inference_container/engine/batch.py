"""A left-padded batch sharing one DynamicCache: prefill new rows, merge them in, decode, drop rows.

Rows are left-padded so every row's newest token sits in the last cache column; the 2-D attention mask
hides padding and `position_ids` count only real tokens, so a row's logits do not depend on its batch mates.
"""

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache

Forward = Callable[..., Any]
"""Runs the model on a batch: `forward(base_rows, **inputs)`, `base_rows[i]` saying row i wants base weights."""


class PaddedBatch:
    """KV cache, attention mask and last tokens of the running rows, in row order."""

    def __init__(self, forward: Forward, device: torch.device, pad_id: int) -> None:
        self._forward, self._device, self._pad_id = forward, device, pad_id
        self.cache: DynamicCache | None = None
        self.mask = torch.zeros((0, 0), dtype=torch.long, device=device)

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.mask.shape[0])

    def prefill(self, prompts: list[list[int]], base_rows: list[bool]
                ) -> tuple[torch.Tensor, DynamicCache, torch.Tensor]:
        """Run new prompts as one left-padded forward; return their last logits, cache and mask."""
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
            mask[row, width - len(prompt):] = 1
        ids, mask = ids.to(self._device), mask.to(self._device)
        cache = DynamicCache()
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self._forward(base_rows, input_ids=ids, attention_mask=mask, position_ids=positions,
                            cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :], cache, mask

    def append(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Merge freshly prefilled rows after the running ones, left-padding the shorter side."""
        if self.cache is None or self.size == 0:
            self.cache, self.mask = cache, mask
            return
        width = max(self.mask.shape[1], mask.shape[1])
        for mine, theirs in zip(_layers(self.cache), _layers(cache), strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, width), _left_pad(theirs.keys, width)])
            mine.values = torch.cat([_left_pad(mine.values, width), _left_pad(theirs.values, width)])
        self.mask = torch.cat([_left_pad_mask(self.mask, width), _left_pad_mask(mask, width)])

    def decode(self, last_tokens: list[int], base_rows: list[bool]) -> torch.Tensor:
        """One forward of every row's last token; returns next-token logits [rows, vocab]."""
        positions = self.mask.sum(-1, keepdim=True)
        ones = torch.ones((self.size, 1), dtype=self.mask.dtype, device=self._device)
        self.mask = torch.cat([self.mask, ones], dim=-1)
        ids = torch.tensor(last_tokens, dtype=torch.long, device=self._device).unsqueeze(-1)
        out = self._forward(base_rows, input_ids=ids, attention_mask=self.mask, position_ids=positions,
                            cache=self.cache, use_cache=True)
        return out.logits[:, -1, :]

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (in that order) and trim padding columns no row needs any more."""
        if self.cache is None:
            return
        if not rows:
            self.cache, self.mask = None, self.mask[:0, :0]
            return
        index = torch.tensor(rows, dtype=torch.long, device=self._device)
        self.mask = self.mask.index_select(0, index)
        start = int(self.mask.any(dim=0).long().argmax())
        self.mask = self.mask[:, start:]
        for layer in _layers(self.cache):
            layer.keys = layer.keys.index_select(0, index)[:, :, start:]
            layer.values = layer.values.index_select(0, index)[:, :, start:]


def _left_pad(tensor: torch.Tensor, width: int) -> torch.Tensor:
    return F.pad(tensor, (0, 0, width - tensor.shape[2], 0))


def _left_pad_mask(mask: torch.Tensor, width: int) -> torch.Tensor:
    return F.pad(mask, (width - mask.shape[1], 0))


def _layers(cache: DynamicCache) -> list[Any]:
    """The cache's per-layer key/value holders (full-attention DynamicLayers for a config-less cache)."""
    return list(cache.layers)
