"""The Azure Files share layout (AI Toolkit compatible) and the content manifests used to sync it."""
