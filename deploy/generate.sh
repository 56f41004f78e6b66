#!/usr/bin/env bash
# Writes deploy/'s generated files from the AppHost's model: publishes the Aspire manifest, then turns it into
# Kubernetes objects (tools/Kubernetes). Run it after changing Gateway.AppHost; AppHost.Tests fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dotnet build Gateway.AppHost -nologo -v quiet -clp:ErrorsOnly
dotnet build tools/Kubernetes -nologo -v quiet -clp:ErrorsOnly
dotnet run --no-build --project Gateway.AppHost -- --publisher manifest --output-path "$work/aspire-manifest.json" >/dev/null
dotnet run --no-build --project tools/Kubernetes -- "$work/aspire-manifest.json" deploy
