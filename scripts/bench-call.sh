#!/usr/bin/env bash
# bench-call.sh: the call-path benchmarks of example/internal/bench, each
# variant in a process of its own, alternating their order round after
# round, so that neither the order nor what an earlier benchmark left behind
# (dubbo-go never closes the connections of the services it creates)
# favours one of them.
#
#   scripts/bench-call.sh            # 6 rounds
#   ROUNDS=10 scripts/bench-call.sh
#
# It prints the results through benchstat: the one in PATH, else
# golang.org/x/perf/cmd/benchstat@latest from the module proxy, else raw.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

go -C example test -c -o "$tmp/bench.test" ./internal/bench
cd example/internal/bench

stub='^BenchmarkCall$/.*/.*/via=stub$'
bare='^BenchmarkCall$/.*/.*/via=bare$'
layer='^BenchmarkNewService$/new=LayerService$'
plain='^BenchmarkNewService$/new=PlainService$'
dial='^BenchmarkNewService$/new=bare$'
# call PATTERN..., new PATTERN...: bench, at the default -cpu, into
# call.txt and new.txt.
call() { bench "$tmp/call.txt" "$tmp/bench.test" "" "$@"; }
new() { bench "$tmp/new.txt" "$tmp/bench.test" "" "$@"; }
for i in $(seq "$ROUNDS"); do
  case $((i % 3)) in
  1) call "$stub" "$bare"; new "$layer" "$plain" "$dial" ;;
  2) call "$bare" "$stub"; new "$plain" "$dial" "$layer" ;;
  0) call "$stub" "$bare"; new "$dial" "$layer" "$plain" ;;
  esac
done

header
cd "$tmp"
mv new.txt NewService
if ! "${benchstat[@]}" -col /via call.txt || ! "${benchstat[@]}" NewService; then
  cat call.txt NewService
fi
