#!/usr/bin/env bash
# Runs the JOSE benchmarks of interop/bench (jwtgate, its peers and the
# standard-library floor) COUNT times, interleaving the whole suite so that
# every implementation sees the same machine load, and writes the raw
# output to OUT. Summarise with:
#   go run golang.org/x/perf/cmd/benchstat@latest -col /impl OUT
set -euo pipefail
count=${1:-6}
out=$(realpath -m "${2:-docs/bench/jose.txt}")
cd "$(dirname "$0")/../interop/bench"
bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" .
: > "$out.tmp"
for i in $(seq "$count"); do
  "$bin" -test.run '^$' -test.bench . -test.benchmem -test.count 1 >> "$out.tmp"
done
mv "$out.tmp" "$out"
