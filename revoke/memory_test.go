package revoke_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, now func() time.Time) revoke.Store {
			return revoke.NewMemory(revoke.MemoryOptions{Clock: now})
		},
	})
}

func TestMemoryFull(t *testing.T) {
	clock := storetest.NewClock()
	m := revoke.NewMemory(revoke.MemoryOptions{MaxEntries: 3, Clock: clock.Now})
	ctx := context.Background()
	now := clock.Now()
	for _, j := range []string{"a", "b"} {
		if err := m.Revoke(ctx, j, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Revoke(ctx, "c", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Full: the store refuses rather than forget a, b or c.
	if first, err := m.Use(ctx, "u", now.Add(time.Hour)); first || !errors.Is(err, revoke.ErrFull) {
		t.Errorf("Use on a full store = %v, %v; want false, ErrFull", first, err)
	}
	for name, err := range map[string]error{
		"Revoke":        m.Revoke(ctx, "d", now.Add(time.Hour)),
		"RevokeSubject": m.RevokeSubject(ctx, "s", now, now.Add(time.Hour)),
		"Rotate":        m.Rotate(ctx, "f", "f", "g", now.Add(time.Hour)),
	} {
		if !errors.Is(err, revoke.ErrFull) {
			t.Errorf("%s on a full store: err = %v, want ErrFull", name, err)
		}
	}
	for _, j := range []string{"a", "b", "c"} {
		if r, _ := m.Revoked(ctx, j); !r {
			t.Fatalf("%s forgotten", j)
		}
	}
	// Re-revoking a held jti needs no room.
	if err := m.Revoke(ctx, "a", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Once c expires, its room is reused.
	clock.Advance(time.Minute)
	if err := m.Revoke(ctx, "d", now.Add(time.Hour)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	// A used id needs room like any entry...
	if first, err := m.Use(ctx, "u", now.Add(2*time.Hour)); first || !errors.Is(err, revoke.ErrFull) {
		t.Errorf("Use on a full store = %v, %v; want false, ErrFull", first, err)
	}
	// ...takes the room of expired entries...
	clock.Advance(time.Hour)
	if first, err := m.Use(ctx, "u", now.Add(2*time.Hour)); !first || err != nil {
		t.Fatalf("Use after expiry = %v, %v; want true", first, err)
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (a, revoked until 2 h, and u; b and d swept)", m.Len())
	}
	// ...and gives it back once it expires.
	clock.Advance(2 * time.Hour)
	m.Sweep()
	if m.Len() != 0 {
		t.Fatalf("Len after Sweep = %d, want 0", m.Len())
	}
}
