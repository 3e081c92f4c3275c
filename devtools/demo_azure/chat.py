"""One chat completion from the simulated container app, through its endpoint, with its API key."""

from openai import OpenAI

QUESTION = "Hello! What did the fine-tuning teach you?"


def ask(endpoint: str, api_key: str, max_tokens: int = 12) -> tuple[str, str]:
    """The adapter model's name and its answer (the official openai client; the key only in its header)."""
    client = OpenAI(base_url=f"{endpoint}/v1", api_key=api_key, max_retries=2, timeout=120)
    models = client.models.list().data
    model = next((entry.id for entry in models if getattr(entry, "parent", None)), models[-1].id)
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}],
                                           temperature=0, max_tokens=max_tokens, extra_body={"ignore_eos": True})
    return model, reply.choices[0].message.content or ""
