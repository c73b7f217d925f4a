package revoke_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// BenchmarkMemoryCheck: the memory store's answer for a token, with 100,000
// revocations and 10,000 subject cutoffs held.
func BenchmarkMemoryCheck(b *testing.B) {
	m := revoke.NewMemory(revoke.MemoryOptions{})
	ctx := context.Background()
	now := time.Now()
	for i := range 100_000 {
		if err := m.Revoke(ctx, "jti-"+strconv.Itoa(i), now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		if err := m.RevokeSubject(ctx, "user-"+strconv.Itoa(i), now.Add(-time.Hour), now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	iat := now.Truncate(time.Second)
	b.Run("not-revoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r, _ := m.CheckToken(ctx, revoke.Query{JTI: "absent", Subject: "user-5", Family: "fam-7", IssuedAt: iat}); r {
				b.Fatal("revoked")
			}
		}
	})
	b.Run("revoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r, _ := m.CheckToken(ctx, revoke.Query{JTI: "jti-42", Subject: "user-5", Family: "fam-7", IssuedAt: iat}); !r {
				b.Fatal("not revoked")
			}
		}
	})
}

func BenchmarkProtected(b *testing.B) {
	b.Run("none", func(b *testing.B) { storetest.BenchProtected(b, nil) })
	b.Run("memory", func(b *testing.B) { storetest.BenchProtected(b, revoke.NewMemory(revoke.MemoryOptions{})) })
}

// BenchmarkMemoryUse: OneTimeStore.Use of the memory store (a new id; a
// replayed one).
func BenchmarkMemoryUse(b *testing.B) {
	storetest.BenchUse(b, revoke.NewMemory(revoke.MemoryOptions{MaxEntries: -1}))
}
