package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// BenchmarkProtected compares a protected request without revocation and
// with Redis revocation checks of an already-seen token (client-side
// cache) and without the cache (one round trip per request).
func BenchmarkProtected(b *testing.B) {
	b.Run("none", func(b *testing.B) { storetest.BenchProtected(b, nil) })
	b.Run("redis-cached", func(b *testing.B) {
		c := needRedis(b)
		storetest.BenchProtected(b, newStore(b, c, uniquePrefix(b, c)))
	})
	b.Run("redis-nocache", func(b *testing.B) {
		c := needRedis(b)
		storetest.BenchProtected(b, newStoreOpt(b, rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}}, redisstore.Options{Prefix: uniquePrefix(b, c), CacheTTL: -1}))
	})
}

// BenchmarkCheck measures the store's answer alone: an already-seen token
// (from the client-side cache) and a first-seen one (a new jti every time:
// jti, subject and session fetched in one pipelined round trip).
func BenchmarkCheck(b *testing.B) {
	c := needRedis(b)
	s := newStore(b, c, uniquePrefix(b, c))
	ctx := context.Background()
	iat := time.Now()
	b.Run("seen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r, err := s.CheckToken(ctx, revoke.Query{JTI: "seen", Subject: "user", Family: "session", IssuedAt: iat}); err != nil || r {
				b.Fatal(r, err)
			}
		}
	})
	b.Run("first-seen", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if r, err := s.CheckToken(ctx, revoke.Query{JTI: "new-" + strconv.Itoa(i), Subject: "user", Family: "session", IssuedAt: iat}); err != nil || r {
				b.Fatal(r, err)
			}
		}
	})
}

// BenchmarkPing is one round trip to Redis, the yardstick for
// BenchmarkCheck/first-seen.
func BenchmarkPing(b *testing.B) {
	c := needRedis(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUse: OneTimeStore.Use in Redis, one SET NX PX round trip (a
// new id; a replayed one).
func BenchmarkUse(b *testing.B) {
	c := needRedis(b)
	storetest.BenchUse(b, newStore(b, c, uniquePrefix(b, c)))
}
