"""Calling decorated functions the way the Functions worker does."""

from collections.abc import Callable
from typing import Any


def user_function(builder: Any) -> Callable[..., Any]:
    """The function the decorators built (for an orchestrator: the SDK's orchestrator handle)."""
    return builder.build().get_user_function()


def client_function(builder: Any) -> Callable[..., Any]:
    """An HTTP starter's own coroutine function, called as (req, client) with any Durable client."""
    wrapper: Any = user_function(builder)
    return wrapper.client_function
