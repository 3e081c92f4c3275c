"""Deploy workflow: sync code, snapshot the adapter, choose a strategy, reach the new version, record.

Strategies (orchestrations.redeploy_paths): `swap` the adapter in the running server (only the adapter changed),
`blue_green` (a candidate beside the serving revision gets traffic only once ready and past the smoke gate), or
`restart` in place (first deploy, nothing serving, asked for, or no second replica to be had).
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from activities.choose_strategy import choose_strategy
from activities.record_deployment import record_deployment
from activities.snapshot_adapter import snapshot_adapter
from activities.sync_share import sync_share
from orchestrations.policies import call_step, step_failed
from orchestrations.progress import Progress
from orchestrations.redeploy_paths import PREPARE, reach_version
from payloads.redeploy_steps import StrategyChoice, StrategyInput
from payloads.steps import (
    DeployChanges,
    DeployJob,
    DeploymentRecord,
    DeployOutput,
    DeployRef,
    RecordInput,
    SnapshotInput,
    SnapshotResult,
    SyncResult,
)
from share_layout import paths

NAME = "deploy"

bp = df.Blueprint()


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def deploy(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Run the deploy steps in order; the output is the app's record (serving/apps/<app>/current.json) plus changes."""
    job = DeployJob.model_validate(context.get_input())
    progress = Progress(context, PREPARE, planned=False)  # the strategy chosen third decides the rest
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
        progress.start("choose_strategy", "Choosing how to reach the new version from what changed")
        strategy_input = StrategyInput(target=job.target, app_name=job.app_name, azure=job.azure,
                                       requested=job.strategy, base_model=job.base_model, code_hash=sync.code_hash,
                                       version=snapshot.version)
        choice = StrategyChoice.model_validate((yield call_step(context, choose_strategy, strategy_input)))
        progress.record("choose_strategy", strategy=choice.strategy, reason=choice.reason)
        landed = yield from reach_version(context, job, snapshot.version, choice, progress)
        record = DeploymentRecord(
            app_name=job.app_name, endpoint=landed.endpoint, revision=landed.revision,
            version=snapshot.version, base_model=job.base_model, adapter_hash=snapshot.adapter_hash,
            code_hash=sync.code_hash, deployed_at=context.current_utc_datetime, strategy=landed.strategy,
        )
        progress.start("record", f"Recording the deployment in {paths.current_record(job.app_name)}")
        record_input = RecordInput(target=job.target, app_name=job.app_name, azure=job.azure, record=record)
        yield call_step(context, record_deployment, record_input)
    except Exception as error:
        raise step_failed(context, progress.current, error) from error
    progress.finish(f"Serving adapter {snapshot.version} at {landed.endpoint} ({landed.strategy})")
    changes = DeployChanges(
        code_copied=sync.copied, code_deleted=sync.deleted, adapter_files_copied=snapshot.files_copied
    )
    return DeployOutput(**record.model_dump(), changes=changes).model_dump(mode="json")
