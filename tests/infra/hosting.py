"""Reading the azd hosting infra: module wiring, app settings, and whether the Durable backend matches host.json."""

import re
from collections.abc import Mapping
from typing import Any

from tests.infra.bicep_reader import Module, Param

SETTING_LINE = re.compile(r"^\s*(\w+):\s*(.+?)\s*$")
KEY_MATERIAL = re.compile(r"AccountKey=|SharedAccessSignature=|listKeys\(|list\w*\(|\.keys\[|primaryKey|secretValue",
                          re.IGNORECASE)


def block(body: str, key: str) -> str:
    """The text inside `key: { ... }` in a declaration body."""
    start = re.search(rf"^\s*{key}:\s*\{{\s*$", body, re.MULTILINE)
    if start is None:
        raise ValueError(f"no `{key}: {{` block")
    depth, index = 1, start.end()
    while depth:
        char = body[index]
        depth += {"{": 1, "}": -1}.get(char, 0)
        index += 1
    return body[start.end():index - 1]


def top_level_keys(block_text: str) -> dict[str, str]:
    """`key: value` pairs at the outermost level of an object block (nested objects keep their first line)."""
    pairs: dict[str, str] = {}
    depth = 0
    for line in block_text.splitlines():
        if depth == 0 and (match := SETTING_LINE.match(line)):
            pairs[match.group(1)] = match.group(2)
        depth += line.count("{") + line.count("[") - line.count("}") - line.count("]")
    return pairs


def module_arguments(module: Module) -> dict[str, str]:
    """The params a module declaration passes."""
    return top_level_keys(block(module.body, "params"))


def module_wiring_problems(module: Module, declared: Mapping[str, Param]) -> list[str]:
    """Params a module declaration passes that the module lacks, and required ones it does not pass."""
    passed = module_arguments(module)
    problems = [f"{module.symbol}: passes {name}, which {module.path} does not declare"
                for name in sorted(set(passed) - set(declared))]
    problems += [f"{module.symbol}: does not pass required {name}" for name, param in sorted(declared.items())
                 if param.default is None and name not in passed]
    return problems


def settings_problems(settings: Mapping[str, str]) -> list[str]:
    """App settings that hold key material, a key-based storage connection, or a secret outside Key Vault."""
    problems = [f"{name}: {value} looks like key material" for name, value in settings.items()
                if KEY_MATERIAL.search(value)]
    if "AzureWebJobsStorage" in settings:
        problems.append("AzureWebJobsStorage is a connection string; use AzureWebJobsStorage__* with an identity")
    if settings.get("AzureWebJobsStorage__credential") != "'managedidentity'":
        problems.append("AzureWebJobsStorage__credential must be 'managedidentity'")
    if not settings.get("WEBHOOK_SECRET", "").startswith("'@Microsoft.KeyVault(VaultName="):
        problems.append("WEBHOOK_SECRET must be a Key Vault reference")
    return problems


def durable_backend_problems(host_json: Mapping[str, Any], settings: Mapping[str, str]) -> list[str]:
    """Whether the infra provides what host.json's Durable storage provider needs."""
    provider = host_json.get("extensions", {}).get("durableTask", {}).get("storageProvider", {})
    kind = str(provider.get("type", "AzureStorage"))
    if kind.lower() == "azuremanaged":
        name = provider.get("connectionStringName", "DURABLE_TASK_SCHEDULER_CONNECTION_STRING")
        return [] if name in settings else [f"host.json uses the Durable Task Scheduler; no {name} setting"]
    if kind.lower() == "azurestorage":
        needed = ("AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri")
        return [f"the Azure Storage backend needs {name}" for name in needed if name not in settings]
    return [f"host.json names a storage provider the infra does not provide: {kind}"]
