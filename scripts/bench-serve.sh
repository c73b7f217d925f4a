#!/usr/bin/env bash
# Produces the token service's figures in docs/BENCHMARKS.md: the
# signature cache, the SQLite revocation cache and the loopback load test
# of jwtgate serve, on its default data directory and on PostgreSQL +
# Redis. Run it on an otherwise idle machine (about five minutes on two
# cores), with PostgreSQL and Redis on 127.0.0.1:
#   bash scripts/bench-serve.sh [COUNT]
# Raw outputs go to docs/bench/{sigcache,sqlite-cache,serve-sqlite,serve-pg-redis}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-6}
root=$PWD

go test -run '^$' -bench 'Verify/(RS256|ES256|EdDSA)$|VerifySignatureCache' -benchmem -count "$count" ./jwt/ \
  > docs/bench/sigcache.txt
go test -run '^$' -bench 'CheckTokenCached|Protected/(none|sqlite|sqlite-nocache)$' -benchmem -count "$count" ./revoke/sqlstore/sqlite/ \
  > docs/bench/sqlite-cache.txt

bin=$(mktemp -d)/jwtgate
go build -o "$bin" ./cmd/jwtgate
(cd interop && go run ./cmd/servetest -bin "$bin" -rounds 5 -duration 3s) > docs/bench/serve-sqlite.txt

# PostgreSQL + Redis: a schema and a key prefix of their own.
schema=servetest_$$
dsn=${JWTGATE_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
psql "$dsn" -qc "CREATE SCHEMA $schema"
trap 'psql "$dsn" -qc "DROP SCHEMA $schema CASCADE" || true' EXIT
(cd interop && go run ./cmd/servetest -bin "$bin" -rounds 5 -duration 3s \
  -serve-args "--database-url $dsn&search_path=$schema --redis ${JWTGATE_REDIS_ADDR:-127.0.0.1:6379} --redis-prefix $schema:") \
  > docs/bench/serve-pg-redis.txt
echo "wrote docs/bench/{sigcache,sqlite-cache,serve-sqlite,serve-pg-redis}.txt" >&2
