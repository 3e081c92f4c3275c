"""The local stand-in for Azure Container Apps: one supervised inference-server process per app."""

import sys
from pathlib import Path

import requests

from payloads.redeploy import CandidateResult, PromoteResult, SmokeGate, SwapResult
from payloads.steps import ProvisionOutputs, ReadinessResult, RestartResult
from share_layout import paths
from targets.local import candidates
from targets.local.adapter_swap import swap_via_admin_route
from targets.local.app_files import CRASH_LOOP_RESTARTS, AppFiles, AppSpec, ServerSpec
from targets.local.ports import free_port, port_in_use
from targets.local.process_control import signal_or_launch, supervisor_pid
from targets.local.share import LocalShare

SWAP_TIMEOUT_S = 600.0
"""How long an adapter swap (load, merge, gate) may take on the server before the step gives up."""


class LocalApps:
    """Creates, restarts and probes local apps under `apps_dir`."""

    def __init__(self, apps_dir: Path, share: LocalShare, python: str | None = None) -> None:
        self.apps_dir = apps_dir
        self.share = share
        self.python = python or sys.executable

    def files(self, app_name: str) -> AppFiles:
        """The files of one app."""
        return AppFiles(self.apps_dir / app_name)

    def is_provisioned(self, app_name: str) -> bool:
        """Whether provision has written the app's spec."""
        return self.files(app_name).read_spec() is not None

    def require_spec(self, app_name: str) -> AppSpec:
        """The app's spec, or a clear error when it was never provisioned."""
        spec = self.files(app_name).read_spec()
        if spec is None:
            raise LookupError(f"app {app_name!r} is not provisioned on the local target: POST /api/provision first")
        return spec

    def endpoint(self, spec: AppSpec) -> str:
        """The app's loopback URL."""
        return f"http://127.0.0.1:{spec.port}"

    def ports_of_other_apps(self, app_name: str) -> dict[int, str]:
        """The ports other provisioned apps are given (running or not), and which app has each."""
        specs = (AppFiles(path).read_spec() for path in sorted(self.apps_dir.glob("*")) if path.name != app_name)
        return {spec.port: spec.name for spec in specs if spec is not None}

    def port_problem(self, app_name: str, port: int) -> str | None:
        """Why `app_name` cannot serve on `port` (another app has it, or something else listens there), or None."""
        if (owner := self.ports_of_other_apps(app_name).get(port)) is not None:
            return f"port {port} is already given to app {owner!r}"
        files = self.files(app_name)
        spec = files.read_spec()
        own_server_runs = spec is not None and spec.port == port and supervisor_pid(files) is not None
        if not own_server_runs and port_in_use(port):
            return f"port {port} is in use by another process on this machine"
        return None

    def pick_port(self, app_name: str, own: int | None = None) -> int:
        """A free port that no other app is given (nor `own`, the app's public port)."""
        taken = {*self.ports_of_other_apps(app_name), own}
        while (port := free_port()) in taken:
            continue
        return port

    def create_app(self, app_name: str, port: int | None) -> ProvisionOutputs:
        """Create or update the app spec, its API key and its inference.config.json."""
        files = self.files(app_name)
        if port is not None and (problem := self.port_problem(app_name, port)):
            raise ValueError(f"cannot provision {app_name!r} on port {port}: {problem}; choose another port or omit it")
        spec = files.read_spec() or AppSpec(name=app_name, port=port or self.pick_port(app_name))
        spec.port = port or spec.port
        files.write_spec(spec)
        files.ensure_api_key()
        outputs = ProvisionOutputs(
            SUBSCRIPTION_ID="local",
            RESOURCE_GROUP_NAME="local",
            STORAGE_ACCOUNT_NAME="local",
            FILE_SHARE_NAME="local-share",
            ACA_APP_NAME=app_name,
            ACA_APP_ENDPOINT=self.endpoint(spec),
        )
        files.write_json(files.config_path, outputs.model_dump())
        return outputs

    def server_spec(self, spec: AppSpec, base_model: str, version: str) -> ServerSpec:
        """The command and environment of a revision, as the container app would have them; PORT is private (the
        supervisor's front forwards the app's port to it); ADAPTER_POINTER makes a restart keep a swapped adapter."""
        model_dir = self.share.path(base_model)
        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(f"no base model at {base_model!r} on the share (expected a config.json there)")
        return ServerSpec(
            argv=[self.python, "-m", "inference_container"],
            cwd=str(self.share.path(paths.INFERENCE_CODE)),
            env={
                "MODEL_PATH": str(model_dir),
                "ADAPTER_PATH": str(self.share.path(paths.adapter_version_dir(version))),
                "MERGED_CACHE_DIR": str(self.share.path(paths.MERGED_CACHE)),
                "ADAPTER_POINTER": str(self.share.path(paths.current_record(spec.name))),
                "HOST": "127.0.0.1",
                "PORT": str(self.pick_port(spec.name, spec.port)),
            },
        )

    def restart(self, app_name: str, base_model: str, version: str) -> RestartResult:
        """Write a new revision into the spec and have the supervisor switch to it."""
        files = self.files(app_name)
        spec = self.require_spec(app_name)
        spec.server = self.server_spec(spec, base_model, version)
        spec.revision_number += 1
        spec.revision = f"{app_name}--{spec.revision_number}"
        files.write_spec(spec)
        signal_or_launch(files)
        return RestartResult(revision=spec.revision, endpoint=self.endpoint(spec))

    @staticmethod
    def _answered_by(revision: str, reply: requests.Response) -> ReadinessResult:
        """Ready only when the 200 comes from `revision` itself, not from another server holding the port."""
        try:
            answered = reply.json().get("revision")
        except (ValueError, AttributeError):
            answered = None
        if answered == revision:
            return ReadinessResult(ready=True, detail=f"revision {revision} is ready")
        return ReadinessResult(ready=False, detail=f"the app's port is answered by {answered or 'another server'}, "
                                                   f"not revision {revision}")

    def probe(self, app_name: str, revision: str) -> ReadinessResult:
        """Ready when `revision` is the supervisor's running revision and its /ready answers 200."""
        files = self.files(app_name)
        spec = self.require_spec(app_name)
        state = files.read_state()
        if state.revision != revision:
            return ReadinessResult(ready=False, detail=f"revision {revision} not started yet")
        if state.restarts >= CRASH_LOOP_RESTARTS:
            report = files.crash_report(revision)
            detail = f"revision {revision} keeps crashing (exit code {state.last_exit_code}); {report}"
            return ReadinessResult(ready=False, failed=True, detail=detail)
        try:
            reply = requests.get(f"{self.endpoint(spec)}/ready", timeout=3)
        except requests.RequestException:
            return ReadinessResult(ready=False, detail=f"revision {revision} is starting (not listening yet)")
        if reply.status_code == 200:
            return self._answered_by(revision, reply)
        return ReadinessResult(ready=False, detail=f"revision {revision} is loading (/ready: {reply.status_code})")

    def swap_adapter(self, app_name: str, version: str, gate: SmokeGate | None) -> SwapResult:
        """Swap the serving server's adapter in place through its admin route (the app's admin key), gated."""
        files = self.files(app_name)
        spec = self.require_spec(app_name)
        adapter = str(self.share.path(paths.adapter_version_dir(version)))
        return swap_via_admin_route(self.endpoint(spec), files.ensure_admin_key(), version, adapter, gate,
                                    SWAP_TIMEOUT_S)

    def start_candidate(self, app_name: str, base_model: str, version: str) -> CandidateResult:
        """Start a second server beside the serving one, on its own port, with no traffic; or say why not."""
        files = self.files(app_name)
        spec = self.require_spec(app_name)
        if spec.max_replicas < 2:
            return CandidateResult(fallback=f"the app runs at most {spec.max_replicas} server (max_replicas in "
                                            f"{files.spec_path.name}): no candidate can run beside the serving one")
        if spec.server is None or supervisor_pid(files) is None:
            return CandidateResult(fallback="no server of the app is running: nothing to keep serving meanwhile")
        return candidates.start(files, spec, self.server_spec(spec, base_model, version))

    def probe_candidate(self, app_name: str, revision: str) -> ReadinessResult:
        """Whether the candidate runs and answers /ready at its own port; failed once it exited."""
        return candidates.probe(self.files(app_name), self.require_spec(app_name), revision)

    def promote(self, app_name: str, revision: str) -> PromoteResult:
        """Send every new request to the candidate at once; the previous server finishes its requests, then stops."""
        spec = self.require_spec(app_name)
        return candidates.promote(self.files(app_name), spec, revision, self.endpoint(spec))

    def discard_candidate(self, app_name: str, revision: str) -> None:
        """Stop the candidate; the serving server is untouched."""
        candidates.discard(self.files(app_name), self.require_spec(app_name), revision)

    def api_key(self, app_name: str) -> str | None:
        """The key the app's servers check on /v1 (for the smoke gate); never logged."""
        return self.files(app_name).ensure_api_key()
