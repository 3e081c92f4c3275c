// Hosting for the deployment service itself, provisioned by `azd up` (azd compiles this file; there is no
// committed ARM JSON for it). Laid out like the azd Durable Functions quickstart: this file wires modules in
// infra/app/, and main.parameters.json maps azd environment values onto its parameters.
//
// What it creates, in a new resource group rg-<environment>:
//   - a Flex Consumption function app (Python 3.11) running this repository's function_app.py;
//   - two user-assigned identities: the function app's, and a pull-only one the inference container app
//     uses to pull its image (the function app's identity, which may provision, is never attached to it);
//   - a storage account for the Functions host and the Durable task hub (no shared keys);
//   - Application Insights on a Log Analytics workspace;
//   - a container registry for the inference image (built by the postprovision hook, see azure.yaml);
//   - a Key Vault holding the webhook secret, read through a Key Vault reference;
//   - role assignments (infra/app/rbac.bicep here, infra/app/inference-rbac.bicep in the fine-tuning group).
//
// Durable backend: the Azure Storage provider. host.json configures no storageProvider, so Durable Functions
// keeps its task hub in AzureWebJobsStorage's queues and tables: no resource beyond the storage account the
// Functions host needs anyway, and the provider the local host and Azurite emulate. The Durable Task
// Scheduler is what Microsoft recommends today (more throughput, a dashboard); this service runs a few
// long, mostly waiting orchestrations, where that buys little. Switching means a Microsoft.DurableTask
// scheduler and task hub, the Durable Task Data Contributor role, two app settings, and host.json's
// storageProvider {type: "azureManaged"}; tests/infra fails if host.json and this infra disagree.

targetScope = 'subscription'

@description('azd environment name; names the resource group and seeds the resource names.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Region of the function app and its resources (one where Flex Consumption is offered).')
@minLength(1)
param location string

@description('Resource group of the fine-tuning resources (storage account, share, Container Apps environment) where inference apps are provisioned.')
@minLength(1)
param inferenceResourceGroupName string

@description('Storage account holding the share; empty for the fine-tuning template\'s default name in that group.')
param inferenceStorageAccountName string = ''

@description('Whether provisioning may create missing shared resources (environment, workspace, storage) in that group: grants the extra roles that needs.')
param inferenceMayCreateResources bool = false

@description('File share the deploys write to; empty for the fine-tuning template\'s default name in that group.')
param inferenceFileShareName string = ''

@description('Standard Webhooks secret (whsec_...) stored in Key Vault as webhook-secret; empty leaves the vault\'s current value alone.')
@secure()
param webhookSecret string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// The image tag follows what the image contains (its Dockerfile and pinned requirements), so the
// postprovision hook builds only when one of them changed. The server's code is not part of the tag:
// it runs from the share, synced by each deploy.
var inferenceImageTag = uniqueString(loadTextContent('../inference_container/Dockerfile'), loadTextContent('../inference_container/requirements.txt'))

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identities 'app/identity.bicep' = {
  name: 'identities'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module registry 'app/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    webhookSecret: webhookSecret
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    functionPrincipalId: identities.outputs.functionPrincipalId
    pullPrincipalId: identities.outputs.pullPrincipalId
    pullIdentityName: identities.outputs.pullIdentityName
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: vault.outputs.name
    registryName: registry.outputs.name
  }
}

module inferenceRbac 'app/inference-rbac.bicep' = {
  name: 'inference-rbac-${resourceToken}'
  scope: resourceGroup(inferenceResourceGroupName)
  params: {
    functionPrincipalId: identities.outputs.functionPrincipalId
    storageAccountName: inferenceStorageAccountName
    fileShareName: inferenceFileShareName
    mayCreateResources: inferenceMayCreateResources
  }
}

module functionApp 'app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    identityId: identities.outputs.functionIdentityId
    identityClientId: identities.outputs.functionClientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: vault.outputs.name
    webhookSecretName: vault.outputs.webhookSecretName
    inferenceSettings: {
      // The names service_settings.py reads (the Azure target's settings).
      AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
      AZURE_RESOURCE_GROUP: inferenceResourceGroupName
      AZURE_STORAGE_ACCOUNT: inferenceRbac.outputs.storageAccountName
      AZURE_FILE_SHARE: inferenceRbac.outputs.fileShareName
      AZURE_INFERENCE_IMAGE: '${registry.outputs.loginServer}/finetune-inference:${inferenceImageTag}'
      AZURE_INFERENCE_REGISTRY_SERVER: registry.outputs.loginServer
      AZURE_INFERENCE_PULL_IDENTITY_ID: identities.outputs.pullIdentityId
    }
  }
  // The host starts with its identity-based storage connection, so its roles come first.
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output INFERENCE_IMAGE string = '${registry.outputs.loginServer}/finetune-inference:${inferenceImageTag}'
output INFERENCE_RESOURCE_GROUP string = inferenceResourceGroupName
