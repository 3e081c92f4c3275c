// Two user-assigned identities with different powers:
//   - the function app's: provisions and deploys inference apps (roles in rbac.bicep, inference-rbac.bicep);
//   - a pull-only one, attached to each inference container app so it can pull the image (AcrPull, nothing
//     else). The inference app serves the internet; it never carries the identity that can provision.

param location string
param tags object
param resourceToken string

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-func-${resourceToken}'
  location: location
  tags: tags
}

resource pullIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-pull-${resourceToken}'
  location: location
  tags: tags
}

output functionIdentityId string = functionIdentity.id
output functionPrincipalId string = functionIdentity.properties.principalId
output functionClientId string = functionIdentity.properties.clientId
output pullIdentityId string = pullIdentity.id
output pullIdentityName string = pullIdentity.name
output pullPrincipalId string = pullIdentity.properties.principalId
