"""Import function_app.py unchanged and index its functions through the azure.functions API."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func

HTTP_TRIGGER = "httpTrigger"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
DURABLE_CLIENT = "durableClient"


@dataclass(frozen=True)
class HttpFunction:
    """An HTTP-triggered function and what its trigger declares."""

    name: str
    route: str
    methods: frozenset[str] | None
    auth_level: str
    request_param: str
    client_params: tuple[str, ...]
    has_context_param: bool
    user_function: Callable[..., Any]


@dataclass(frozen=True)
class ActivityFunction:
    """An activity function and the name of its input parameter."""

    name: str
    input_param: str
    user_function: Callable[..., Any]


@dataclass
class FunctionIndex:
    """All functions the app declares, by kind."""

    http: list[HttpFunction] = field(default_factory=list)
    orchestrators: dict[str, Callable[..., Any]] = field(default_factory=dict)
    activities: dict[str, ActivityFunction] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def _http_function(function: Any, trigger: Any) -> HttpFunction:
    bindings = function.get_bindings()
    methods = trigger.methods
    method_set = frozenset(_enum_value(m).upper() for m in methods) if methods else None
    user_function = function.get_user_function()
    clients = tuple(b.name for b in bindings if b.type == DURABLE_CLIENT)
    params = inspect.signature(user_function).parameters
    return HttpFunction(
        name=function.get_function_name(),
        route=str(trigger.route or function.get_function_name()).strip("/"),
        methods=method_set,
        auth_level=_enum_value(trigger.auth_level or "function").lower(),
        request_param=trigger.name,
        client_params=clients,
        has_context_param="context" in params,
        user_function=user_function,
    )


def index_functions(registers: list[Any]) -> FunctionIndex:
    """Sort every function of the given FunctionApp/DFApp objects by trigger type."""
    index = FunctionIndex()
    for register in registers:
        for function in register.get_functions():
            trigger = function.get_trigger()
            name = function.get_function_name()
            kind = trigger.type if trigger is not None else None
            if kind == HTTP_TRIGGER:
                index.http.append(_http_function(function, trigger))
            elif kind == ORCHESTRATION_TRIGGER:
                index.orchestrators[name] = function.get_user_function()
            elif kind == ACTIVITY_TRIGGER:
                index.activities[name] = ActivityFunction(name, trigger.name, function.get_user_function())
            else:
                index.unsupported.append(f"{name} ({kind})")
    return index


def load_app(app_dir: Path) -> FunctionIndex:
    """Import DIR/function_app.py the way the Python worker does and index its functions."""
    app_path = str(app_dir)
    if app_path not in sys.path:
        sys.path.insert(0, app_path)
    os.chdir(app_dir)
    module = importlib.import_module("function_app")
    registers = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    if not registers:
        raise RuntimeError(f"{app_dir}/function_app.py defines no FunctionApp or DFApp object")
    return index_functions(registers)
