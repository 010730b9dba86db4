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
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go -C example test -c -o "$tmp/bench.test" ./internal/bench
cd example/internal/bench

# bench FILE PATTERN...: one process per pattern, in the order given.
bench() {
  local out=$1; shift
  for pattern in "$@"; do
    "$tmp/bench.test" -test.run '^$' -test.bench "$pattern" -test.benchmem | grep '^Benchmark' >>"$out"
  done
}

stub='^BenchmarkCall$/.*/.*/via=stub$'
bare='^BenchmarkCall$/.*/.*/via=bare$'
layer='^BenchmarkNewService$/new=LayerService$'
plain='^BenchmarkNewService$/new=PlainService$'
dial='^BenchmarkNewService$/new=bare$'
for i in $(seq "$ROUNDS"); do
  case $((i % 3)) in
  1) bench "$tmp/call.txt" "$stub" "$bare"; bench "$tmp/new.txt" "$layer" "$plain" "$dial" ;;
  2) bench "$tmp/call.txt" "$bare" "$stub"; bench "$tmp/new.txt" "$plain" "$dial" "$layer" ;;
  0) bench "$tmp/call.txt" "$stub" "$bare"; bench "$tmp/new.txt" "$dial" "$layer" "$plain" ;;
  esac
done

benchstat=(benchstat)
if ! command -v benchstat >/dev/null; then
  benchstat=(go run golang.org/x/perf/cmd/benchstat@latest)
fi
echo "$(go version | cut -d' ' -f3), $(nproc) CPUs, $ROUNDS rounds"
cd "$tmp"
mv new.txt NewService
if ! "${benchstat[@]}" -col /via call.txt || ! "${benchstat[@]}" NewService; then
  cat call.txt NewService
fi
