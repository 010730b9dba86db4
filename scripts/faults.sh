#!/usr/bin/env bash
# faults.sh: runs the registry fault test of a ZooKeeper restart N times
# (example/internal/registry, TestFailoverUnderFaults/ZooKeeper_restarted)
# and prints one row per run and registration: the calls made while
# ZooKeeper was down, the calls that failed, the calls that waited (for a
# provider, or a backoff) and the longest of them, and whether the consumer
# found the provider started after the restart.
#
#   scripts/faults.sh          # 10 runs
#   RUNS=20 scripts/faults.sh
#
# Needs ZooKeeper from Debian's zookeeperd (apt-get install -y zookeeperd),
# which the test starts itself on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(go env GOOS)/$(go env GOARCH), $(go version | cut -d' ' -f3)"
echo "command: RUNS=$RUNS scripts/faults.sh"
status=0
CI=true go -C example test -run 'TestFailoverUnderFaults/ZooKeeper_restarted' -count "$RUNS" -v -timeout 60m \
  ./internal/registry >"$log" 2>&1 || status=$?

awk '
  BEGIN { printf "run  %-9s %-5s %9s %6s %6s %8s  %s\n", "registry", "test", "in outage", "failed", "waited", "longest", "provider D, started after the restart" }
  /=== RUN.*ZooKeeper_restarted\/(interface|default)$/ { cur = $3; sub(/.*\//, "", cur) }
  /calls started while ZooKeeper was down/ {
    during[cur] = $2
    for (i = 1; i <= NF; i++) if ($i == "calls" && $(i+1) == "failed") failed[cur] = $(i-1)
  }
  /calls that took over/ { waited[cur] = $(NF-3); sub(/,/, "", waited[cur]); longest[cur] = $NF }
  /answered its first call/ { found[cur] = "found" }
  /did not learn of it/ { found[cur] = "never found" }
  /--- (PASS|FAIL): TestFailoverUnderFaults\/ZooKeeper_restarted\/(interface|default)/ {
    reg = $3; sub(/.*\//, "", reg); result[reg] = $2 == "PASS:" ? "pass" : "FAIL"
    if (reg == "default") {
      run++
      split("interface default", regs, " ")
      for (k = 1; k <= 2; k++) {
        r = regs[k]
        printf "%3d  %-9s %-5s %9s %6s %6s %8s  %s\n", run, r, result[r], during[r], failed[r], waited[r], longest[r], found[r]
      }
    }
  }
' "$log"
if [ "$status" != 0 ]; then
  echo "the test failed; its log:" >&2
  grep -E -- '--- FAIL|faults_test.go' "$log" | head -50 >&2
fi
exit "$status"
