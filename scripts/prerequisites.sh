#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks for Gateway (as root, or through sudo).
# Usage: scripts/prerequisites.sh [extra Debian packages…]
set -euo pipefail

packages=(postgresql redis-server rabbitmq-server "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]}…"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The web console's build (web/console, run by the edge's build), Chat.Tests' npm clients (tests/Chat.Tests/NpmClients) and the
# bench's Portkey run on node with npm (images here carry both).
if ! command -v npm >/dev/null; then
  echo "Installing nodejs and npm…"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if ! command -v dotnet >/dev/null; then
  echo "The .NET 10 SDK is missing: install it (https://dot.net/download) and run this again." >&2
  exit 1
fi
