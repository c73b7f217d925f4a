#!/usr/bin/env bash
# The gRPC and Connect adapters against the unprotected chain, the Gate's
# own Required on net/http and the frameworks' usual JWT middleware
# (go-grpc-middleware v2's auth interceptor with golang-jwt v5; for
# Connect, a hand-written golang-jwt v5 interceptor). Each round runs both
# suites once, every implementation one after the other, so they all see
# the same machine load; COUNT rounds.
#   bash scripts/bench-rpc.sh [COUNT [BENCHTIME]]
# Raw outputs: docs/bench/grpc.txt and docs/bench/connect.txt.
# Summaries (benchstat from golang.org/x/perf/cmd/benchstat):
#   benchstat -row .name -col /impl docs/bench/grpc.txt
#   benchstat -row .name -col /impl docs/bench/connect.txt
# Ratios within each round:
#   go run scripts/rpcratio.go docs/bench/grpc.txt docs/bench/connect.txt
set -euo pipefail
count=${1:-6}
benchtime=${2:-300ms}
before=$(cut -d' ' -f1-3 /proc/loadavg)
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd adapters/grpc && go test -c -o "$tmp/grpc.test" .)
(cd adapters/connect && go test -c -o "$tmp/connect.test" .)
: > "$tmp/grpc.txt"
: > "$tmp/connect.txt"
for i in $(seq "$count"); do
  "$tmp/grpc.test" -test.run '^$' -test.bench '^Benchmark(Unary|Stream|Bufconn)$' -test.benchmem \
    -test.count 1 -test.benchtime "$benchtime" >> "$tmp/grpc.txt"
  "$tmp/connect.test" -test.run '^$' -test.bench '^Benchmark(Unary|Stream|H2C)$' -test.benchmem \
    -test.count 1 -test.benchtime "$benchtime" >> "$tmp/connect.txt"
done
mkdir -p docs/bench
cp "$tmp/grpc.txt" docs/bench/grpc.txt
cp "$tmp/connect.txt" docs/bench/connect.txt
echo "load average before: $before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
