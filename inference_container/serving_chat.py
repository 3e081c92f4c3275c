"""POST /v1/chat/completions: chat template, then the engine; streamed or whole."""

from jinja2 import TemplateError

from inference_container.errors import APIError
from inference_container.protocol import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    DeltaMessage,
    ResponseMessage,
    UsageInfo,
)
from inference_container.serving_common import OpenAIServing


class OpenAIServingChat(OpenAIServing[ChatCompletionRequest]):
    """Turns chat requests into engine requests and engine events into OpenAI replies."""

    id_prefix = "chatcmpl"

    def _prompt_ids(self, request: ChatCompletionRequest) -> list[int]:
        messages = [{"role": m.role, "content": m.text()} for m in request.messages]
        try:
            text = self._ctx.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except TemplateError as exc:
            raise APIError(400, f"The chat template rejected these messages: {exc}", param="messages") from None
        except ValueError as exc:  # transformers: the tokenizer has no chat template
            raise APIError(400, f"This model cannot format chat messages ({exc}); use /v1/completions.",
                           param="messages") from None
        return list(self._ctx.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _reply(self, request_id: str, model: str, text: str, finish: str,
               usage: UsageInfo) -> ChatCompletionResponse:
        choice = ChatChoice(message=ResponseMessage(content=text), finish_reason=finish)
        return ChatCompletionResponse(id=request_id, model=model, choices=[choice], usage=usage)

    def _chunk(self, request_id: str, model: str, text: str | None, finish: str | None = None,
               usage: UsageInfo | None = None) -> ChatCompletionChunk:
        choices = [] if text is None else [ChatChunkChoice(delta=DeltaMessage(content=text), finish_reason=finish)]
        return ChatCompletionChunk(id=request_id, model=model, choices=choices, usage=usage)

    def _opening(self, request_id: str, model: str) -> ChatCompletionChunk:
        """The assistant role, announced before any text."""
        choice = ChatChunkChoice(delta=DeltaMessage(role="assistant", content=""))
        return ChatCompletionChunk(id=request_id, model=model, choices=[choice])
