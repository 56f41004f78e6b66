#!/usr/bin/env bash
# The chat benchmark: installs Portkey's gateway (pinned in portkey/package.json) into portkey/node_modules,
# then measures MockLlm direct, our edge (metered) and Portkey in one run.
# Usage: bench/Chat.Bench/run.sh [--seconds 10] [--clients 64,160] [--rates 100,300]
set -euo pipefail
cd "$(dirname "$0")"
(cd portkey && npm ci --no-audit --no-fund --loglevel=error)
cd ../..
dotnet run -c Release --project bench/Chat.Bench -- --portkey bench/Chat.Bench/portkey/node_modules/@portkey-ai/gateway/build/start-server.js "$@"
