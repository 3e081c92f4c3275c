"""A left-aligned batch over one growing KV cache: prefill new rows, merge them in, decode, drop rows.

Every row's newest token sits in the batch's last cache column; the 2-D attention mask hides what a row
does not own (left padding, and the gap a row gets when a longer prompt joins) and `position_ids` count only
real tokens, so a row's logits do not depend on its batch mates. The cache, the mask and the positions live
in preallocated buffers (`kv_cache.GrowingLayer`): a decode step writes one column in place, a join writes
the newcomers' rows only (a longer prompt moves the batch's last column right instead of re-padding the
running rows) and a leave compacts the used region once. Buffers grow by doubling; nothing is re-allocated
per step, so a step costs the same at token 1000 as at token 10 apart from attention itself.
"""

from collections.abc import Callable
from typing import Any

import torch
from transformers import DynamicCache

from inference_container.engine.kv_cache import GrowingLayer

Forward = Callable[..., Any]
"""Runs the model on a batch: `forward(base_rows, **inputs)`, `base_rows[i]` saying row i wants base weights."""

_MIN_COLUMNS = 64


class PaddedBatch:
    """KV cache, attention mask and positions of the running rows, in row order."""

    def __init__(self, forward: Forward, device: torch.device, pad_id: int, mask_4d: bool = False) -> None:
        """`mask_4d`: hand decode steps their attention mask as the 4-D boolean mask SDPA takes (the model's
        attention must be "sdpa"); transformers then skips building it from the 2-D mask at every step."""
        self._forward, self._device, self._pad_id = forward, device, pad_id
        self._mask_4d = mask_4d
        self.cache: DynamicCache | None = None
        self._layers: list[GrowingLayer] = []
        self._mask = torch.zeros((0, 0), dtype=torch.long, device=device)  # buffer: [row capacity, col capacity]
        self._positions = torch.zeros(0, dtype=torch.long, device=device)  # each row's next position
        self._rows, self._start, self._end = 0, 0, 0

    @property
    def size(self) -> int:
        """Number of rows."""
        return self._rows

    @property
    def mask(self) -> torch.Tensor:
        """The running rows' attention mask over the cache columns in use."""
        return self._mask[:self._rows, self._start:self._end]

    def prefill(self, prompts: list[list[int]], base_rows: list[bool], copies: list[int] | None = None
                ) -> tuple[torch.Tensor, DynamicCache, torch.Tensor]:
        """Run new prompts as one left-padded forward; return their last logits, cache and mask.

        `copies[i]` > 1 repeats prompt i's row (logits, cache, mask) that many times: the `n` choices of one
        request share one prefill.
        """
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
        logits = out.logits[:, -1, :]
        if copies is not None and any(c != 1 for c in copies):
            index = torch.repeat_interleave(torch.arange(len(prompts), device=self._device),
                                            torch.tensor(copies, device=self._device))
            logits, mask = logits.index_select(0, index), mask.index_select(0, index)
            for layer in _layers(cache):
                layer.batch_select_indices(index)
        return logits, cache, mask

    def append(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Merge freshly prefilled rows after the running ones."""
        count, width = int(mask.shape[0]), int(mask.shape[1])
        if self._rows == 0:
            self._start = self._end = 0
        new_width = max(self._end - self._start, width)
        if self.cache is None:
            self._create(cache, count, width)
        self._reserve(self._rows + count, new_width)
        first, self._end = self._rows, self._start + new_width
        self._rows += count
        self._mask[first:self._rows, self._start:self._end] = 0
        self._mask[first:self._rows, self._end - width:self._end] = mask
        self._positions[first:self._rows] = mask.sum(-1)
        for mine, theirs in zip(self._layers, _layers(cache), strict=True):
            mine.set_extent(self._rows, self._start, self._end)
            mine.write_rows(first, theirs.keys, theirs.values)

    def decode(self, last_tokens: list[int], base_rows: list[bool]) -> torch.Tensor:
        """One forward of every row's last token; returns next-token logits [rows, vocab]."""
        self._reserve(self._rows, self._end - self._start + 1)
        self._mask[:self._rows, self._end] = 1
        positions = self._positions[:self._rows].unsqueeze(-1)
        ids = torch.tensor(last_tokens, dtype=torch.long, device=self._device).unsqueeze(-1)
        mask = self._mask[:self._rows, self._start:self._end + 1]
        if self._mask_4d:  # one query per row: [rows, 1 head, 1 query, columns], True where the row attends
            mask = mask.bool()[:, None, None, :]
        out = self._forward(base_rows, input_ids=ids, attention_mask=mask, position_ids=positions, cache=self.cache,
                            use_cache=True)
        self._end += 1
        self._positions[:self._rows] += 1
        return out.logits[:, -1, :]

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (in that order) and stop attending to columns no row needs any more."""
        if self.cache is None:
            return
        if not rows:  # an empty batch gives its buffers back; the next join allocates what it needs
            self.cache, self._layers = None, []
            self._mask = self._mask[:0, :0]
            self._positions = self._positions[:0]
            self._rows = self._start = self._end = 0
            return
        index = torch.tensor(rows, dtype=torch.long, device=self._device)
        count = len(rows)
        self._mask[:count, self._start:self._end] = self._mask[:, self._start:self._end].index_select(0, index)
        self._positions[:count] = self._positions.index_select(0, index)
        self._rows = count
        self._start += int(self.mask.any(dim=0).long().argmax())
        for layer in self._layers:
            layer.select_rows(index, self._start)

    def _create(self, prefilled: DynamicCache, rows: int, width: int) -> None:
        columns = max(_MIN_COLUMNS, 2 * width)
        self._layers = [GrowingLayer(layer.keys, layer.values, rows, columns) for layer in _layers(prefilled)]
        self.cache = DynamicCache()
        self.cache.layers = list(self._layers)
        self._mask = torch.zeros((rows, columns), dtype=torch.long, device=self._device)
        self._positions = torch.zeros(rows, dtype=torch.long, device=self._device)

    def _reserve(self, rows: int, width: int) -> None:
        """Make room for `rows` rows and `width` columns from `_start`; grow by doubling when they do not fit."""
        row_cap, col_cap = int(self._mask.shape[0]), int(self._mask.shape[1])
        if rows <= row_cap and self._start + width <= col_cap:
            return
        new_rows = row_cap if rows <= row_cap else max(rows, 2 * row_cap)
        new_cols = col_cap if width <= col_cap else max(_MIN_COLUMNS, 2 * width)
        used = self._end - self._start
        mask = torch.zeros((new_rows, new_cols), dtype=torch.long, device=self._device)
        mask[:self._rows, :used] = self._mask[:self._rows, self._start:self._end]
        positions = torch.zeros(new_rows, dtype=torch.long, device=self._device)
        positions[:self._rows] = self._positions[:self._rows]
        self._mask, self._positions = mask, positions
        for layer in self._layers:
            layer.regrow(new_rows, new_cols)
        self._start, self._end = 0, used


def _layers(cache: DynamicCache) -> list[Any]:
    """The cache's per-layer key/value holders (full-attention DynamicLayers for a config-less cache)."""
    return list(cache.layers)
