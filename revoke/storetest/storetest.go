// Package storetest is the conformance suite for revoke.Store
// implementations. A store's tests call Run (stores keeping their own time,
// such as Redis with its TTLs) or RunConfig (stores that take a clock, and
// stores that persist, with a Reopen hook):
//
//	func TestConformance(t *testing.T) {
//		storetest.RunConfig(t, storetest.Config{
//			New:    func(t *testing.T, now func() time.Time) revoke.Store { ... },
//			Reopen: func(t *testing.T, s revoke.Store) revoke.Store { ... },
//		})
//	}
//
// RunInstances, RunFaults and RunComeback run two service instances (a
// Gate behind an httptest server each) over a store, and Proxy stands
// between a store and its server to freeze or cut the connection. The
// package imports only the standard library and the core packages, and
// reads no environment variable: a store's own tests decide where its
// server is and what to do when it is missing.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
)

// Config describes the store under test.
type Config struct {
	// New returns an empty store using now as its clock. Stores that keep
	// time themselves (ServerClock) ignore now.
	New func(t *testing.T, now func() time.Time) revoke.Store

	// ServerClock says the store measures expiry with its own clock (a
	// server's TTLs): expiry is then tested with real, short lifetimes and
	// a bounded polling loop instead of an injected clock.
	ServerClock bool

	// Reopen, if set, closes s and returns a new store over the same data,
	// as after a process restart; the persistence tests run only with it.
	// The clock given to New stays in use.
	Reopen func(t *testing.T, s revoke.Store) revoke.Store
}

// Run runs the suite on a store that keeps its own time and does not
// persist across Reopen.
func Run(t *testing.T, newStore func(t *testing.T) revoke.Store) {
	RunConfig(t, Config{
		New:         func(t *testing.T, _ func() time.Time) revoke.Store { return newStore(t) },
		ServerClock: true,
	})
}

// Clock is a settable clock for stores that take one.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to the real time, truncated to the
// millisecond (the precision of SQL and Redis stores).
func NewClock() *Clock { return &Clock{now: time.Now().Truncate(time.Millisecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	cfg   Config
	clock *Clock
	store revoke.Store
}

func (e *env) now() time.Time {
	if e.cfg.ServerClock {
		return time.Now()
	}
	return e.clock.Now()
}

func setup(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{cfg: cfg, clock: NewClock()}
	e.store = cfg.New(t, e.clock.Now)
	if e.store == nil {
		t.Fatal("storetest: New returned nil")
	}
	return e
}

// ID returns a random identifier, so that tests sharing a server (and
// repeated runs) never see each other's entries.
func ID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// mustAnswer fails the test unless a store's answer to call is (want, nil).
func mustAnswer(t *testing.T, call string, got bool, err error, want bool) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	if got != want {
		t.Fatalf("%s = %v, want %v", call, got, want)
	}
}

func mustRevoked(t *testing.T, s revoke.Store, jti string, want bool) {
	t.Helper()
	got, err := s.Revoked(ctx(t), jti)
	mustAnswer(t, fmt.Sprintf("Revoked(%q)", jti), got, err, want)
}

func mustFamily(t *testing.T, s revoke.Store, family string, want bool) {
	t.Helper()
	got, err := s.FamilyRevoked(ctx(t), family)
	mustAnswer(t, fmt.Sprintf("FamilyRevoked(%q)", family), got, err, want)
}

func mustCheck(t *testing.T, s revoke.Store, q revoke.Query, want bool) {
	t.Helper()
	got, err := revoke.CheckToken(ctx(t), s, q)
	mustAnswer(t, fmt.Sprintf("CheckToken(%+v)", q), got, err, want)
}

// RunConfig runs the suite.
func RunConfig(t *testing.T, cfg Config) {
	t.Run("RevokeAndCheck", func(t *testing.T) { testRevoke(t, cfg) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, cfg) })
	t.Run("Subject", func(t *testing.T) { testSubject(t, cfg) })
	t.Run("SubjectBefore1970", func(t *testing.T) { testSubjectBefore1970(t, cfg) })
	t.Run("FarFuture", func(t *testing.T) { testFarFuture(t, cfg) })
	t.Run("CheckToken", func(t *testing.T) { testCheckToken(t, cfg) })
	t.Run("Rotation", func(t *testing.T) { testRotation(t, cfg) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, cfg) })
	t.Run("ConcurrentRotation", func(t *testing.T) { testConcurrentRotation(t, cfg) })
	t.Run("Family", func(t *testing.T) { testFamily(t, cfg) })
	t.Run("FamilyExpiry", func(t *testing.T) { testFamilyExpiry(t, cfg) })
	t.Run("ConcurrentRevokeFamily", func(t *testing.T) { testConcurrentRevokeFamily(t, cfg) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, cfg) })
	t.Run("OneTime", func(t *testing.T) { testOneTime(t, cfg) })
	t.Run("OneTimeExpiry", func(t *testing.T) { testOneTimeExpiry(t, cfg) })
	t.Run("ConcurrentOneTime", func(t *testing.T) { testConcurrentOneTime(t, cfg) })
	if cfg.Reopen != nil {
		t.Run("Restart", func(t *testing.T) { testRestart(t, cfg) })
	}
}

func testRevoke(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	a, b := ID("jti"), ID("jti")
	mustRevoked(t, s, a, false)
	if err := s.Revoke(ctx(t), a, e.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustRevoked(t, s, a, true)
	mustRevoked(t, s, b, false)
	// Revoking again, with an earlier until, keeps the later one.
	if err := s.Revoke(ctx(t), a, e.now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mustRevoked(t, s, a, true)
	// An already expired token: nothing to keep, no error.
	if err := s.Revoke(ctx(t), b, e.now().Add(-time.Minute)); err != nil {
		t.Fatalf("Revoke of an expired token: %v", err)
	}
	mustRevoked(t, s, b, false)
}

func testExpiry(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	short, long, sub, fam := ID("short"), ID("long"), ID("sub"), ID("fam")
	if cfg.ServerClock {
		// Real TTLs: 1.5 s, then poll (bounded) until the store forgets.
		now := time.Now()
		if err := s.Revoke(ctx(t), short, now.Add(1500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx(t), long, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeSubject(ctx(t), sub, now, now.Add(1500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		mustRevoked(t, s, short, true)
		deadline := time.Now().Add(15 * time.Second)
		for {
			r, err := s.Revoked(ctx(t), short)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.SubjectCutoff(ctx(t), sub)
			if err != nil {
				t.Fatal(err)
			}
			if !r && c.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("entries still there 15 s after a 1.5 s expiry (revoked=%v cutoff=%v)", r, c)
			}
			time.Sleep(50 * time.Millisecond)
		}
		mustRevoked(t, s, long, true)
		return
	}
	now := e.now()
	if err := s.Revoke(ctx(t), short, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx(t), long, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSubject(ctx(t), sub, now, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx(t), fam, "r0", "r1", now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(9 * time.Second)
	mustRevoked(t, s, short, true)
	if c, _ := s.SubjectCutoff(ctx(t), sub); c.IsZero() {
		t.Fatal("subject cutoff forgotten before its until")
	}
	e.clock.Advance(time.Second)
	mustRevoked(t, s, short, false)
	mustRevoked(t, s, long, true)
	c, err := s.SubjectCutoff(ctx(t), sub)
	if err != nil || !c.IsZero() {
		t.Fatalf("SubjectCutoff after until = %v, %v; want zero, nil", c, err)
	}
	// An expired family is forgotten: its old token starts it anew.
	if err := s.Rotate(ctx(t), fam, "r0", "r2", e.now().Add(time.Hour)); err != nil {
		t.Fatalf("rotate in an expired family: %v", err)
	}
	if cl, ok := s.(interface{ Cleanup(context.Context) error }); ok {
		if err := cl.Cleanup(ctx(t)); err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
		mustRevoked(t, s, long, true)
		mustRevoked(t, s, short, false)
	}
}

func testSubject(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	sub := ID("sub")
	c, err := s.SubjectCutoff(ctx(t), sub)
	if err != nil || !c.IsZero() {
		t.Fatalf("SubjectCutoff of unknown subject = %v, %v", c, err)
	}
	cut := e.now().Truncate(time.Millisecond)
	if err := s.RevokeSubject(ctx(t), sub, cut, cut.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c, err = s.SubjectCutoff(ctx(t), sub)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Equal(cut) {
		t.Fatalf("cutoff = %v, want %v", c, cut)
	}
	// An earlier cutoff never replaces a later one.
	if err := s.RevokeSubject(ctx(t), sub, cut.Add(-time.Minute), cut.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c, _ = s.SubjectCutoff(ctx(t), sub); !c.Equal(cut) {
		t.Fatalf("cutoff went back to %v", c)
	}
	later := cut.Add(time.Second)
	if err := s.RevokeSubject(ctx(t), sub, later, cut.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c, _ = s.SubjectCutoff(ctx(t), sub); !c.Equal(later) {
		t.Fatalf("cutoff = %v, want %v", c, later)
	}
	if c, _ = s.SubjectCutoff(ctx(t), ID("other")); !c.IsZero() {
		t.Fatal("another subject has a cutoff")
	}
}

// testFarFuture: an until or a cutoff centuries ahead (a token without a
// near expiry, a clock far off) is kept, never dropped or wrapped around
// into the past.
func testFarFuture(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	for _, far := range []time.Time{
		time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), // past int64 nanoseconds
		time.Date(2500, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		jti, fam, sub := ID("jti"), ID("fam"), ID("sub")
		if err := s.Revoke(ctx(t), jti, far); err != nil {
			t.Fatalf("Revoke until %v: %v", far, err)
		}
		mustRevoked(t, s, jti, true)
		if err := s.RevokeFamily(ctx(t), fam, far); err != nil {
			t.Fatalf("RevokeFamily until %v: %v", far, err)
		}
		mustFamily(t, s, fam, true)
		if err := s.RevokeSubject(ctx(t), sub, far, far); err != nil {
			t.Fatalf("RevokeSubject at and until %v: %v", far, err)
		}
		if c, err := s.SubjectCutoff(ctx(t), sub); err != nil || !c.After(e.now()) {
			t.Fatalf("SubjectCutoff after a cutoff at %v = %v, %v; want a time after now", far, c, err)
		}
		mustCheck(t, s, revoke.Query{JTI: ID("jti"), Subject: sub, IssuedAt: e.now()}, true)
	}
}

// testSubjectBefore1970: a cutoff may be any instant, 1970 and earlier
// ones included (negative Unix times): it reads back as it was given and
// revokes the tokens issued up to its millisecond.
func testSubjectBefore1970(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	for _, before := range []time.Time{
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Unix(0, -int64(time.Millisecond)),
		time.Unix(0, 0),
		time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC),
	} {
		sub := ID("sub")
		if err := s.RevokeSubject(ctx(t), sub, before, e.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if c, err := s.SubjectCutoff(ctx(t), sub); err != nil || !c.Equal(before) {
			t.Fatalf("SubjectCutoff after a cutoff at %v = %v, %v", before, c, err)
		}
		for iat, want := range map[time.Time]bool{
			before.Add(-time.Second):     true,
			before:                       true,
			before.Add(time.Millisecond): false,
			e.now():                      false,
			{}:                           true, // no iat: any cutoff revokes
		} {
			mustCheck(t, s, revoke.Query{JTI: ID("jti"), Subject: sub, IssuedAt: iat}, want)
		}
		// A later cutoff replaces it, and it never replaces a later one.
		later := e.now().Truncate(time.Millisecond)
		if err := s.RevokeSubject(ctx(t), sub, later, e.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeSubject(ctx(t), sub, before, e.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if c, err := s.SubjectCutoff(ctx(t), sub); err != nil || !c.Equal(later) {
			t.Fatalf("SubjectCutoff after cutoffs at %v and %v = %v, %v; want the later", later, before, c, err)
		}
	}
}

func testCheckToken(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	sub, jti := ID("sub"), ID("jti")
	now := e.now().Truncate(time.Second)
	check := func(jti, sub string, iat time.Time, want bool) {
		t.Helper()
		mustCheck(t, s, revoke.Query{JTI: jti, Subject: sub, IssuedAt: iat}, want)
	}
	check(jti, sub, now, false)
	if err := s.Revoke(ctx(t), jti, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check(jti, sub, now, true)
	other := ID("jti")
	if err := s.RevokeSubject(ctx(t), sub, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check(other, sub, now.Add(-time.Second), true)         // issued before
	check(other, sub, now, true)                           // the cutoff's millisecond: fails closed
	check(other, sub, now.Add(999*time.Microsecond), true) // still that millisecond
	check(other, sub, now.Add(time.Millisecond), false)    // the next millisecond
	check(other, sub, now.Add(time.Second), false)         // issued after
	// A cutoff inside a millisecond covers all of that millisecond.
	sub2 := ID("sub")
	if err := s.RevokeSubject(ctx(t), sub2, now.Add(1500*time.Microsecond), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check(other, sub2, now.Add(time.Millisecond), true)
	check(other, sub2, now.Add(1999*time.Microsecond), true)
	check(other, sub2, now.Add(2*time.Millisecond), false)
	check(other, sub, time.Time{}, true) // no iat: any cutoff revokes
	check(other, ID("sub"), now.Add(-time.Hour), false)
	check(other, "", now, false)
}

func testRotation(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	fam := ID("fam")
	r0, r1, r2 := fam, ID("r1"), ID("r2")
	until := e.now().Add(time.Hour)
	if err := s.Rotate(ctx(t), fam, r0, r1, until); err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	if err := s.Rotate(ctx(t), fam, r1, r2, until); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	mustFamily(t, s, fam, false)
	mustCheck(t, s, revoke.Query{JTI: r2, Family: fam}, false)
	// r0 comes back: reuse. The family dies, and every token of it with it.
	err := s.Rotate(ctx(t), fam, r0, ID("r3"), until)
	if !errors.Is(err, revoke.ErrReused) {
		t.Fatalf("reusing r0: err = %v, want ErrReused", err)
	}
	mustFamily(t, s, fam, true)
	mustCheck(t, s, revoke.Query{JTI: r2, Family: fam}, true)
	mustCheck(t, s, revoke.Query{JTI: ID("access"), Subject: ID("sub"), Family: fam, IssuedAt: e.now()}, true)
	// Even the current token cannot rotate now.
	if err := s.Rotate(ctx(t), fam, r2, ID("r4"), until); !errors.Is(err, revoke.ErrReused) {
		t.Fatalf("rotating the current token of a revoked family: err = %v, want ErrReused", err)
	}
	// Other families are untouched.
	fam2 := ID("fam")
	if err := s.Rotate(ctx(t), fam2, fam2, ID("x"), until); err != nil {
		t.Fatalf("other family: %v", err)
	}
	mustFamily(t, s, fam2, false)
	mustCheck(t, s, revoke.Query{JTI: ID("access"), Family: fam2}, false)
}

func testConcurrent(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	const workers, each = 16, 20
	until := e.now().Add(time.Hour)
	sub := ID("sub")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				jti := fmt.Sprintf("%s-%d-%d", sub, w, i)
				if err := s.Revoke(context.Background(), jti, until); err != nil {
					errs <- err
					return
				}
				r, err := s.Revoked(context.Background(), jti)
				if err != nil || !r {
					errs <- fmt.Errorf("Revoked(%q) right after Revoke = %v, %v", jti, r, err)
					return
				}
				if _, err := revoke.CheckToken(context.Background(), s, revoke.Query{JTI: jti + "x", Subject: sub, IssuedAt: e.now()}); err != nil {
					errs <- err
					return
				}
				if i%5 == 0 {
					if err := s.RevokeSubject(context.Background(), sub, e.now(), until); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range workers {
		for i := range each {
			mustRevoked(t, s, fmt.Sprintf("%s-%d-%d", sub, w, i), true)
		}
	}
}

func testConcurrentRotation(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	until := e.now().Add(time.Hour)
	// Rounds of many holders of one refresh token rotating it at once,
	// released together: in each, exactly one wins.
	const rounds, n = 10, 12
	for round := range rounds {
		fam := ID("fam")
		if err := s.Rotate(ctx(t), fam, fam, "start", until); err != nil {
			t.Fatal(err)
		}
		var ok, reused atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := s.Rotate(context.Background(), fam, "start", fmt.Sprintf("next-%d", i), until)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, revoke.ErrReused):
					reused.Add(1)
				default:
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if ok.Load() != 1 || reused.Load() != n-1 {
			t.Fatalf("round %d: concurrent rotations: %d succeeded, %d reused; want 1 and %d", round, ok.Load(), reused.Load(), n-1)
		}
	}
}

func testErrors(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	until := e.now().Add(time.Hour)
	for name, err := range map[string]error{
		"Revoke empty jti":         s.Revoke(ctx(t), "", until),
		"Revoke zero until":        s.Revoke(ctx(t), ID("j"), time.Time{}),
		"RevokeSubject empty":      s.RevokeSubject(ctx(t), "", e.now(), until),
		"RevokeSubject zero until": s.RevokeSubject(ctx(t), ID("s"), e.now(), time.Time{}),
		"Rotate empty family":      s.Rotate(ctx(t), "", "a", "b", until),
		"Rotate empty old":         s.Rotate(ctx(t), ID("f"), "", "b", until),
		"Rotate same jti":          s.Rotate(ctx(t), ID("f"), "a", "a", until),
		"Rotate past until":        s.Rotate(ctx(t), ID("f"), "a", "b", e.now().Add(-time.Minute)),
		"RevokeFamily empty":       s.RevokeFamily(ctx(t), "", until),
		"RevokeFamily zero until":  s.RevokeFamily(ctx(t), ID("f"), time.Time{}),
	} {
		if !errors.Is(err, revoke.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	// A canceled context is an infrastructure failure for stores that do
	// I/O; the memory store may ignore it. Either way: no panic, and no
	// "revoked" answer with an error.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r, err := s.Revoked(cctx, ID("j")); r && err != nil {
		t.Errorf("Revoked with canceled context = %v, %v", r, err)
	}
}

func testRestart(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	now := e.now()
	jti, gone, sub, fam := ID("jti"), ID("gone"), ID("sub"), ID("fam")
	if err := s.Revoke(ctx(t), jti, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx(t), gone, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	cut := now.Truncate(time.Millisecond)
	if err := s.RevokeSubject(ctx(t), sub, cut, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx(t), fam, fam, "r1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	used := ID("used")
	if o, ok := s.(revoke.OneTimeStore); ok {
		first, err := o.Use(ctx(t), used, now.Add(time.Hour))
		mustAnswer(t, "Use before restart", first, err, true)
	}
	s = cfg.Reopen(t, s)
	mustRevoked(t, s, jti, true)
	if o, ok := s.(revoke.OneTimeStore); ok {
		first, err := o.Use(ctx(t), used, now.Add(time.Hour))
		mustAnswer(t, "Use after restart", first, err, false)
	}
	if c, err := s.SubjectCutoff(ctx(t), sub); err != nil || !c.Equal(cut) {
		t.Fatalf("cutoff after restart = %v, %v; want %v", c, err, cut)
	}
	if err := s.Rotate(ctx(t), fam, fam, "r2", now.Add(time.Hour)); !errors.Is(err, revoke.ErrReused) {
		t.Fatalf("reuse after restart: err = %v, want ErrReused", err)
	}
	mustFamily(t, s, fam, true)
	mustCheck(t, s, revoke.Query{JTI: "r1", Family: fam}, true)
	if !cfg.ServerClock {
		e.clock.Advance(3 * time.Second)
		mustRevoked(t, s, gone, false)
		mustRevoked(t, s, jti, true)
	}
}

// testFamily: RevokeFamily ends a session, known to the store or not.
func testFamily(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	now := e.now().Truncate(time.Second)
	until := now.Add(time.Hour)
	sub := ID("sub")
	access := func(fam string) revoke.Query {
		return revoke.Query{JTI: ID("access"), Subject: sub, Family: fam, IssuedAt: now}
	}

	// A session whose refresh token was never rotated: the store has not
	// seen its family.
	unseen := ID("fam")
	mustFamily(t, s, unseen, false)
	mustCheck(t, s, access(unseen), false)
	if err := s.RevokeFamily(ctx(t), unseen, until); err != nil {
		t.Fatalf("RevokeFamily of an unseen family: %v", err)
	}
	mustFamily(t, s, unseen, true)
	mustCheck(t, s, access(unseen), true)
	mustCheck(t, s, revoke.Query{JTI: unseen, Family: unseen}, true) // its first refresh token
	if err := s.Rotate(ctx(t), unseen, unseen, ID("r1"), until); !errors.Is(err, revoke.ErrReused) {
		t.Fatalf("Rotate after RevokeFamily: err = %v, want ErrReused", err)
	}
	mustFamily(t, s, unseen, true)
	// Revoking again, with an earlier until, changes nothing.
	if err := s.RevokeFamily(ctx(t), unseen, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mustFamily(t, s, unseen, true)

	// A family in use: its current token is refused, and cannot rotate.
	used := ID("fam")
	r1, r2 := ID("r1"), ID("r2")
	if err := s.Rotate(ctx(t), used, used, r1, until); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx(t), used, r1, r2, until); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s, revoke.Query{JTI: r2, Subject: sub, Family: used, IssuedAt: now}, false)
	if err := s.RevokeFamily(ctx(t), used, until); err != nil {
		t.Fatal(err)
	}
	mustFamily(t, s, used, true)
	mustCheck(t, s, revoke.Query{JTI: r2, Subject: sub, Family: used, IssuedAt: now}, true)
	mustCheck(t, s, access(used), true)
	if err := s.Rotate(ctx(t), used, r2, ID("r3"), until); !errors.Is(err, revoke.ErrReused) {
		t.Fatalf("rotating the current token of an ended session: err = %v, want ErrReused", err)
	}

	// Nothing else is touched: other sessions, tokens without one, the
	// jtis themselves.
	mustCheck(t, s, access(ID("fam")), false)
	mustCheck(t, s, access(""), false)
	mustRevoked(t, s, r2, false)
	other := ID("fam")
	if err := s.Rotate(ctx(t), other, other, ID("x"), until); err != nil {
		t.Fatalf("another family: %v", err)
	}
	// A revocation already past: nothing to keep, no error.
	past := ID("fam")
	if err := s.RevokeFamily(ctx(t), past, now.Add(-time.Minute)); err != nil {
		t.Fatalf("RevokeFamily with a past until: %v", err)
	}
	mustFamily(t, s, past, false)
}

// testFamilyExpiry: an ended session is forgotten after its until, and its
// id may then start a family anew.
func testFamilyExpiry(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	fam, long := ID("fam"), ID("fam")
	if cfg.ServerClock {
		now := time.Now()
		if err := s.RevokeFamily(ctx(t), fam, now.Add(1500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeFamily(ctx(t), long, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		mustFamily(t, s, fam, true)
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			r, err := s.FamilyRevoked(ctx(t), fam)
			if err != nil {
				t.Fatal(err)
			}
			if !r {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("family still revoked 15 s after a 1.5 s until")
			}
		}
		mustFamily(t, s, long, true)
		if err := s.Rotate(ctx(t), fam, fam, ID("r1"), time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("rotate in a family forgotten after its until: %v", err)
		}
		return
	}
	now := e.now()
	if err := s.RevokeFamily(ctx(t), fam, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx(t), long, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(9 * time.Second)
	mustFamily(t, s, fam, true)
	e.clock.Advance(time.Second)
	mustFamily(t, s, fam, false)
	mustFamily(t, s, long, true)
	if err := s.Rotate(ctx(t), fam, fam, ID("r1"), e.now().Add(time.Hour)); err != nil {
		t.Fatalf("rotate in a family forgotten after its until: %v", err)
	}
	mustFamily(t, s, fam, false)
	if cl, ok := s.(interface{ Cleanup(context.Context) error }); ok {
		if err := cl.Cleanup(ctx(t)); err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
		mustFamily(t, s, long, true)
	}
}

// testConcurrentRevokeFamily: a session ended while its refresh token is
// rotated. Whatever the order, once RevokeFamily has returned no rotation
// succeeds, and a rotation that succeeded before it is refused after.
func testConcurrentRevokeFamily(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	s := e.store
	until := e.now().Add(time.Hour)
	const rounds = 10
	for round := range rounds {
		fam := ID("fam")
		var wg sync.WaitGroup
		var current atomic.Value // the last jti that rotated successfully
		current.Store(fam)
		errs := make(chan error, 2)
		start := make(chan struct{})
		revoked := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			for i := range 50 {
				next := fmt.Sprintf("%s-%d", fam, i)
				ended := false // RevokeFamily returned before this rotation began
				select {
				case <-revoked:
					ended = true
				default:
				}
				err := s.Rotate(context.Background(), fam, current.Load().(string), next, until)
				if errors.Is(err, revoke.ErrReused) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				if ended {
					errs <- fmt.Errorf("round %d: rotation %d, begun after RevokeFamily returned, succeeded", round, i)
					return
				}
				current.Store(next)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			err := s.RevokeFamily(context.Background(), fam, until)
			close(revoked)
			if err != nil {
				errs <- err
			}
		}()
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		mustFamily(t, s, fam, true)
		cur := current.Load().(string)
		mustCheck(t, s, revoke.Query{JTI: cur, Family: fam}, true)
		if err := s.Rotate(ctx(t), fam, cur, ID("after"), until); !errors.Is(err, revoke.ErrReused) {
			t.Fatalf("round %d: rotating after the session ended: err = %v, want ErrReused", round, err)
		}
	}
}

// oneTime returns the store as a revoke.OneTimeStore, or skips the test
// when it is not one.
func oneTime(t *testing.T, s revoke.Store) revoke.OneTimeStore {
	t.Helper()
	o, ok := s.(revoke.OneTimeStore)
	if !ok {
		t.Skipf("%T does not implement revoke.OneTimeStore", s)
	}
	return o
}

func mustUse(t *testing.T, o revoke.OneTimeStore, id string, until time.Time, want bool) {
	t.Helper()
	first, err := o.Use(ctx(t), id, until)
	mustAnswer(t, fmt.Sprintf("Use(%q)", id), first, err, want)
}

// testOneTime: the first Use of an id is first, every later one is not,
// whatever its until; ids are independent of each other and of the
// revocations; bad arguments are errors and never first.
func testOneTime(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	o := oneTime(t, e.store)
	s := e.store
	until := e.now().Add(time.Hour)
	a, b := ID("id"), ID("id")
	mustUse(t, o, a, until, true)
	mustUse(t, o, a, until, false)
	mustUse(t, o, a, until.Add(time.Hour), false)
	mustUse(t, o, a, e.now().Add(time.Minute), false)
	mustUse(t, o, b, until, true)
	mustUse(t, o, b, until, false)
	// A namespace of its own: a used id is not a revoked jti, and a
	// revoked jti is not a used id.
	mustRevoked(t, s, a, false)
	c := ID("id")
	if err := s.Revoke(ctx(t), c, until); err != nil {
		t.Fatal(err)
	}
	mustUse(t, o, c, until, true)
	// Ids that differ only in case, or by a suffix, are other ids.
	mustUse(t, o, strings.ToUpper(a), until, true)
	mustUse(t, o, a+"x", until, true)
	mustUse(t, o, a[:len(a)-1], until, true)

	for name, arg := range map[string]struct {
		id    string
		until time.Time
	}{
		"empty id":   {"", until},
		"zero until": {ID("id"), time.Time{}},
		"past until": {ID("id"), e.now().Add(-time.Minute)},
	} {
		first, err := o.Use(ctx(t), arg.id, arg.until)
		if first || !errors.Is(err, revoke.ErrInvalidArgument) {
			t.Errorf("Use with %s = %v, %v; want false, ErrInvalidArgument", name, first, err)
		}
	}
	// A refused argument records nothing.
	d := ID("id")
	if _, err := o.Use(ctx(t), d, e.now().Add(-time.Minute)); err == nil {
		t.Fatal("Use with a past until: no error")
	}
	mustUse(t, o, d, until, true)
	// A canceled context: an error for stores that do I/O (the memory
	// store may answer), and never first with an error.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if first, err := o.Use(cctx, ID("id"), until); first && err != nil {
		t.Errorf("Use with canceled context = %v, %v", first, err)
	}
	if first, err := o.Use(cctx, a, until); first {
		t.Errorf("Use of a used id with canceled context = %v, %v; want false", first, err)
	}
}

// testOneTimeExpiry: an id is used until its until, and is first again
// after it.
func testOneTimeExpiry(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	o := oneTime(t, e.store)
	id, long := ID("id"), ID("id")
	if cfg.ServerClock {
		now := time.Now()
		mustUse(t, o, id, now.Add(1500*time.Millisecond), true)
		mustUse(t, o, long, now.Add(time.Hour), true)
		mustUse(t, o, id, time.Now().Add(time.Hour), false)
		// Bounded polling: the store forgets the id after its until.
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			first, err := o.Use(ctx(t), id, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if first {
				if time.Now().Before(now.Add(1500 * time.Millisecond)) {
					t.Fatal("id first again before its until")
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("id still used 15 s after a 1.5 s until")
			}
		}
		mustUse(t, o, long, time.Now().Add(time.Hour), false)
		mustUse(t, o, id, time.Now().Add(time.Hour), false) // used again, for an hour
		return
	}
	now := e.now()
	mustUse(t, o, id, now.Add(10*time.Second), true)
	mustUse(t, o, long, now.Add(time.Hour), true)
	e.clock.Advance(9 * time.Second)
	mustUse(t, o, id, e.now().Add(time.Hour), false)
	e.clock.Advance(time.Second)
	// Expired, cleanup or not: the id may be used again, once.
	mustUse(t, o, id, e.now().Add(time.Hour), true)
	mustUse(t, o, id, e.now().Add(time.Hour), false)
	mustUse(t, o, long, e.now().Add(time.Hour), false)
	gone := ID("id")
	mustUse(t, o, gone, e.now().Add(time.Second), true)
	e.clock.Advance(2 * time.Second)
	if cl, ok := e.store.(interface{ Cleanup(context.Context) error }); ok {
		if err := cl.Cleanup(ctx(t)); err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
	}
	if m, ok := e.store.(interface{ Sweep() }); ok {
		m.Sweep()
	}
	mustUse(t, o, long, e.now().Add(time.Hour), false)
	mustUse(t, o, id, e.now().Add(time.Hour), false)
	mustUse(t, o, gone, e.now().Add(time.Hour), true)
}

// testConcurrentOneTime: rounds of many callers using one id at once,
// released together: in each, exactly one is first.
func testConcurrentOneTime(t *testing.T, cfg Config) {
	e := setup(t, cfg)
	o := oneTime(t, e.store)
	RaceOneTime(t, []revoke.OneTimeStore{o}, e.now().Add(time.Hour))
}

// RaceOneTime runs rounds in which many goroutines call Use with the same
// id at once, spread over the stores (handles on the same data, as on
// several instances), and fails the test unless exactly one is first in
// each round and no call fails.
func RaceOneTime(t *testing.T, stores []revoke.OneTimeStore, until time.Time) {
	t.Helper()
	const rounds, n = 10, 16
	for round := range rounds {
		id := ID("id")
		var first atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				ok, err := stores[i%len(stores)].Use(context.Background(), id, until)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					first.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if got := first.Load(); got != 1 {
			t.Fatalf("round %d: %d of %d concurrent Use calls of one id were first; want exactly 1", round, got, n)
		}
		for _, o := range stores {
			mustUse(t, o, id, until, false)
		}
	}
}
