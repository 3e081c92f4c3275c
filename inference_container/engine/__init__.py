"""The generation engine: one thread running a step loop over a padded batch with a shared KV cache.

Why this design and not transformers' built-in continuous batching: measured on the 2-core CPU dev box
(shared with other jobs, load average ~3.5, so numbers are noisy), 16 requests x 64 new tokens, greedy,
`ignore_eos`, tokens/s over the whole batch:

    model                         this engine  same, batch 1  generate_batch  ContinuousBatchingManager
    tiny Llama (64 hidden, 2 L)          6944            709             167                         97
    512 hidden, 8 layers (~25M)      55 / 180              16        127 / 94                         38

(two runs where two numbers are given; the engine's first run was taken before its batch shapes were
warm). The streaming manager (`init_continuous_batching` + `add_request(streaming=True)`) was slowest in
every run, and it has one seed per manager (`ContinuousBatchingConfig.seed`) where the API needs one per
request. This engine admits
waiting requests between decode steps (a batched prefill of the newcomers, written into spare rows of the
running batch's preallocated cache: `batch.py`, `kv_cache.py`), decodes all rows in one forward per step,
samples the whole batch with tensor operations and per-row parameters (`sampling.py`: temperature, top-k,
top-p, penalties, logit_bias, logprobs; seeded rows draw from their own generator), and drops finished or
cancelled rows before the next step. A request with `n` choices is prefilled once; its cache row is copied.
"""

from inference_container.engine.scheduler import Engine, QueueFullError
from inference_container.engine.types import Admitted, Finished, GenerationRequest, SamplingParams, TextDelta

__all__ = ["Admitted", "Engine", "Finished", "GenerationRequest", "QueueFullError", "SamplingParams", "TextDelta"]
