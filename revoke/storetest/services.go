package storetest

import (
	"context"
	"database/sql"
	"net"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/internal/skipnote"
)

// RedisAddr is the test Redis: $JWTGATE_REDIS_ADDR, or 127.0.0.1:6379.
func RedisAddr() string {
	if a := os.Getenv("JWTGATE_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// PostgresDSN is the test PostgreSQL database: $JWTGATE_POSTGRES_DSN, or
// database test of user postgres on 127.0.0.1:5432.
func PostgresDSN() string {
	if d := os.Getenv("JWTGATE_POSTGRES_DSN"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Unreachable ends a test that needs a service it cannot reach: it fails
// when JWTGATE_REQUIRE_SERVICES=1 (as in CI), and skips with a clear
// message otherwise (a laptop without the service), which go test's
// default output shows too (package skipnote).
func Unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("JWTGATE_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s unreachable (JWTGATE_REQUIRE_SERVICES=1): %v", what, err)
	}
	skipnote.Skipf(t, "%s unreachable, skipping (set JWTGATE_REQUIRE_SERVICES=1 to fail instead): %v", what, err)
}

// Redis returns a client, closed when the test ends, that has answered a
// PING, or ends the test with Unreachable. opt.InitAddress defaults to
// RedisAddr, and the dial timeout to 3 s.
func Redis(t testing.TB, opt rueidis.ClientOption) rueidis.Client {
	t.Helper()
	if len(opt.InitAddress) == 0 {
		opt.InitAddress = []string{RedisAddr()}
	}
	if opt.Dialer.Timeout == 0 {
		opt.Dialer = net.Dialer{Timeout: 3 * time.Second}
	}
	c, err := rueidis.NewClient(opt)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = c.Do(ctx, c.B().Ping().Build()).Error()
		cancel()
		if err != nil {
			c.Close()
		}
	}
	if err != nil {
		Unreachable(t, "Redis at "+opt.InitAddress[0], err)
	}
	t.Cleanup(c.Close)
	return c
}

// Postgres returns a pool on dsn, closed when the test ends, that has
// answered a ping, or ends the test with Unreachable.
func Postgres(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		Unreachable(t, "PostgreSQL", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
