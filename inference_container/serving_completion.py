"""POST /v1/completions: a raw prompt in, text out; streamed or whole."""

from inference_container.errors import APIError
from inference_container.protocol import CompletionChoice, CompletionRequest, CompletionResponse, UsageInfo
from inference_container.serving_common import OpenAIServing


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

    def _reply(self, request_id: str, model: str, text: str, finish: str,
               usage: UsageInfo) -> CompletionResponse:
        return self._chunk(request_id, model, text, finish, usage)

    def _chunk(self, request_id: str, model: str, text: str | None, finish: str | None = None,
               usage: UsageInfo | None = None) -> CompletionResponse:
        choices = [] if text is None else [CompletionChoice(text=text, finish_reason=finish)]
        return CompletionResponse(id=request_id, model=model, choices=choices, usage=usage)
