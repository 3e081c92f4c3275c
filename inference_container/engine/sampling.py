"""Per-row token choice inside a shared batch: each request keeps its temperature, top_p and seed."""

import torch

from inference_container.engine.types import SamplingParams


def make_generator(params: SamplingParams, device: torch.device) -> torch.Generator | None:
    """A private RNG for a sampled request (seeded when it asked for a seed); None for greedy."""
    if params.temperature == 0:
        return None
    generator = torch.Generator(device=device)
    if params.seed is not None:
        generator.manual_seed(params.seed)
    else:
        generator.seed()
    return generator


def _top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    sorted_logits, order = torch.sort(logits, descending=True)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    drop = cumulative - torch.softmax(sorted_logits, dim=-1) > top_p  # keep the token that crosses top_p
    sorted_logits[drop] = float("-inf")
    return torch.empty_like(logits).scatter_(0, order, sorted_logits)


def sample_rows(logits: torch.Tensor, params: list[SamplingParams],
                generators: list[torch.Generator | None]) -> list[int]:
    """Pick one token per row of `logits` ([batch, vocab]) with that row's own parameters."""
    greedy = logits.argmax(dim=-1).tolist()
    chosen: list[int] = []
    for row, (p, generator) in enumerate(zip(params, generators, strict=True)):
        if generator is None:
            chosen.append(int(greedy[row]))
            continue
        row_logits = logits[row].float() / p.temperature
        if p.top_p < 1.0:
            row_logits = _top_p_filter(row_logits, p.top_p)
        probs = torch.softmax(row_logits, dim=-1)
        chosen.append(int(torch.multinomial(probs, 1, generator=generator).item()))
    return chosen
