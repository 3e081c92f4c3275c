#!/usr/bin/env bash
# System packages for local development and tests (Debian/Ubuntu). Idempotent: installs only what is missing.
#   chromium, chromium-driver: headless browser for tests/inference_container/test_chat_page.py (selenium)
#   fonts-dejavu-core: a font so headless screenshots render text
set -euo pipefail

packages=(chromium chromium-driver fonts-dejavu-core)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system deps: all present (${packages[*]})"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
  exit 1
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "system deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
