// Inference container app for a LoRA fine-tuned model, next to the AI Toolkit's fine-tuning resources.
//
// Compiled by hand into inference.json (committed; no Bicep compiler runs offline): change both together.
// tests/infra checks that they declare the same parameters, resources and outputs, that every literal
// property here is in the JSON, and that every ARM expression there parses.
//
// Reuse without harm. The AI Toolkit's fine-tuning template names its resources
// '<prefix><first 5 chars of uniqueString(resourceGroup().id)>'; the name parameters below default to the
// same names, so in the fine-tuning resource group they resolve to its storage account, share, Log Analytics
// workspace and Container Apps environment. Those are referenced as `existing` and never written, unless
// `resourcesToCreate` names them: a PUT of an existing environment would replace its workload profiles,
// and the fine-tuning job runs on the dedicated GPU profile that can only be set when an environment is
// created. Only the container app is (re)deployed every time. ARM cannot test whether a resource exists, so
// the caller decides: the Azure target (a later issue) GETs each named resource and lists the missing ones
// in `resourcesToCreate`; by hand, pass [] in the fine-tuning resource group and all five in a new one.
//
// Null names: inference.parameters.json carries the seed's `"value": null` entries for the names. How ARM
// treats an explicit null for a parameter with a default is not documented, so callers drop null-valued
// entries before sending `properties.parameters`; the defaults below then apply.
//
// Re-provisioning an existing app. Deploys PATCH what the app serves (MODEL_PATH, ADAPTER_PATH, the image) and
// a revision suffix; the Azure target passes them back (servingEnv, containerImage, revisionSuffix), so the app's
// revision template renders as the last deploy left it and Container Apps starts no revision. By hand, leave
// them empty: the app goes back to baseModelPath and adapterPath, in a new revision.

@description('Shell commands the container runs, joined with "; " into `/bin/bash -c` (as the AI Toolkit template does).')
param defaultCommands array

@description('Most GPU instances the app may use: the dedicated GPU profile\'s maximumCount (when this template creates the environment) and the app\'s maxReplicas.')
@minValue(1)
param maximumInstanceCount int

@description('Region of the resources this template creates.')
param location string = resourceGroup().location

@description('Suffix of the default names: the fine-tuning template\'s, so defaults resolve to its resources.')
param resourceSuffix string = substring(uniqueString(resourceGroup().id), 0, 5)

@description('Storage account holding the share (default: the fine-tuning one). A null entry in the parameters file is dropped before sending.')
param storageAccountName string = 'aistorage${resourceSuffix}'

@description('Azure Files share with the model, the adapter and the server code (default: the fine-tuning one).')
param fileShareName string = 'aifileshare${resourceSuffix}'

@description('Container Apps environment (default: the fine-tuning one).')
param acaEnvironmentName string = 'aienv${resourceSuffix}'

@description('The environment\'s storage link to the share (default: the fine-tuning one).')
param acaEnvironmentStorageName string = 'aienvstorage${resourceSuffix}'

@description('The inference container app: the only resource this template always writes.')
param acaAppName string = 'aiacaapp${resourceSuffix}'

@description('Log Analytics workspace of the environment (default: the fine-tuning one).')
param acaLogAnalyticsName string = 'ailog${resourceSuffix}'

@description('Resources to create because they are missing; all others must exist and are only referenced, never written.')
@allowed([
  'storageAccount'
  'fileShare'
  'logAnalytics'
  'environment'
  'environmentStorage'
])
param resourcesToCreate array = []

@description('GPU workload profile type: dedicated NC24-A100 (the fine-tuning template\'s, billed per node) or a serverless Consumption-GPU profile (scales to zero). In a reused environment, the type of the profile named gpuProfileName.')
@allowed([
  'NC24-A100'
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuProfileType string = 'NC24-A100'

@description('Name of the GPU workload profile the app runs on; the fine-tuning environment calls its NC24-A100 profile "GPU".')
param gpuProfileName string = 'GPU'

@description('Inference image with every dependency baked in (built from inference_container/Dockerfile), e.g. myregistry.azurecr.io/finetune-inference:<tag>.')
param containerImage string

@description('Registry the image is pulled from, e.g. myregistry.azurecr.io; empty for a public image.')
param registryServer string = ''

@description('Resource ID of the user-assigned identity that pulls the image (AcrPull on the registry); empty for a public image.')
param registryIdentityResourceId string = ''

@description('API key clients send as "Authorization: Bearer"; stored as a container-app secret, never in an output.')
@secure()
param apiKey string

@description('Key of the server\'s admin route (POST /admin/adapter, in-place adapter swaps), which deploys read with listSecrets; stored as a container-app secret, never in an output.')
@secure()
param adminKey string

@description('Base model directory inside the share.')
param baseModelPath string = 'model-cache/microsoft/Phi-3-mini-4k-instruct'

@description('Adapter directory inside the share (the training output until the first deploy snapshots one); empty for the base model alone.')
param adapterPath string = 'models/qlora/qlora/gpu_model/adapter'

@description('Requests one replica decodes together (the server\'s MAX_BATCH_SIZE); the HTTP scale rule adds a replica beyond this many concurrent requests.')
@minValue(1)
@maxValue(256)
param maxBatchSize int = 32

@description('Replicas kept running; 0 scales to zero when idle (the first request then waits for a cold start).')
@minValue(0)
param minReplicas int = 0

@description('Seconds without requests before scaling in (ACA\'s default is 300); a GPU cold start takes minutes.')
@minValue(0)
param cooldownPeriodSeconds int = 900

@description('Single: a new revision takes all traffic; Multiple: revisions share traffic (blue-green deploys).')
@allowed([
  'Single'
  'Multiple'
])
param activeRevisionsMode string = 'Single'

@description('Set by a re-provision of an existing app: the server\'s variables the template does not set itself (MODEL_PATH, ADAPTER_PATH, whatever deploys add), as the app has them, so provisioning again never undoes a deploy. Empty (a new app): MODEL_PATH and ADAPTER_PATH from baseModelPath and adapterPath.')
param servingEnv array = []

@description('Set by a re-provision of an existing app: its revision suffix, when nothing else in the revision changes, so that no new revision starts; empty: Container Apps names a new revision.')
param revisionSuffix string = ''

@description('The caller\'s fingerprint of what the revision is made from (this template and the parameters other than the image, the serving paths and the suffix), kept in the app\'s finetune-deploy-revision-inputs tag; empty: no tag.')
param revisionInputs string = ''

var defaultCommand = join(defaultCommands, '; ')

// The port the seed exposes; the server's PORT, the ingress target and every probe use it.
var port = 7860

// Where the share is mounted in the container (as in the seed; the server runs from /mount/inference).
var mountPath = '/mount'

var volumeName = '${fileShareName}volume'

// Per-replica CPU and memory of each GPU profile: a replica takes the whole GPU instance.
var gpuSizes = {
  'NC24-A100': {
    cpu: 24
    memory: '220Gi'
  }
  'Consumption-GPU-NC8as-T4': {
    cpu: 8
    memory: '56Gi'
  }
  'Consumption-GPU-NC24-A100': {
    cpu: 24
    memory: '220Gi'
  }
}

// Dedicated profiles take a node count; serverless ones take none.
var dedicatedGpuProfile = {
  workloadProfileType: gpuProfileType
  name: gpuProfileName
  minimumCount: 0
  maximumCount: maximumInstanceCount
}

var serverlessGpuProfile = {
  workloadProfileType: gpuProfileType
  name: gpuProfileName
}

var gpuProfile = gpuProfileType == 'NC24-A100' ? dedicatedGpuProfile : serverlessGpuProfile

var createStorageAccount = contains(resourcesToCreate, 'storageAccount')
var createFileShare = contains(resourcesToCreate, 'fileShare')
var createLogAnalytics = contains(resourcesToCreate, 'logAnalytics')
var createEnvironment = contains(resourcesToCreate, 'environment')

// A new environment has no storage link yet, so it gets one too.
var createEnvironmentStorage = createEnvironment || contains(resourcesToCreate, 'environmentStorage')

// The variables the template owns; what the server serves (modelEnv, adapterEnv) follows them.
var serverEnv = [
  {
    name: 'MERGED_CACHE_DIR'
    value: '${mountPath}/serving/merged'
  }
  {
    name: 'MAX_BATCH_SIZE'
    value: string(maxBatchSize)
  }
  {
    name: 'PORT'
    value: string(port)
  }
  {
    name: 'HOST'
    value: '0.0.0.0'
  }
  {
    name: 'API_KEY'
    secretRef: 'api-key'
  }
  {
    name: 'ADMIN_API_KEY'
    secretRef: 'admin-key'
  }
  {
    // The adapter version an in-place swap installed (the deploy's record of the app); the server serves it at
    // start when the record names its own revision, so a restart or scale-out keeps the swapped version.
    name: 'ADAPTER_POINTER'
    value: '${mountPath}/serving/apps/${acaAppName}/current.json'
  }
]

var modelEnv = [
  {
    name: 'MODEL_PATH'
    value: '${mountPath}/${baseModelPath}'
  }
]

var adapterEnv = empty(adapterPath) ? [] : [
  {
    name: 'ADAPTER_PATH'
    value: '${mountPath}/${adapterPath}'
  }
]

// A deploy rewrites MODEL_PATH and ADAPTER_PATH at the end of the list (targets/azure/revision_plan.py); a
// re-provision passes them back in servingEnv, so this renders the list the last deploy left.
var appEnv = concat(serverEnv, empty(servingEnv) ? concat(modelEnv, adapterEnv) : servingEnv)

// App-scope (a tag change starts no revision); a re-provision compares it with its own revisionInputs.
var revisionTags = empty(revisionInputs) ? {} : {
  'finetune-deploy-revision-inputs': revisionInputs
}

var noIdentity = {
  type: 'None'
}

// ---- Shared resources: referenced always, written only when listed in resourcesToCreate ----

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2024-01-01' existing = {
  parent: storageAccount
  name: 'default'
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: acaLogAnalyticsName
}

resource acaEnvironment 'Microsoft.App/managedEnvironments@2026-07-01' existing = {
  name: acaEnvironmentName
}

// Shared-key access stays enabled: ACA mounts Azure Files only with the account key (no managed-identity
// SMB mount yet). The function app itself never holds the key; it writes files with OAuth.
resource newStorageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' = if (createStorageAccount) {
  name: storageAccountName
  location: location
  sku: {
    name: 'Standard_LRS'
  }
  kind: 'StorageV2'
  properties: {
    largeFileSharesState: 'Enabled'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
  }
}

resource newFileService 'Microsoft.Storage/storageAccounts/fileServices@2024-01-01' = if (createStorageAccount) {
  parent: storageAccount
  name: 'default'
  properties: {
    shareDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
  dependsOn: [
    newStorageAccount
  ]
}

resource newFileShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2024-01-01' = if (createFileShare) {
  parent: fileService
  name: fileShareName
  properties: {
    shareQuota: 1024
  }
  dependsOn: [
    newFileService
  ]
}

resource newLogAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (createLogAnalytics) {
  name: acaLogAnalyticsName
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

// Keys are read only when a resource that needs them is created (`cond ? listKeys() : ''`: ARM's if()
// evaluates one branch), so reusing the fine-tuning resources needs no right to list their keys.
resource newAcaEnvironment 'Microsoft.App/managedEnvironments@2026-07-01' = if (createEnvironment) {
  name: acaEnvironmentName
  location: location
  properties: {
    zoneRedundant: false
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: createEnvironment ? logAnalytics.properties.customerId : ''
        sharedKey: createEnvironment ? logAnalytics.listKeys().primarySharedKey : ''
      }
    }
    peerAuthentication: {
      mtls: {
        enabled: false
      }
    }
    workloadProfiles: [
      {
        workloadProfileType: 'Consumption'
        name: 'Consumption'
      }
      gpuProfile
    ]
  }
  dependsOn: [
    newLogAnalytics
  ]
}

resource newEnvironmentStorage 'Microsoft.App/managedEnvironments/storages@2026-07-01' = if (createEnvironmentStorage) {
  parent: acaEnvironment
  name: acaEnvironmentStorageName
  properties: {
    azureFile: {
      accountName: storageAccountName
      accountKey: createEnvironmentStorage ? storageAccount.listKeys().keys[0].value : ''
      shareName: fileShareName
      accessMode: 'ReadWrite'
    }
  }
  dependsOn: [
    newAcaEnvironment
    newFileShare
  ]
}

// ---- The inference app: the one resource every deployment writes ----

resource acaApp 'Microsoft.App/containerApps@2026-07-01' = {
  name: acaAppName
  location: location
  tags: revisionTags
  // The pull identity has AcrPull and nothing else; the function app's own identity is never attached here.
  identity: empty(registryIdentityResourceId) ? noIdentity : {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${registryIdentityResourceId}': {}
    }
  }
  properties: {
    environmentId: acaEnvironment.id
    workloadProfileName: gpuProfileName
    configuration: {
      activeRevisionsMode: activeRevisionsMode
      maxInactiveRevisions: 100
      secrets: [
        {
          name: 'api-key'
          value: apiKey
        }
        {
          name: 'admin-key'
          value: adminKey
        }
      ]
      registries: empty(registryServer) ? [] : [
        {
          server: registryServer
          identity: registryIdentityResourceId
        }
      ]
      ingress: {
        external: true
        targetPort: port
        transport: 'auto'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
    }
    template: {
      // The same suffix and the same template: Container Apps starts no revision (a re-provision after a deploy).
      revisionSuffix: revisionSuffix
      // Lets in-flight generations finish when a revision stops (ACA's default is 30 s).
      terminationGracePeriodSeconds: 120
      containers: [
        {
          name: acaAppName
          image: containerImage
          // inference.parameters.json runs `cd /mount/inference && exec python -m inference_container`:
          // `exec` replaces bash with the server, so the server itself receives SIGTERM and drains.
          command: [
            '/bin/bash'
            '-c'
            defaultCommand
          ]
          env: appEnv
          resources: gpuSizes[gpuProfileType]
          // ACA limits: initialDelaySeconds 1-60, periodSeconds 1-240, failureThreshold 1-10,
          // successThreshold 1 for liveness and startup. Startup allows 60 + 90 x 10 = 960 s until /ready
          // answers 200: a 4k-context model (~7.6 GB in bf16) read from Azure Files, merged with its adapter
          // and written to the merged cache on a cache miss, then warmed, takes minutes on a T4.
          // Liveness and readiness start once the startup probe has passed.
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/ready'
                port: port
                scheme: 'HTTP'
              }
              initialDelaySeconds: 60
              periodSeconds: 90
              timeoutSeconds: 5
              successThreshold: 1
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/health'
                port: port
                scheme: 'HTTP'
              }
              periodSeconds: 10
              timeoutSeconds: 5
              successThreshold: 1
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/ready'
                port: port
                scheme: 'HTTP'
              }
              periodSeconds: 10
              timeoutSeconds: 5
              successThreshold: 1
              failureThreshold: 3
            }
          ]
          volumeMounts: [
            {
              volumeName: volumeName
              mountPath: mountPath
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maximumInstanceCount
        cooldownPeriod: cooldownPeriodSeconds
        rules: [
          {
            // One replica decodes maxBatchSize requests together; beyond that, add a replica.
            name: 'http-batch'
            http: {
              metadata: {
                concurrentRequests: string(maxBatchSize)
              }
            }
          }
        ]
      }
      volumes: [
        {
          name: volumeName
          storageType: 'AzureFile'
          storageName: acaEnvironmentStorageName
        }
      ]
    }
  }
  dependsOn: [
    newAcaEnvironment
    newEnvironmentStorage
  ]
}

// The seed's outputs (the keys of infra/inference.config.json). No key or secret is ever output.
output SUBSCRIPTION_ID string = subscription().subscriptionId
output RESOURCE_GROUP_NAME string = resourceGroup().name
output STORAGE_ACCOUNT_NAME string = storageAccountName
output FILE_SHARE_NAME string = fileShareName
output ACA_APP_NAME string = acaAppName
output ACA_APP_ENDPOINT string = acaApp.properties.configuration.ingress.fqdn
