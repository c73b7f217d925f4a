// Package services decides what a test does when a service it needs (Redis,
// PostgreSQL, redis-server on PATH) cannot be reached: it fails when
// JWTGATE_REQUIRE_SERVICES=1 (as in CI) and skips with a clear message
// otherwise (a laptop without the service), which go test's default output
// shows too (package skipnote).
package services

import (
	"os"
	"testing"

	"github.com/jwtgate/jwtgate/internal/skipnote"
)

// Required reports whether the services are required here:
// JWTGATE_REQUIRE_SERVICES=1.
func Required() bool { return os.Getenv("JWTGATE_REQUIRE_SERVICES") == "1" }

// Unreachable ends a test that needs a service it cannot reach: it fails
// when Required, and skips with the reason otherwise.
func Unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s unreachable (JWTGATE_REQUIRE_SERVICES=1): %v", what, err)
	}
	skipnote.Skipf(t, "%s unreachable, skipping (set JWTGATE_REQUIRE_SERVICES=1 to fail instead): %v", what, err)
}
