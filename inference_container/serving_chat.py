"""POST /v1/chat/completions: chat template, then the engine; streamed or whole."""

from collections.abc import Sequence

from jinja2 import TemplateError
from pydantic import BaseModel

from inference_container.engine.types import TokenLogprob
from inference_container.errors import APIError
from inference_container.protocol import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatLogprobs,
    ChatTokenLogprob,
    DeltaMessage,
    ResponseMessage,
    TopLogprob,
    UsageInfo,
)
from inference_container.serving_common import ChoiceOutput, OpenAIServing


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

    def _reply(self, request_id: str, model: str, choices: list[ChoiceOutput],
               usage: UsageInfo) -> ChatCompletionResponse:
        replies = [ChatChoice(index=c.index, message=ResponseMessage(content=c.text), finish_reason=c.finish,
                              logprobs=_chat(c.logprobs)) for c in choices]
        return ChatCompletionResponse(id=request_id, model=model, choices=replies, usage=usage)

    def _chunk(self, request_id: str, model: str, choice: ChoiceOutput | None,
               usage: UsageInfo | None = None) -> ChatCompletionChunk:
        choices = [] if choice is None else [
            ChatChunkChoice(index=choice.index, delta=DeltaMessage(content=choice.text), finish_reason=choice.finish,
                            logprobs=_chat(choice.logprobs))]
        return ChatCompletionChunk(id=request_id, model=model, choices=choices, usage=usage)

    def _opening(self, request_id: str, model: str, index: int) -> ChatCompletionChunk:
        """The assistant role, announced for each choice before any text."""
        choice = ChatChunkChoice(index=index, delta=DeltaMessage(role="assistant", content=""))
        return ChatCompletionChunk(id=request_id, model=model, choices=[choice])

    def _logprobs(self, tokens: Sequence[TokenLogprob], offset: int) -> ChatLogprobs:
        texts = self._ctx.token_texts

        def top(token_id: int, logprob: float) -> TopLogprob:
            text = texts.text(token_id)
            return TopLogprob(token=text, logprob=logprob, bytes=list(text.encode()))

        return ChatLogprobs(content=[
            ChatTokenLogprob(**top(t.token_id, t.logprob).model_dump(), top_logprobs=[top(i, lp) for i, lp in t.top])
            for t in tokens])


def _chat(logprobs: BaseModel | None) -> ChatLogprobs | None:
    assert logprobs is None or isinstance(logprobs, ChatLogprobs)
    return logprobs
