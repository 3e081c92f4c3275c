"""Inputs and outputs of the redeploy activities (strategy choice, swap, candidate, gate, promote, discard)."""

from payloads.redeploy import RequestedStrategy, SmokeGate, Strategy
from payloads.steps import DeployRef, Payload


class StrategyInput(DeployRef):
    """What the deploy will serve, to compare with what serves now (serving/apps/<app>/current.json)."""

    requested: RequestedStrategy = "auto"
    base_model: str
    code_hash: str
    version: str


class StrategyChoice(Payload):
    """The strategy, why, and what serves now (the revision a swap keeps and a blue-green replaces)."""

    strategy: Strategy
    reason: str
    serving_revision: str | None = None
    serving_endpoint: str | None = None
    serving_version: str | None = None


class SwapInput(DeployRef):
    """Swap the serving server's adapter to `version`, behind `gate`."""

    version: str
    gate: SmokeGate | None = None


class GateInput(DeployRef):
    """Send the gate's prompts to the candidate at `url`."""

    url: str
    gate: SmokeGate


class RevisionInput(DeployRef):
    """One revision of the app: the candidate to probe, promote or discard."""

    revision: str
