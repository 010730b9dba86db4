#!/usr/bin/env bash
# bench-codegen.sh: protoc with protoc-gen-go-retry against protoc with
# protoc-gen-go, on the same corpus (package internal/corpus).
#
#   scripts/bench-codegen.sh              # 1x corpus: 20 files x 10 services x 20 methods
#   RUNS=9 SCALE=4 scripts/bench-codegen.sh
#   SHARED=1 scripts/bench-codegen.sh     # methods of a file share their messages
#
# It builds both plugins (protoc-gen-go at the version of
# google.golang.org/protobuf that go.mod requires), writes the corpus, then
# runs protoc RUNS times with each plugin, alternating which goes first, and
# once more per run with no plugin at all (protoc -o /dev/null: parsing
# only, the part both plugins' runs share). It prints the median wall time
# and CPU time (user+sys, protoc and plugin) of each, and the median of the
# per-run ratios retry/go.
#
# Needs protoc (apt-get install -y protobuf-compiler) with
# google/protobuf/descriptor.proto in PROTOC_INCLUDE (default /usr/include).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-7}
SCALE=${SCALE:-1}
SHARED=${SHARED:-0}
PROTOC=${PROTOC:-protoc}
PROTOC_INCLUDE=${PROTOC_INCLUDE:-/usr/include}

if ! command -v "$PROTOC" >/dev/null; then
  echo "bench-codegen: no $PROTOC in PATH (apt-get install -y protobuf-compiler)" >&2
  exit 1
fi
if [ ! -f "$PROTOC_INCLUDE/google/protobuf/descriptor.proto" ]; then
  echo "bench-codegen: no google/protobuf/descriptor.proto in PROTOC_INCLUDE=$PROTOC_INCLUDE" >&2
  exit 1
fi
if [ "$RUNS" -lt 1 ]; then
  echo "bench-codegen: RUNS must be at least 1" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"

go build -o "$tmp/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$tmp/bin/protoc-gen-go-retry" ./cmd/protoc-gen-go-retry
shared=()
if [ "$SHARED" = 1 ]; then shared=(-shared); fi
go run ./internal/corpus/cmd/corpus -out "$tmp/corpus" -scale "$SCALE" "${shared[@]}" >"$tmp/files"
mapfile -t files <"$tmp/files"

protoc_args=(-I "$tmp/corpus" -I options -I "$PROTOC_INCLUDE")

# run NAME ARGS...: runs protoc once with ARGS into a fresh output directory
# and appends "wall cpu" in seconds to $tmp/NAME.
run() {
  local name=$1; shift
  rm -rf "$tmp/out"; mkdir "$tmp/out"
  local TIMEFORMAT='%R %U %S'
  { time "$PROTOC" "${protoc_args[@]}" "$@" "${files[@]}" 2>"$tmp/stderr"; } 2>"$tmp/time" || {
    cat "$tmp/stderr" >&2
    exit 1
  }
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$tmp/time" >>"$tmp/$name"
}

retry() {
  run retry --plugin=protoc-gen-go-retry="$tmp/bin/protoc-gen-go-retry" \
    --go-retry_out="$tmp/out" --go-retry_opt=paths=source_relative
  ls "$tmp/out"/corpus/*/*.triple.go | wc -l >"$tmp/count.retry"
  du -sb "$tmp/out" | cut -f1 >"$tmp/bytes.retry"
}
gengo() {
  run go --plugin=protoc-gen-go="$tmp/bin/protoc-gen-go" \
    --go_out="$tmp/out" --go_opt=paths=source_relative
  ls "$tmp/out"/corpus/*/*.pb.go | wc -l >"$tmp/count.go"
  du -sb "$tmp/out" | cut -f1 >"$tmp/bytes.go"
}
parse() { run parse -o /dev/null; }

# A run of each that is not counted, to warm the file cache.
retry; gengo; parse
rm -f "$tmp/retry" "$tmp/go" "$tmp/parse"

for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then retry; gengo; else gengo; retry; fi
  parse
done

# median FILE COLUMN
median() {
  cut -d' ' -f"$2" "$1" | sort -n | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
paste -d' ' "$tmp/retry" "$tmp/go" | awk '{printf "%.3f %.3f\n", $1 / $3, $2 / $4}' >"$tmp/ratio"

methods=$(( ${#files[@]} * 10 * 20 ))
echo "corpus: ${#files[@]} files x 10 services x 20 unary methods = $methods methods (scale ${SCALE}x, shared messages: $SHARED)"
echo "$("$PROTOC" --version), $(go version | cut -d' ' -f3), $(nproc) CPUs, $RUNS runs each, alternating"
echo "retry: $(cat "$tmp/count.retry") .triple.go files, $(cat "$tmp/bytes.retry") bytes; go: $(cat "$tmp/count.go") .pb.go files, $(cat "$tmp/bytes.go") bytes"
echo
printf '%-34s %10s %10s\n' "" "wall s" "cpu s"
printf '%-34s %10s %10s\n' "protoc + protoc-gen-go-retry" "$(median "$tmp/retry" 1)" "$(median "$tmp/retry" 2)"
printf '%-34s %10s %10s\n' "protoc + protoc-gen-go" "$(median "$tmp/go" 1)" "$(median "$tmp/go" 2)"
printf '%-34s %10s %10s\n' "protoc alone (-o /dev/null)" "$(median "$tmp/parse" 1)" "$(median "$tmp/parse" 2)"
printf '%-34s %10s %10s\n' "median ratio retry/go" "$(median "$tmp/ratio" 1)" "$(median "$tmp/ratio" 2)"
echo
echo "runs (wall cpu): retry | go | protoc alone"
paste -d'|' "$tmp/retry" "$tmp/go" "$tmp/parse" | sed 's/|/ | /g'
