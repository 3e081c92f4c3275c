"""What every target provides: a file share and a host for the inference container app."""

from typing import Protocol

from payloads.redeploy import CandidateResult, PromoteResult, SmokeGate, SwapResult
from payloads.steps import ProvisionOutputs, ReadinessResult, RestartResult
from share_layout.file_share import FileShare


class AppHost(Protocol):
    """Runs the inference server as a container app with the share mounted."""

    def is_provisioned(self, app_name: str) -> bool:
        """Whether the app exists (provision has created it)."""

    def create_app(self, app_name: str, port: int | None) -> ProvisionOutputs:
        """Create the app (idempotent) and return where it will answer."""

    def restart(self, app_name: str, base_model: str, version: str) -> RestartResult:
        """Start a new revision serving this base model and adapter version."""

    def probe(self, app_name: str, revision: str) -> ReadinessResult:
        """Whether `revision` is the one serving and answers /ready."""

    def swap_adapter(self, app_name: str, version: str, gate: SmokeGate | None) -> SwapResult:
        """Swap the running server's adapter to `version` in place (its admin route), gated; old one kept on failure."""

    def start_candidate(self, app_name: str, base_model: str, version: str) -> CandidateResult:
        """Start a candidate revision beside the serving one, with no traffic; or say why only a restart can do."""

    def probe_candidate(self, app_name: str, revision: str) -> ReadinessResult:
        """Whether the candidate `revision` is running and answers /ready at its own URL."""

    def promote(self, app_name: str, revision: str) -> PromoteResult:
        """Move all traffic to the candidate in one step; the previous revision drains and stops."""

    def discard_candidate(self, app_name: str, revision: str) -> None:
        """Stop a candidate that failed readiness or the gate; the serving revision is untouched."""


class Target(Protocol):
    """A share plus an app host."""

    @property
    def share(self) -> FileShare:
        """The file share."""

    @property
    def apps(self) -> AppHost:
        """The container app host."""
