package jwk

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// fakeClock is a settable clock for tests.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func mustGenerate(t testing.TB, alg jwt.Algorithm) *jwt.Key {
	t.Helper()
	k, err := Generate(alg, 0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signWith(t testing.TB, key *jwt.Key, alg jwt.Algorithm, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRingRotation(t *testing.T) {
	clk := newFakeClock()
	k1 := mustGenerate(t, jwt.ES256)
	ring, err := NewRing(RingOptions{Clock: clk.Now}, k1)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := KeyID(k1)
	if got := ring.SigningKey().ID(); got != want {
		t.Fatalf("signer kid %q, want the thumbprint %q", got, want)
	}
	v, err := jwt.NewVerifier(ring, jwt.VerifierOptions{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t1 := signWith(t, ring.SigningKey(), jwt.ES256, jwt.Claims{Subject: "a"})
	if _, err := v.Verify(ctx, t1); err != nil {
		t.Fatal(err)
	}

	k2 := mustGenerate(t, jwt.ES256).WithID("k2")
	if err := ring.Rotate(k2, clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ring.SigningKey().ID() != "k2" {
		t.Fatalf("signer is %q after rotation", ring.SigningKey().ID())
	}
	t2 := signWith(t, ring.SigningKey(), jwt.ES256, jwt.Claims{Subject: "b"})
	tok2, err := v.Verify(ctx, t2)
	if err != nil || tok2.Header.KeyID != "k2" {
		t.Fatalf("new token: %v (kid %v)", err, tok2)
	}
	if _, err := v.Verify(ctx, t1); err != nil {
		t.Fatalf("old token before retirement: %v", err)
	}
	if ids := ring.KeyIDs(); len(ids) != 2 || ids[0] != "k2" || ids[1] != want {
		t.Fatalf("KeyIDs %v", ids)
	}

	clk.Advance(time.Hour - time.Nanosecond)
	if _, err := v.Verify(ctx, t1); err != nil {
		t.Fatalf("old token just before retirement: %v", err)
	}
	clk.Advance(time.Nanosecond)
	if _, err := v.Verify(ctx, t1); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("old token after retirement: %v, want ErrKeyNotFound", err)
	}
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Fatal(err)
	}
	if ids := ring.KeyIDs(); len(ids) != 1 {
		t.Fatalf("KeyIDs after retirement %v", ids)
	}
}

func TestRingAddRemove(t *testing.T) {
	k1 := mustGenerate(t, jwt.EdDSA).WithID("a")
	ring, err := NewRing(RingOptions{}, k1)
	if err != nil {
		t.Fatal(err)
	}
	pub := mustGenerate(t, jwt.EdDSA).WithID("b").Public()
	if err := ring.Add(pub, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := ring.Add(mustGenerate(t, jwt.EdDSA).WithID("b"), time.Time{}); !errors.Is(err, ErrInvalidSet) {
		t.Fatalf("duplicate kid: %v", err)
	}
	if err := ring.Add(mustGenerate(t, jwt.HS256), time.Time{}); !errors.Is(err, ErrInvalidSet) {
		t.Fatalf("secret in an asymmetric ring: %v", err)
	}
	if err := ring.Remove("a"); !errors.Is(err, ErrKeyUse) {
		t.Fatalf("removing the signer: %v", err)
	}
	if err := ring.Remove("zz"); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("removing an unknown key: %v", err)
	}
	if err := ring.Rotate(pub, time.Time{}); !errors.Is(err, ErrKeyUse) {
		t.Fatalf("rotating to a public key: %v", err)
	}
	if err := ring.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if ids := ring.KeyIDs(); len(ids) != 1 || ids[0] != "a" {
		t.Fatalf("KeyIDs %v", ids)
	}
	if _, err := NewRing(RingOptions{}, pub); !errors.Is(err, ErrKeyUse) {
		t.Fatalf("NewRing with a public signer: %v", err)
	}
	// Promoting a pre-published key keeps one copy of it.
	next := mustGenerate(t, jwt.EdDSA).WithID("c")
	if err := ring.Add(next.Public(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(next, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if ids := ring.KeyIDs(); len(ids) != 2 || ids[0] != "c" || ids[1] != "a" {
		t.Fatalf("KeyIDs after promotion %v", ids)
	}
	if !ring.SigningKey().CanSign() {
		t.Fatal("promoted signer cannot sign")
	}
}

func TestRingLookupAllocs(t *testing.T) {
	clk := newFakeClock()
	ring, err := NewRing(RingOptions{Clock: clk.Now}, mustGenerate(t, jwt.ES256).WithID("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(mustGenerate(t, jwt.ES256).WithID("b"), clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "a"}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ring.LookupKeys(ctx, h); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("LookupKeys allocates %v times", n)
	}
}

// TestRingConcurrentRotation signs and verifies on many goroutines while
// another rotates: every token signed with the current signer verifies.
func TestRingConcurrentRotation(t *testing.T) {
	ring, err := NewRing(RingOptions{}, mustGenerate(t, jwt.HS256))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(ring, jwt.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]*jwt.Key, 20)
	for i := range keys {
		keys[i] = mustGenerate(t, jwt.HS256)
	}
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var verified atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok := signWith(t, ring.SigningKey(), jwt.HS256, jwt.Claims{Subject: "x"})
				if _, err := v.Verify(ctx, tok); err != nil {
					t.Error(err)
					return
				}
				verified.Add(1)
			}
		}()
	}
	for _, k := range keys {
		if err := ring.Rotate(k, time.Time{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if verified.Load() == 0 {
		t.Fatal("nothing verified")
	}
	if n := len(ring.KeyIDs()); n != len(keys)+1 {
		t.Fatalf("%d keys, want %d", n, len(keys)+1)
	}
}
