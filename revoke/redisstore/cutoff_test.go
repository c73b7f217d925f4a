package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// TestCutoffBefore1970: a subject cutoff before 1970 is written as
// negative Unix milliseconds and read back, by SubjectCutoff and by
// CheckToken, from Redis and then from the client-side cache.
func TestCutoffBefore1970(t *testing.T) {
	c := needRedis(t)
	// A long bound keeps the cache trusted however slow the machine.
	s := newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}}, redisstore.Options{Prefix: uniquePrefix(t, c), Bound: time.Hour})
	ctx := context.Background()
	for _, before := range []time.Time{
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Unix(0, 0),
		time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC),
	} {
		t.Run(before.Format(time.RFC3339Nano), func(t *testing.T) {
			sub := storetest.ID("sub")
			if err := s.RevokeSubject(ctx, sub, before, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			got, err := s.SubjectCutoff(ctx, sub)
			if err != nil || !got.Equal(before) {
				t.Fatalf("SubjectCutoff = %v, %v; want %v", got, err, before)
			}
			for _, tc := range []struct {
				iat  time.Time
				want bool
			}{
				{before.Add(-time.Second), true},
				{before, true},
				{before.Add(time.Millisecond), false},
				{time.Now(), false},
				{time.Time{}, true}, // no iat: any cutoff revokes
			} {
				q := revoke.Query{JTI: storetest.ID("jti"), Subject: sub, IssuedAt: tc.iat}
				r, err := s.CheckToken(ctx, q)
				if err != nil || r != tc.want {
					t.Fatalf("CheckToken(iat %v) = %v, %v; want %v", tc.iat, r, err, tc.want)
				}
				if r, ok := s.CheckCached(q); !ok || r != tc.want {
					t.Fatalf("CheckCached(iat %v) = %v, %v; want %v from the cache", tc.iat, r, ok, tc.want)
				}
			}
		})
	}
}
