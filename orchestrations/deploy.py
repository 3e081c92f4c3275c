"""Deploy workflow: sync code, snapshot the adapter, restart, wait until ready (monitor), record."""

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.constants import DATETIME_STRING_FORMAT

from activities.check_readiness import check_readiness
from activities.record_deployment import record_deployment
from activities.restart_revision import restart_revision
from activities.snapshot_adapter import snapshot_adapter
from activities.sync_share import sync_share
from orchestrations.policies import call_step, step_failed
from orchestrations.progress import Progress
from payloads.steps import (
    DeployChanges,
    DeployJob,
    DeploymentRecord,
    DeployOutput,
    DeployRef,
    ReadinessInput,
    ReadinessResult,
    RecordInput,
    RestartInput,
    RestartResult,
    SnapshotInput,
    SnapshotResult,
    SyncResult,
)
from share_layout import paths

NAME = "deploy"
STEPS = ("sync_code", "snapshot_adapter", "restart", "wait_ready", "record")

bp = df.Blueprint()


class ReadinessTimeout(RuntimeError):
    """The new revision did not answer /ready before the deadline."""


def wait_until_ready(
    context: df.DurableOrchestrationContext, revision: str, job: DeployJob, progress: Progress
) -> Generator[Any, Any, None]:
    """Monitor pattern: probe, then sleep on a durable timer, until ready, failed, or past the deadline."""
    timeout = job.readiness_timeout_s
    began = context.current_utc_datetime
    deadline = began + timedelta(seconds=timeout)
    probe_input = ReadinessInput(target=job.target, app_name=job.app_name, azure=job.azure,
                                 revision=revision).model_dump(mode="json")
    probes = 0
    while True:
        raw = yield context.call_activity(check_readiness, probe_input)
        probe = ReadinessResult.model_validate(raw)
        probes += 1
        if probe.ready:
            return
        if probe.failed:
            raise RuntimeError(probe.detail)
        if context.current_utc_datetime >= deadline:
            raise ReadinessTimeout(f"revision {revision} was not ready within {timeout} s; last probe: {probe.detail}")
        elapsed = int((context.current_utc_datetime - began).total_seconds())
        progress.publish(detail=f"{probe.detail}; {elapsed} s of {timeout} s", elapsed_s=elapsed, timeout_s=timeout,
                         deadline=deadline.strftime(DATETIME_STRING_FORMAT), probes=probes)
        next_probe = context.current_utc_datetime + timedelta(seconds=job.poll_seconds)
        yield context.create_timer(min(next_probe, deadline))


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def deploy(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Run the deploy steps in order; the output is the app's record (serving/apps/<app>/current.json) plus changes."""
    job = DeployJob.model_validate(context.get_input())
    progress = Progress(context, STEPS)
    try:
        progress.start("sync_code", "Syncing the inference server code to the share")
        ref = DeployRef(target=job.target, app_name=job.app_name, azure=job.azure)
        sync = SyncResult.model_validate((yield call_step(context, sync_share, ref)))
        progress.record("sync_code", files_copied=len(sync.copied), bytes_copied=sync.bytes_copied,
                        files_deleted=len(sync.deleted), files_unchanged=sync.unchanged)
        progress.start("snapshot_adapter", "Snapshotting the adapter as an immutable version")
        snapshot_input = SnapshotInput(
            target=job.target, app_name=job.app_name, azure=job.azure, adapter_source=job.adapter_source,
            version=job.version,
        )
        snapshot = SnapshotResult.model_validate((yield call_step(context, snapshot_adapter, snapshot_input)))
        progress.record("snapshot_adapter", version=snapshot.version, files_copied=snapshot.files_copied)
        progress.start("restart", f"Starting a revision with adapter {snapshot.version}")
        restart_input = RestartInput(
            target=job.target, app_name=job.app_name, azure=job.azure, base_model=job.base_model,
            version=snapshot.version,
        )
        restart = RestartResult.model_validate((yield call_step(context, restart_revision, restart_input)))
        progress.record("restart", revision=restart.revision)
        progress.start("wait_ready", f"Waiting for {restart.revision} to serve")
        yield from wait_until_ready(context, restart.revision, job, progress)
        record = DeploymentRecord(
            app_name=job.app_name, endpoint=restart.endpoint, revision=restart.revision,
            version=snapshot.version, base_model=job.base_model, adapter_hash=snapshot.adapter_hash,
            code_hash=sync.code_hash, deployed_at=context.current_utc_datetime,
        )
        progress.start("record", f"Recording the deployment in {paths.current_record(job.app_name)}")
        record_input = RecordInput(target=job.target, app_name=job.app_name, azure=job.azure, record=record)
        yield call_step(context, record_deployment, record_input)
    except Exception as error:
        raise step_failed(context, progress.current, error) from error
    progress.finish(f"Serving adapter {snapshot.version} at {restart.endpoint}")
    changes = DeployChanges(
        code_copied=sync.copied, code_deleted=sync.deleted, adapter_files_copied=snapshot.files_copied
    )
    return DeployOutput(**record.model_dump(), changes=changes).model_dump(mode="json")
