#!/usr/bin/env bash
# Runs every test against real servers and ends with one line: "N passed, N failed[, N skipped]".
# Extra arguments go to `dotnet test` (e.g. --project tests/ServiceDefaults.Tests).
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh chromium
dotnet build Gateway.sln -nologo -v quiet -clp:ErrorsOnly

log=$(mktemp)
set +e
if [ $# -gt 0 ]; then dotnet test --no-build "$@"; else dotnet test --solution Gateway.sln --no-build; fi 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
set -e

# The runner prints its totals last; CI reads only our line.
# -a: a test's output may hold bytes that make grep take the log for binary and print nothing.
count() { grep -aE "^\s*$1: [0-9]+" "$log" | tail -1 | grep -oE '[0-9]+' || echo 0; }
# CI shows only the end of the output: repeat each failed test's name and the start of its message there.
grep -aE -A8 "^\s*failed [A-Za-z]" "$log" | cut -c1-400 | head -120 || true
total=$(count total); failed=$(count failed); passed=$(count succeeded); skipped=$(count skipped)
rm -f "$log"
# A crash, or "no test ran" (exit 8), is a failure even when no test reported one.
if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$code" -eq 0 ] && [ "$total" -gt 0 ]
