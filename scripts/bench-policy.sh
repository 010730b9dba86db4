#!/usr/bin/env bash
# bench-policy.sh: what a retry policy (the dubboretry runtime) costs a
# call, each variant in a process of its own, alternating their order round
# after round:
#
#   - BenchmarkPolicyCall: a successful call of Declared on the loopback Echo
#     server, of LayerService, without a policy (dubbo-go's failover cluster),
#     and of FullPolicyService, whose .proto declares retry_on, backoff and a
#     budget (the dubboretry cluster);
#   - BenchmarkPolicyCallPaired: the same two calls alternated call by call in
#     one loop, from 1 goroutine and from 32 sharing the budget, at -cpu
#     1,2,4: the median ratio of the two times of a pair (%proto-vs-none)
#     cancels most of what the host's other work does to the time of a call;
#   - BenchmarkPolicyCallParallel: the same from 32 goroutines sharing the
#     service and its budget, at -cpu 1,2,4;
#   - dubboretry's BenchmarkBudget (the budget alone, 32 goroutines) and
#     BenchmarkClusterInvoke (failover's cluster and dubboretry's over
#     providers that answer at once), at -cpu 1,2,4.
#
#   scripts/bench-policy.sh            # 6 rounds
#   ROUNDS=10 scripts/bench-policy.sh
#
# It prints the results through benchstat: the one in PATH, else
# golang.org/x/perf/cmd/benchstat@latest from the module proxy, else raw.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

go -C example test -c -o "$tmp/bench.test" ./internal/bench
go -C dubboretry test -c -o "$tmp/dubboretry.test" .

none='^BenchmarkPolicyCall$/^policy=none$'
proto='^BenchmarkPolicyCall$/^policy=proto$'
pnone='^BenchmarkPolicyCallParallel$/^policy=none$'
pproto='^BenchmarkPolicyCallParallel$/^policy=proto$'
cpus=$(nproc)
for i in $(seq "$ROUNDS"); do
  if ((i % 2)); then
    order=("$none" "$proto") porder=("$pnone" "$pproto")
  else
    order=("$proto" "$none") porder=("$pproto" "$pnone")
  fi
  (cd example/internal/bench && bench "$tmp/call.txt" "$tmp/bench.test" "$cpus" "${order[@]}")
  (cd example/internal/bench && bench "$tmp/paired.txt" "$tmp/bench.test" 1,2,4 '^BenchmarkPolicyCallPaired$')
  (cd example/internal/bench && bench "$tmp/parallel.txt" "$tmp/bench.test" 1,2,4 "${porder[@]}")
  (cd dubboretry && bench "$tmp/runtime.txt" "$tmp/dubboretry.test" 1,2,4 '^BenchmarkBudget$' '^BenchmarkClusterInvoke$')
done

header
cd "$tmp"
if ! "${benchstat[@]}" -col /policy call.txt ||
  ! "${benchstat[@]}" paired.txt ||
  ! "${benchstat[@]}" -col /policy parallel.txt ||
  ! "${benchstat[@]}" -filter '.name:ClusterInvoke' -col /cluster runtime.txt ||
  ! "${benchstat[@]}" -filter '.name:Budget' runtime.txt; then
  cat call.txt paired.txt parallel.txt runtime.txt
fi
