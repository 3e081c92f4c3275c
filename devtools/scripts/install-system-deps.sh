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

# Debian's chromium is a real package; Ubuntu's is a snap stub that cannot run in containers. Elsewhere,
# say what is missing and carry on: the browser test then fails, saying the browser is missing.
distro="$(. /etc/os-release 2>/dev/null && echo "${ID:-unknown}")"
if [ "$distro" != "debian" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system deps: missing ${missing[*]}; install chromium and its chromedriver by hand on ${distro}" >&2
  echo "system deps: (tests/inference_container/test_chat_page.py fails without them)" >&2
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "system deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
