// Package redistest gives tests Redis: the shared test Redis (Redis,
// RedisAddr) and Redis processes of a test's own (StartRedis,
// StartCluster, StartSentinel) that it can freeze, kill and fail over.
//
// A test that cannot reach the Redis it needs fails when
// JWTGATE_REQUIRE_SERVICES=1 (as in CI) and skips with the reason
// otherwise.
package redistest

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/internal/services"
)

// RedisAddr is the test Redis: $JWTGATE_REDIS_ADDR, or 127.0.0.1:6379.
func RedisAddr() string {
	if a := os.Getenv("JWTGATE_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Redis returns a client, closed when the test ends, that has answered a
// PING, or ends the test as unreachable (failed when
// JWTGATE_REQUIRE_SERVICES=1, skipped otherwise). opt.InitAddress defaults
// to RedisAddr, and the dial timeout to 3 s.
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
		services.Unreachable(t, "Redis at "+opt.InitAddress[0], err)
	}
	t.Cleanup(c.Close)
	return c
}
