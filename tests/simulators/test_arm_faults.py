"""Throttling, busy replies and dropped connections on the ARM endpoint: the SDK still deploys, nothing twice."""

from collections import Counter

from tests.simulators.arm.testing import deploy, resource_clients
from tests.simulators.faults import FaultPlan
from tests.simulators.simulated_azure import LOCATION, SUBSCRIPTION_ID, SimulatedArm

pytest_plugins = ["tests.simulators.azure_fixtures"]

GROUP = "rg-inference-faults"


def test_a_deployment_completes_through_20_percent_faults_and_creates_each_resource_once(
    simulated_arm: SimulatedArm,
) -> None:
    # seed 8: 27 faults in its first 100 draws, never more than 2 in a row (the SDK retries a dropped request 3 times)
    faults = FaultPlan(0.2, kinds=("throttle", "busy", "drop"), seed=8)
    simulated_arm.set_faults(faults)
    groups, deployments = resource_clients(simulated_arm.url, SUBSCRIPTION_ID)
    groups.resource_groups.create_or_update(GROUP, {"location": LOCATION})
    result = deploy(deployments, GROUP, "inference-faults")
    assert result.properties is not None and result.properties.provisioning_state == "Succeeded"
    operations = list(deployments.deployment_operations.list(GROUP, "inference-faults"))
    assert len(operations) == 7
    simulated_arm.set_faults(None)
    assert len(faults.injected) >= 2 and {"throttle", "busy", "drop"} & set(faults.injected)
    created = Counter(change.resource_id for change in simulated_arm.changes if change.action == "Create")
    assert len(created) == 7 and set(created.values()) == {1}
    assert [change.action for change in simulated_arm.changes].count("Update") == 0
    puts = [r for r in simulated_arm.log if r.method == "PUT" and r.status in (200, 201)]
    assert [r.operation for r in puts] == ["CreateOrUpdateResourceGroup", "CreateOrUpdateDeployment"]
