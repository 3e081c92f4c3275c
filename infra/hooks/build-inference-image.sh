#!/bin/sh
# azd postprovision hook: build the inference image in the registry main.bicep created, with ACR Tasks
# (the build runs in Azure: no local Docker, and the multi-GB CUDA base image never crosses your uplink).
# INFERENCE_IMAGE and AZURE_CONTAINER_REGISTRY_NAME are outputs of main.bicep that azd exports to hooks.
# The tag is derived from the Dockerfile and requirements, so an existing tag means nothing to rebuild.
set -eu

: "${AZURE_CONTAINER_REGISTRY_NAME:?not set: run azd provision (it exports the outputs of infra/main.bicep)}"
: "${INFERENCE_IMAGE:?not set: run azd provision (it exports the outputs of infra/main.bicep)}"

repository_and_tag="${INFERENCE_IMAGE#*/}"

if az acr repository show --name "$AZURE_CONTAINER_REGISTRY_NAME" --image "$repository_and_tag" >/dev/null 2>&1; then
  echo "inference image $INFERENCE_IMAGE is already in the registry; nothing to build"
  exit 0
fi

echo "building $INFERENCE_IMAGE from inference_container/Dockerfile with ACR Tasks (takes a while: CUDA base image)"
az acr build \
  --registry "$AZURE_CONTAINER_REGISTRY_NAME" \
  --image "$repository_and_tag" \
  --file inference_container/Dockerfile \
  inference_container
