#!/usr/bin/env bash
# The edge benchmark: installs wrk and nginx when missing, then prints figures and ratios.
# Usage: bench/Edge.Bench/run.sh [seconds per scenario, default 10] [revocations, default 200]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/prerequisites.sh wrk nginx
dotnet build gateway/Yarp -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet run --project bench/Edge.Bench -c Release -- "$@"
