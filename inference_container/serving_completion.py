"""POST /v1/completions: a raw prompt in, text out; streamed or whole."""

from collections.abc import Sequence

from inference_container.engine.types import TokenLogprob
from inference_container.errors import APIError
from inference_container.protocol import (
    CompletionChoice,
    CompletionLogprobs,
    CompletionRequest,
    CompletionResponse,
    UsageInfo,
)
from inference_container.serving_common import ChoiceOutput, OpenAIServing


class OpenAIServingCompletion(OpenAIServing[CompletionRequest]):
    """Turns completion requests into engine requests and engine events into OpenAI replies."""

    id_prefix = "cmpl"

    def _prompt_ids(self, request: CompletionRequest) -> list[int]:
        prompt = request.prompt
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], int):
            ids = [int(t) for t in prompt]
            if not all(0 <= t < self._ctx.vocab_size for t in ids):
                raise APIError(400, f"Token ids must be in [0, {self._ctx.vocab_size}).", param="prompt")
            return ids
        text = prompt[0] if isinstance(prompt, list) else prompt
        ids = list(self._ctx.tokenizer(str(text))["input_ids"])
        if not ids:
            raise APIError(400, "The prompt is empty.", param="prompt")
        return ids

    def _reply(self, request_id: str, model: str, choices: list[ChoiceOutput],
               usage: UsageInfo) -> CompletionResponse:
        return CompletionResponse(id=request_id, model=model, choices=[_choice(c) for c in choices], usage=usage)

    def _chunk(self, request_id: str, model: str, choice: ChoiceOutput | None,
               usage: UsageInfo | None = None) -> CompletionResponse:
        choices = [] if choice is None else [_choice(choice)]
        return CompletionResponse(id=request_id, model=model, choices=choices, usage=usage)

    def _logprobs(self, tokens: Sequence[TokenLogprob], offset: int) -> CompletionLogprobs:
        texts = self._ctx.token_texts
        result = CompletionLogprobs()
        for token in tokens:
            text = texts.text(token.token_id)
            result.tokens.append(text)
            result.token_logprobs.append(token.logprob)
            result.top_logprobs.append({texts.text(i): lp for i, lp in reversed(token.top)})  # best wins a tie
            result.text_offset.append(offset)
            offset += len(text)
        return result


def _choice(choice: ChoiceOutput) -> CompletionChoice:
    assert choice.logprobs is None or isinstance(choice.logprobs, CompletionLogprobs)
    return CompletionChoice(index=choice.index, text=choice.text, finish_reason=choice.finish,
                            logprobs=choice.logprobs)
