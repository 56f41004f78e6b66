#!/usr/bin/env bash
# Starts the whole system: Postgres, Redis, RabbitMQ, the five services and the edge.
# Options: --edge-url URL (default http://localhost:8080), --dashboard-url URL (default http://localhost:18888),
# --data DIR (default .gateway/), --replicas N (N instances of the edge and of each service; default 1).
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh
dotnet build Gateway.AppHost -c Release -nologo -v quiet -clp:ErrorsOnly
exec dotnet Gateway.AppHost/bin/Release/net10.0/Gateway.AppHost.dll "$@"
