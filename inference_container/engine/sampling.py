"""Token choice for the whole batch as tensor operations, each row with its own parameters and seed.

Order per step (vLLM's): the chosen token's and the top-k logprobs are taken from the raw model logits
(log-softmax before bias, penalties and temperature: vLLM's default `logprobs_mode="raw_logprobs"`); then
`logit_bias` is added and the frequency/presence penalties subtracted; greedy rows take the argmax of that;
sampled rows divide by their temperature, cut to top-k and top-p (sorted, only rows that ask for a cut) and
draw by inverse CDF: one uniform number u per row, the token is the first whose cumulative probability
exceeds u times the total. A seeded row draws its u from its own `torch.Generator`, so its tokens depend
only on its own logits and seed, never on its batch mates (one scalar draw per seeded row; Gumbel-max would
need a vocab-sized draw per row for the same guarantee). Unseeded rows share one generator and one draw.
Choice i of a seeded request with `n` > 1 is seeded from (seed, i): the choices differ, and each repeats.
A row held to a grammar (`response_format`) has every token its grammar forbids set to -inf before the choice,
and its matcher takes the chosen token after it.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from inference_container.engine.grammar import Grammars
from inference_container.engine.types import SamplingParams, TokenLogprob

_GOLDEN = 0x9E3779B97F4A7C15  # spreads (seed, choice) pairs over the 64-bit seed space
LOGPROB_FLOOR = -9999.0  # what a banned token's -inf becomes (JSON has no infinity; vLLM's value)


def choice_seed(seed: int, index: int) -> int:
    """The seed of choice `index` of a request seeded with `seed` (choice 0 keeps `seed` itself)."""
    return seed if index == 0 else (seed + index * _GOLDEN) % 2**64


def make_generator(params: SamplingParams, device: torch.device, index: int = 0) -> torch.Generator | None:
    """A private RNG for a seeded, sampled row (choice `index`); None for greedy or unseeded rows."""
    if params.temperature == 0 or params.seed is None:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(choice_seed(params.seed, index))
    return generator


class Pick(NamedTuple):
    """The token chosen for one row, its logprobs if asked, and where its grammar (if any) stands."""

    token: int
    logprob: TokenLogprob | None
    grammar_done: bool = False  # complete: nothing may follow
    grammar_failed: bool = False  # the matcher refused the token (a matcher bug); the row must end in error


@dataclass(frozen=True)
class _Row:
    params: SamplingParams
    generator: torch.Generator | None
    matcher: Any = None  # the row's grammar matcher (llguidance.LLMatcher) when it has a response_format

    @property
    def greedy(self) -> bool:
        return self.params.temperature == 0

    @property
    def cut(self) -> bool:
        return self.params.top_p < 1.0 or self.params.top_k > 0

    @property
    def penalized(self) -> bool:
        return self.params.frequency_penalty != 0 or self.params.presence_penalty != 0


@dataclass(frozen=True)
class _Tensors:
    """Per-row parameters of the whole batch, rebuilt only when rows join or leave."""

    temperature: torch.Tensor  # [rows, 1]; 1 for greedy rows
    top_p: torch.Tensor  # [rows, 1]
    top_k: torch.Tensor  # [rows, 1], the vocab size where no cut
    frequency: torch.Tensor  # [rows, 1]
    presence: torch.Tensor  # [rows, 1]
    bias: torch.Tensor | None  # [rows, vocab] when any row has a logit_bias


class BatchSampler:
    """The sampling state of the running rows, in the batch's row order (kept in step with `PaddedBatch`)."""

    def __init__(self, device: torch.device, grammars: Grammars | None = None) -> None:
        self._device, self._grammars = device, grammars
        self._rows: list[_Row] = []
        self._shared = torch.Generator(device=device)
        self._shared.seed()
        self._tensors: _Tensors | None = None
        self._counts: torch.Tensor | None = None  # [rows, vocab] tokens generated per row, while any row penalizes

    def append(self, params: list[SamplingParams], generators: list[torch.Generator | None],
               matchers: list[Any] | None = None) -> None:
        """Add rows after the running ones (with their grammar matchers, None for a free row)."""
        self._rows += [_Row(p, g, m) for p, g, m in zip(params, generators, matchers or [None] * len(params),
                                                        strict=True)]
        if self._counts is not None:
            fresh = self._counts.new_zeros((len(params), self._counts.shape[1]))
            self._counts = torch.cat([self._counts, fresh])
        self._tensors = None

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows`, in that order."""
        self._rows = [self._rows[i] for i in rows]
        if self._counts is not None:
            if any(r.penalized for r in self._rows):
                self._counts = self._counts.index_select(0, torch.tensor(rows, device=self._device))
            else:
                self._counts = None
        self._tensors = None

    def sample(self, logits: torch.Tensor, start: int = 0) -> list[Pick]:
        """Choose a token for rows `start`.. of the batch from their logits ([rows, vocab])."""
        count, vocab = int(logits.shape[0]), int(logits.shape[1])
        rows, span = self._rows[start:start + count], slice(start, start + count)
        tensors = self._build(vocab)
        raw = logits.float()
        scores = raw if tensors.bias is None else raw + tensors.bias[span]
        if any(r.penalized for r in rows):
            if self._counts is None:
                self._counts = torch.zeros((len(self._rows), vocab), device=self._device)
            counts = self._counts[span]
            scores = (scores - counts * tensors.frequency[span]
                      - (counts > 0).float() * tensors.presence[span])
        constrained = [(i, r.matcher) for i, r in enumerate(rows) if r.matcher is not None]
        if constrained:
            scores = scores.masked_fill(~self._allowed(constrained, count, vocab), float("-inf"))
        tokens = scores.argmax(dim=-1)
        sampled = [i for i, r in enumerate(rows) if not r.greedy]
        if sampled:
            index = torch.tensor(sampled, device=self._device)
            scaled = scores.index_select(0, index) / tensors.temperature[span].index_select(0, index)
            uniform = self._uniforms([rows[i] for i in sampled])
            cut = [j for j, i in enumerate(sampled) if rows[i].cut]
            plain = [j for j, i in enumerate(sampled) if not rows[i].cut]
            chosen = torch.empty(len(sampled), dtype=torch.long, device=self._device)
            if plain:
                where = torch.tensor(plain, device=self._device)
                probs = torch.softmax(scaled.index_select(0, where), dim=-1)
                chosen.index_copy_(0, where, _inverse_cdf(probs, uniform.index_select(0, where)))
            if cut:
                where = torch.tensor(cut, device=self._device)
                rows_index = index.index_select(0, where) + start
                chosen.index_copy_(0, where, _sample_cut(
                    scaled.index_select(0, where), tensors.top_p.index_select(0, rows_index),
                    tensors.top_k.index_select(0, rows_index), uniform.index_select(0, where)))
            tokens = tokens.index_copy(0, index, chosen)
        if self._counts is not None:
            positions = torch.arange(start, start + count, device=self._device)
            self._counts.index_put_((positions, tokens), torch.ones(count, device=self._device), accumulate=True)
        token_list = tokens.tolist()
        done, failed = [False] * count, [False] * count
        for i, matcher in constrained:
            failed[i] = not matcher.consume_token(token_list[i])
            done[i] = not failed[i] and bool(matcher.is_stopped())
        logprobs = self._logprobs(raw, tokens, token_list, rows)
        return [Pick(*pick) for pick in zip(token_list, logprobs, done, failed, strict=True)]

    def _allowed(self, constrained: list[tuple[int, Any]], rows: int, vocab: int) -> torch.Tensor:
        """[rows, vocab] True where a token is allowed (every token in rows without a grammar)."""
        if self._grammars is None:
            raise RuntimeError("a row has a grammar but the sampler was built without Grammars")
        allowed = self._grammars.mask(constrained, rows)
        if allowed.shape[1] < vocab:  # logits past the tokenizer's vocabulary (padding ids) are never allowed
            allowed = torch.cat([allowed, allowed.new_zeros((rows, vocab - allowed.shape[1]))], dim=1)
        return allowed[:, :vocab].to(self._device, non_blocking=True)

    def _uniforms(self, rows: list[_Row]) -> torch.Tensor:
        """One uniform number per row: from the row's own generator when seeded, else from the shared one."""
        values = torch.empty(len(rows), device=self._device)
        seeded = [j for j, r in enumerate(rows) if r.generator is not None]
        shared = [j for j, r in enumerate(rows) if r.generator is None]
        if seeded:
            draws = [torch.rand(1, generator=rows[j].generator, device=self._device) for j in seeded]
            values.index_copy_(0, torch.tensor(seeded, device=self._device), torch.cat(draws))
        if shared:
            values.index_copy_(0, torch.tensor(shared, device=self._device),
                               torch.rand(len(shared), generator=self._shared, device=self._device))
        return values

    def _logprobs(self, raw: torch.Tensor, tokens: torch.Tensor, token_list: list[int], rows: list[_Row]
                  ) -> list[TokenLogprob | None]:
        wanted = [i for i, r in enumerate(rows) if r.params.logprobs is not None]
        result: list[TokenLogprob | None] = [None] * len(rows)
        if not wanted:
            return result
        index = torch.tensor(wanted, device=self._device)
        logprobs = torch.log_softmax(raw.index_select(0, index), dim=-1).clamp(min=LOGPROB_FLOOR)
        chosen = logprobs.gather(1, tokens.index_select(0, index).unsqueeze(-1)).squeeze(-1).tolist()
        k = max(int(rows[i].params.logprobs or 0) for i in wanted)
        top_values, top_ids = logprobs.topk(k, dim=-1) if k else (logprobs[:, :0], logprobs[:, :0].long())
        values, ids = top_values.tolist(), top_ids.tolist()
        for j, i in enumerate(wanted):
            keep = int(rows[i].params.logprobs or 0)
            top = tuple(zip(ids[j][:keep], values[j][:keep], strict=True))
            result[i] = TokenLogprob(token_list[i], float(chosen[j]), top)
        return result

    def _build(self, vocab: int) -> _Tensors:
        if self._tensors is not None and (self._tensors.bias is None or self._tensors.bias.shape[1] == vocab):
            return self._tensors

        def column(values: list[float], dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.tensor(values, dtype=dtype, device=self._device).unsqueeze(-1)

        params = [r.params for r in self._rows]
        bias = None
        if any(p.logit_bias for p in params):
            bias = torch.zeros((len(params), vocab), device=self._device)
            for row, p in enumerate(params):  # once per join or leave, not per step
                for token, value in p.logit_bias:
                    bias[row, token] = value
        self._tensors = _Tensors(
            temperature=column([p.temperature if p.temperature > 0 else 1.0 for p in params]),
            top_p=column([p.top_p for p in params]),
            top_k=column([p.top_k if 0 < p.top_k < vocab else vocab for p in params], torch.long),
            frequency=column([p.frequency_penalty for p in params]),
            presence=column([p.presence_penalty for p in params]),
            bias=bias)
        return self._tensors


def _inverse_cdf(probs: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Per row, the first index whose cumulative probability exceeds `uniform` times the row's total."""
    cdf = probs.cumsum(dim=-1)
    target = uniform.unsqueeze(-1) * cdf[:, -1:]
    return torch.searchsorted(cdf, target, right=True).squeeze(-1).clamp(max=probs.shape[-1] - 1)


def _sample_cut(scaled: torch.Tensor, top_p: torch.Tensor, top_k: torch.Tensor, uniform: torch.Tensor
                ) -> torch.Tensor:
    """Sample rows after keeping their top-k tokens and the smallest prefix reaching top-p (the crossing one kept)."""
    ordered, order = torch.sort(scaled, dim=-1, descending=True, stable=True)
    probs = torch.softmax(ordered, dim=-1)
    ranks = torch.arange(probs.shape[-1], device=probs.device).unsqueeze(0)
    before = probs.cumsum(dim=-1) - probs  # probability of the better tokens
    keep = (ranks < top_k) & ((before <= top_p) | (ranks == 0))
    picked = _inverse_cdf(probs * keep, uniform)
    return order.gather(1, picked.unsqueeze(-1)).squeeze(-1)


def sample_rows(logits: torch.Tensor, params: list[SamplingParams],
                generators: list[torch.Generator | None]) -> list[int]:
    """One token per row of `logits` ([batch, vocab]) with that row's own parameters (a one-off batch)."""
    sampler = BatchSampler(logits.device)
    sampler.append(params, generators)
    return [pick.token for pick in sampler.sample(logits)]
