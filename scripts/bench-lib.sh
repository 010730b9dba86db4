# bench-lib.sh: what the round-robin benchmark scripts (bench-call.sh,
# bench-policy.sh) share; they source it. It moves to the repository's
# root, and gives them ROUNDS (6 unless set), a temporary directory $tmp
# removed on exit, bench, benchstat and header.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bench FILE BINARY CPUS PATTERN...: one process of the test binary BINARY
# per pattern, in the order given, from the current directory, with
# -test.cpu CPUS (none if CPUS is empty); its results are added to FILE.
bench() {
  local out=$1 bin=$2 cpus=$3
  shift 3
  local cpu=()
  if [ -n "$cpus" ]; then
    cpu=(-test.cpu "$cpus")
  fi
  for pattern in "$@"; do
    "$bin" -test.run '^$' -test.bench "$pattern" -test.benchmem ${cpu[@]+"${cpu[@]}"} | grep '^Benchmark' >>"$out"
  done
}

# benchstat: the one in PATH, else golang.org/x/perf/cmd/benchstat@latest
# from the module proxy.
benchstat=(benchstat)
if ! command -v benchstat >/dev/null; then
  benchstat=(go run golang.org/x/perf/cmd/benchstat@latest)
fi

# header prints what the results ran on.
header() {
  echo "$(go version | cut -d' ' -f3), $(nproc) CPUs, $ROUNDS rounds"
}
