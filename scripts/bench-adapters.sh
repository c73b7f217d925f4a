#!/usr/bin/env bash
# Produces the adapter figures in docs/BENCHMARKS.md: each framework
# adapter (gin, echo v4, echo v5, fiber v3) against the framework without a check,
# the Gate's own Required on net/http, and the framework's popular JWT
# middleware, in interleaved rounds.
#   bash scripts/bench-adapters.sh [COUNT]
# Raw outputs go to docs/bench/adapters-*.txt; summarise them with
#   benchstat -col /impl docs/bench/adapters-gin.txt
# (benchstat from golang.org/x/perf/cmd/benchstat).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-6}
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mods=(gin echo echov5 fiber)
for m in "${mods[@]}"; do
  (cd "adapters/$m" && go test -c -o "$tmp/$m.test" .)
  : > "$root/docs/bench/adapters-$m.txt"
done
# Interleave: every round runs each module's whole benchmark once, so all
# implementations see the same machine load.
for i in $(seq "$count"); do
  for m in "${mods[@]}"; do
    (cd "adapters/$m" && "$tmp/$m.test" -test.run '^$' -test.bench 'Protected|Overhead' -test.benchmem \
      -test.count 1 -test.benchtime 300ms) >> "$root/docs/bench/adapters-$m.txt"
  done
done
