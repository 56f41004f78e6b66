#!/usr/bin/env bash
# Runs every test against real servers and ends with one line: "N passed, N failed[, N skipped]".
# Extra arguments go to `dotnet test` (e.g. --project tests/ServiceDefaults.Tests).
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh chromium
dotnet build Gateway.sln -nologo -v quiet -clp:ErrorsOnly

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# One test project after another; fails if any did.
lane() {
    local code=0
    for project in "$@"; do
        dotnet test --no-build --project "$project" || code=$?
    done
    return $code
}

set +e
if [ $# -gt 0 ]; then
    dotnet test --no-build "$@" 2>&1 | tee "$log/given"
    code=${PIPESTATUS[0]}
else
    # Two lanes, a project at a time in each: the projects that start the whole system through the AppHost (two
    # processes of everything with --replicas 2) in one, every other project in the other. Two cores do not start and
    # warm up two whole systems at once within the tests' limits; one beside a lighter project they do (docs/faults.md).
    # Two light projects follow them, so that both lanes take about as long (17-18 min each here).
    whole=(tests/AppHost.Tests tests/Faults.Tests tests/Hosting.Tests tests/Identity.Tests)
    rest=()
    for project in tests/*.Tests; do
        [[ " ${whole[*]} " == *" $project "* ]] || rest+=("$project")
    done
    lane "${whole[@]}" 2>&1 | tee "$log/whole" &
    first=$!
    lane "${rest[@]}" 2>&1 | tee "$log/rest" &
    second=$!
    wait $first; code=$?
    wait $second; [ $? -eq 0 ] || code=1
fi
set -e

# Each `dotnet test` prints its totals last: add them up. CI reads only our line.
# -a: a test's output may hold bytes that make grep take the log for binary and print nothing.
count() { cat "$log"/* | grep -aE "^\s*$1: [0-9]+" | grep -oE '[0-9]+' | awk '{ n += $1 } END { print n + 0 }'; }
# CI shows only the end of the output: repeat each failed test's name and the start of its message there.
cat "$log"/* | grep -aE -A8 "^\s*failed [A-Za-z]" | cut -c1-400 | head -120 || true
total=$(count total); failed=$(count failed); passed=$(count succeeded); skipped=$(count skipped)
# A crash, or "no test ran" (exit 8), is a failure even when no test reported one.
if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$code" -eq 0 ] && [ "$total" -gt 0 ]
