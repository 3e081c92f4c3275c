"""The text the tiny tokenizer is trained on: enough English for word-sized pieces."""

CORPUS = """
The model answers questions about deployment, adapters and inference.
A base model is fine-tuned with a low rank adapter, and the adapter is merged for serving.
Azure Container Apps run the inference server on a GPU with a file share mounted.
The server streams tokens to the client and reports usage when the reply is finished.
Hello! How can I help you today? Ask me anything about your fine-tuned model.
What is the capital of France? Paris is the capital of France.
Training finished, the weights were saved, and the endpoint is ready to answer.
System, user and assistant take turns in a conversation with the chat template.
Numbers one two three four five six seven eight nine ten are counted in order.
"""
