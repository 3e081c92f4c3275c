// Key Vault for the webhook secret (used by the training-complete webhook, a later issue). The function app
// reads it through a Key Vault reference app setting with its own identity (Key Vault Secrets User), so the
// secret is never an app setting value. Authorization is Azure RBAC only (no access policies).

param location string
param tags object
param resourceToken string

@description('The Standard Webhooks secret; empty leaves any existing secret as it is (set it later with az keyvault secret set).')
@secure()
param webhookSecret string

var webhookSecretName = 'webhook-secret'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(webhookSecret)) {
  parent: vault
  name: webhookSecretName
  properties: {
    value: webhookSecret
  }
}

output name string = vault.name
output webhookSecretName string = webhookSecretName
