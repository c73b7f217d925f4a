#!/usr/bin/env bash
# Produces every figure in docs/BENCHMARKS.md. Run it on an otherwise idle
# machine; it takes about a quarter of an hour on two cores.
#   bash scripts/bench-all.sh [COUNT]
# Raw outputs go to docs/bench/*.txt (custom claims, parallel and garbage:
# scripts/bench-claims.sh); summarise them with benchstat (the
# exact benchstat commands are in docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-6}
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Interleave whole suites COUNT times so every implementation sees the same
# machine load.
interleave() { # name pkgdir out benchregex
  local bin=$tmp/$1.test
  (cd "$2" && go test -c -o "$bin" .)
  : > "$3"
  for i in $(seq "$count"); do
    (cd "$2" && "$bin" -test.run '^$' -test.bench "$4" -test.benchmem -test.count 1 -test.benchtime 500ms) >> "$3"
  done
}

interleave jose interop/bench "$root/docs/bench/jose.txt" .
interleave gate . "$root/docs/bench/gate.txt" 'Required'
interleave middleware interop/middleware "$root/docs/bench/middleware.txt" .
(cd interop && go run ./cmd/loadtest -rounds 5 -duration 3s) > docs/bench/loadtest.txt
bash scripts/bench-claims.sh "$count"
