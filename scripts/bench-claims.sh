#!/usr/bin/env bash
# Custom claims, parallel scaling, garbage refusal and the middleware's
# cost, side by side: jwtgate, cristalhq/jwt, golang-jwt and the pooled
# pre-keyed HMAC floor (interop/bench), and Gate.Required against a bare
# jwt.Verifier (the root package). Each round runs both suites once, so
# every implementation sees the same machine load; COUNT rounds.
#   bash scripts/bench-claims.sh [COUNT]
# Raw outputs: docs/bench/claims.txt and docs/bench/required.txt.
# Summaries (benchstat from golang.org/x/perf/cmd/benchstat):
#   benchstat -filter .name:Claims -row /size -col /impl docs/bench/claims.txt
#   benchstat -filter .name:Parallel -row /impl -col /run docs/bench/claims.txt
#   benchstat -filter .name:Garbage -row /kind -col /impl docs/bench/claims.txt
#   benchstat -col /impl docs/bench/required.txt
set -euo pipefail
count=${1:-6}
before=$(cut -d' ' -f1-3 /proc/loadavg)
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd interop/bench && go test -c -o "$tmp/bench.test" .)
go test -c -o "$tmp/gate.test" .
: > "$tmp/claims.txt"
: > "$tmp/required.txt"
for i in $(seq "$count"); do
  (cd interop/bench && "$tmp/bench.test" -test.run '^$' -test.bench '^Benchmark(Claims|Parallel|Garbage)$' \
    -test.benchmem -test.count 1 -test.benchtime 300ms) >> "$tmp/claims.txt"
  "$tmp/gate.test" -test.run '^$' -test.bench '^BenchmarkRequired$' -test.benchmem -test.count 1 \
    -test.benchtime 300ms >> "$tmp/required.txt"
done
cp "$tmp/claims.txt" docs/bench/claims.txt
cp "$tmp/required.txt" docs/bench/required.txt
echo "load average before: $before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
