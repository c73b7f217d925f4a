// Package pgtest gives tests the test PostgreSQL database. A test that
// cannot reach it fails when JWTGATE_REQUIRE_SERVICES=1 (as in CI) and
// skips with the reason otherwise.
package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/services"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres"
)

// PostgresDSN is the test PostgreSQL database: $JWTGATE_POSTGRES_DSN, or
// database test of user postgres on 127.0.0.1:5432.
func PostgresDSN() string {
	if d := os.Getenv("JWTGATE_POSTGRES_DSN"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Postgres returns a pool on dsn, closed when the test ends, that has
// answered a ping, or ends the test as unreachable (failed when
// JWTGATE_REQUIRE_SERVICES=1, skipped otherwise).
func Postgres(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := postgres.Open(dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		services.Unreachable(t, "PostgreSQL", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
