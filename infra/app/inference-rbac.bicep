// Roles the function app's identity needs in the fine-tuning resource group, where it deploys
// infra/provision/inference.json and writes to the share. Narrow built-in roles, each scoped as tightly as
// the resource it is about allows, instead of Contributor on the group (which could also change or delete
// the fine-tuning job, its environment and the storage account):
//   - Container Apps Contributor: create and update the inference app, list and restart its revisions; it
//     also reads environments and may join them (create an app in one), but cannot change them.
//   - ContainerApp Reader: its Microsoft.Resources/deployments/* is what lets the identity run an ARM
//     deployment in the group (Container Apps Contributor has no deployments action); the rest is read-only.
//   - Storage File Data Privileged Contributor, on the share's storage account only: the function writes the
//     server code and adapter snapshots with OAuth (token_intent="backup"), never with the account key.
// With mayCreateResources, also what creating missing shared resources takes (resourcesToCreate):
//   - Container Apps ManagedEnvironments Contributor: a new environment and its storage link;
//   - Storage Account Contributor: a new storage account or share, and the account key for the link
//     (ACA mounts Azure Files with the key);
//   - Log Analytics Contributor: a new workspace, and its shared key for the environment's logs.
// These three could change the fine-tuning resources too, so they are off by default: in the fine-tuning
// group everything but the app already exists.
// The group itself (a container app does not exist before the first provision) is the scope of the rest.

param functionPrincipalId string

@description('Storage account holding the share; empty for the fine-tuning template\'s default name in this group.')
param storageAccountName string

@description('File share the deploys write to; empty for the fine-tuning template\'s default name in this group.')
param fileShareName string = ''

param mayCreateResources bool

var containerAppsContributor = '358470bc-b998-42bd-ab17-a7e34c199c0f' // Container Apps Contributor
var containerAppReader = 'ad2dd5fb-cd4b-4fd4-a9b6-4fed3630980b' // ContainerApp Reader
var storageFileDataPrivilegedContributor = '69566ab7-960f-475b-8e7c-b3118f30c6bd' // Storage File Data Privileged Contributor
var managedEnvironmentsContributor = '57cc5028-e6a7-4284-868d-0611c5923f8d' // Container Apps ManagedEnvironments Contributor
var storageAccountContributor = '17d1049b-9a84-46fb-8f53-869881c3d3ab' // Storage Account Contributor
var logAnalyticsContributor = '92aaf0da-9dab-42b6-94a3-d43ce8d16293' // Log Analytics Contributor

// The same default as inference.bicep's storageAccountName, computed in the same resource group.
var shareStorageAccountName = empty(storageAccountName) ? 'aistorage${substring(uniqueString(resourceGroup().id), 0, 5)}' : storageAccountName
// Likewise inference.bicep's fileShareName default.
var shareName = empty(fileShareName) ? 'aifileshare${substring(uniqueString(resourceGroup().id), 0, 5)}' : fileShareName

resource shareStorage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: shareStorageAccountName
}

resource appsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, functionPrincipalId, containerAppsContributor)
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', containerAppsContributor)
  }
}

resource deploymentsViaAppReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, functionPrincipalId, containerAppReader)
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', containerAppReader)
  }
}

resource shareWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(shareStorage.id, functionPrincipalId, storageFileDataPrivilegedContributor)
  scope: shareStorage
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageFileDataPrivilegedContributor)
  }
}

resource environmentsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (mayCreateResources) {
  name: guid(resourceGroup().id, functionPrincipalId, managedEnvironmentsContributor)
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', managedEnvironmentsContributor)
  }
}

resource storageContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (mayCreateResources) {
  name: guid(resourceGroup().id, functionPrincipalId, storageAccountContributor)
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageAccountContributor)
  }
}

resource workspaceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (mayCreateResources) {
  name: guid(resourceGroup().id, functionPrincipalId, logAnalyticsContributor)
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsContributor)
  }
}

output storageAccountName string = shareStorage.name
output fileShareName string = shareName
