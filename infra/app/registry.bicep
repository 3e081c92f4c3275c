// Container registry for the inference image. Basic tier (the cheapest; it still bills per day while idle).
// No admin user and no anonymous pull: the inference app pulls with its pull identity (AcrPull).

param location string
param tags object
param resourceToken string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: 'cr${resourceToken}'
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
