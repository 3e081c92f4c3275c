# azd postprovision hook (Windows): the same as build-inference-image.sh.
# Builds the inference image with ACR Tasks unless the registry already has the tag main.bicep derived.
$ErrorActionPreference = 'Stop'

if (-not $env:AZURE_CONTAINER_REGISTRY_NAME -or -not $env:INFERENCE_IMAGE) {
  throw 'AZURE_CONTAINER_REGISTRY_NAME or INFERENCE_IMAGE not set: run azd provision (it exports the outputs of infra/main.bicep)'
}

$repositoryAndTag = $env:INFERENCE_IMAGE.Substring($env:INFERENCE_IMAGE.IndexOf('/') + 1)

az acr repository show --name $env:AZURE_CONTAINER_REGISTRY_NAME --image $repositoryAndTag *> $null
if ($LASTEXITCODE -eq 0) {
  Write-Host "inference image $($env:INFERENCE_IMAGE) is already in the registry; nothing to build"
  exit 0
}

Write-Host "building $($env:INFERENCE_IMAGE) from inference_container/Dockerfile with ACR Tasks"
az acr build --registry $env:AZURE_CONTAINER_REGISTRY_NAME --image $repositoryAndTag --file inference_container/Dockerfile inference_container
if ($LASTEXITCODE -ne 0) { throw "az acr build failed ($LASTEXITCODE)" }
