#!/usr/bin/env bash
# hedge.sh: the hedging measurement of bench/README.md (bench/cmd/hedge),
# from any directory: three provider processes on 127.0.0.1, where any
# attempt takes 200 ms with probability 3%, and 2,000 calls of each method
# of hedge.v1.HedgeService (Plain, Fixed, Adaptive) from 4 goroutines, a
# client process per row. It prints the date, the machine, the command and
# the table (p50, p99, p99.9, attempts a call, ...) on standard output.
#
#   scripts/hedge.sh
#   scripts/hedge.sh -seed 2 -calls 5000    # flags of the command: -h
set -euo pipefail
cd "$(dirname "$0")/.."
exec go -C bench run ./cmd/hedge "$@"
