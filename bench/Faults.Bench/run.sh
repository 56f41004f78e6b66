#!/usr/bin/env bash
# The long fault run: at least 10,000 metered requests through the real system (the AppHost, as processes) while
# Billing, Chat and RabbitMQ are each killed twice and Billing is stalled twice, then the figures table.
# Usage: bench/Faults.Bench/run.sh [--users 20] [--rounds 2] [--requests 10000] [--token-ms 5] [--race 100:300]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/prerequisites.sh
dotnet build bench/Faults.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet bench/Faults.Bench/bin/Release/net10.0/Faults.Bench.dll "$@"
