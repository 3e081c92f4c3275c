"""Container Apps health-probe limits (facts/AZURE.md section 4: SDK ContainerAppProbe docs, health-probes.md)."""

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

# Inclusive ranges of each probe field in ACA.
LIMITS: dict[str, tuple[int, int]] = {
    "initialDelaySeconds": (1, 60),
    "periodSeconds": (1, 240),
    "timeoutSeconds": (1, 240),
    "successThreshold": (1, 10),
    "failureThreshold": (1, 10),
}
PROBE_TYPES = ("Liveness", "Readiness", "Startup")
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_PERIOD_SECONDS = 10
MAX_TERMINATION_GRACE_SECONDS = 3600


def probe_problems(probes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Fields outside ACA's limits, a second probe of one type, or a liveness/startup successThreshold other than 1."""
    problems: list[str] = []
    counts = Counter(probe.get("type") for probe in probes)
    problems += [f"{kind}: {count} probes of one type (ACA allows one)" for kind, count in counts.items() if count > 1]
    for probe in probes:
        kind = probe.get("type")
        if kind not in PROBE_TYPES:
            problems.append(f"unknown probe type {kind!r}")
        for field, (low, high) in LIMITS.items():
            value = probe.get(field)
            if value is not None and not (isinstance(value, int) and low <= value <= high):
                problems.append(f"{kind}: {field} {value!r} outside {low}-{high}")
        if kind in ("Liveness", "Startup") and probe.get("successThreshold", 1) != 1:
            problems.append(f"{kind}: successThreshold must be 1")
        http = probe.get("httpGet")
        if http is None or not isinstance(http.get("port"), int) or http.get("scheme", "HTTP") not in ("HTTP", "HTTPS"):
            problems.append(f"{kind}: needs httpGet with an integer port and scheme HTTP or HTTPS")
    return problems


def startup_budget_seconds(probe: Mapping[str, Any]) -> int:
    """How long a startup probe lets a replica take before it is restarted: delay + period x failures."""
    return (int(probe.get("initialDelaySeconds", 0))
            + int(probe.get("periodSeconds", DEFAULT_PERIOD_SECONDS))
            * int(probe.get("failureThreshold", DEFAULT_FAILURE_THRESHOLD)))


def max_startup_budget_seconds() -> int:
    """The longest start-up ACA's limits allow (60 + 240 x 10 s)."""
    return LIMITS["initialDelaySeconds"][1] + LIMITS["periodSeconds"][1] * LIMITS["failureThreshold"][1]
