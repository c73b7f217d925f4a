package redisstore_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// needRedis returns a client (closed when the test ends), or fails (with
// JWTGATE_REQUIRE_SERVICES=1) or skips when Redis cannot be reached.
func needRedis(t testing.TB) rueidis.Client {
	t.Helper()
	return redistest.Redis(t, rueidis.ClientOption{})
}

// uniquePrefix returns a key prefix of its own, whose keys are deleted when
// the test ends.
func uniquePrefix(t testing.TB, c rueidis.Client) string {
	p := storetest.ID("jwtgate-test") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := c.Do(ctx, c.B().Keys().Pattern(p+"*").Build()).AsStrSlice()
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, k := range keys {
			_ = c.Do(ctx, c.B().Del().Key(k).Build()).Error()
		}
	})
	return p
}

// newStore returns a store with its own client on the test server (the
// client c only proves the server is there).
func newStore(t testing.TB, _ rueidis.Client, prefix string) *redisstore.Store {
	t.Helper()
	return newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}}, redisstore.Options{Prefix: prefix})
}

func newStoreOpt(t testing.TB, o rueidis.ClientOption, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(o, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestConformance(t *testing.T) {
	needRedis(t)
	prefixes := map[revoke.Store]string{}
	storetest.RunConfig(t, storetest.Config{
		ServerClock: true,
		New: func(t *testing.T, _ func() time.Time) revoke.Store {
			c := needRedis(t)
			p := uniquePrefix(t, c)
			s := newStore(t, c, p)
			prefixes[s] = p
			return s
		},
		Reopen: func(t *testing.T, old revoke.Store) revoke.Store {
			// A new client (a restarted instance): only Redis remembers.
			return newStore(t, needRedis(t), prefixes[old])
		},
	})
}

func TestInstances(t *testing.T) {
	a, b := needRedis(t), needRedis(t)
	p := uniquePrefix(t, a)
	storetest.RunInstances(t, newStore(t, a, p), newStore(t, b, p))
}

func TestFaults(t *testing.T) {
	c := needRedis(t)
	p := uniquePrefix(t, c)
	down := newStore(t, c, p)
	down.Close() // a store whose client is gone
	storetest.RunFaults(t, newStore(t, c, p), down)

	// A wrong port: no client at all.
	if _, err := redisstore.New(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:1"}}, redisstore.Options{}); err == nil {
		t.Fatal("store on a wrong port: no error")
	}
}

// TestGarbage: values the store cannot read are errors (503), never a
// panic or a "not revoked".
func TestGarbage(t *testing.T) {
	c := needRedis(t)
	p := uniquePrefix(t, c)
	s := newStore(t, c, p)
	ctx := context.Background()
	for k, v := range map[string]string{p + "j:bad": "yes", p + "s:mallory": "soon"} {
		if err := c.Do(ctx, c.B().Set().Key(k).Value(v).Ex(time.Minute).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Revoked(ctx, "bad"); err == nil {
		t.Error("Revoked over garbage: no error")
	}
	if _, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "mallory", IssuedAt: time.Now()}); err == nil {
		t.Error("CheckToken over a garbage cutoff: no error")
	}
	if err := c.Do(ctx, c.B().Hset().Key(p+"f:odd").FieldValue().FieldValue("rev", "maybe").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Family: "odd"}); err == nil {
		t.Error("CheckToken over a garbage family: no error")
	}
	if _, err := s.FamilyRevoked(ctx, "odd"); err == nil {
		t.Error("FamilyRevoked over a garbage family: no error")
	}
	if err := s.RevokeSubject(ctx, "mallory", time.Now(), time.Now().Add(time.Hour)); err == nil {
		t.Error("RevokeSubject over a garbage cutoff: no error")
	}
	if err := c.Do(ctx, c.B().Set().Key(p+"f:fam").Value("not a hash").Ex(time.Minute).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx, "fam", "a", "b", time.Now().Add(time.Hour)); err == nil || errors.Is(err, revoke.ErrReused) {
		t.Errorf("Rotate over a garbage family: %v", err)
	}
	if err := s.RevokeFamily(ctx, "fam", time.Now().Add(time.Hour)); err == nil {
		t.Error("RevokeFamily over a garbage family: no error")
	}
	in := storetest.NewInstance(t, s)
	access, _ := in.Login(t, "/login", "mallory")
	if code, body := in.Do(t, "GET", "/protected", access); code != 503 {
		t.Fatalf("garbage in store: %d %s; want 503", code, body)
	}
}

// countingConn counts what the client writes.
type countingConn struct {
	net.Conn
	n, writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestClientSideCache: a token already checked is answered without
// sending anything to Redis, and a revocation through another client
// reaches this one's cache by invalidation.
func TestClientSideCache(t *testing.T) {
	needRedis(t)
	var sent, writes atomic.Int64
	other := needRedis(t)
	p := uniquePrefix(t, other)
	o := rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}}
	o.DialCtxFn = func(ctx context.Context, addr string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return countingConn{conn, &sent, &writes}, nil
	}
	// A bound of an hour: no heartbeat PING while the test counts what
	// the client writes.
	s, w := newStoreOpt(t, o, redisstore.Options{Prefix: p, Bound: time.Hour}), newStore(t, other, p)
	ctx := context.Background()
	iat := time.Now()
	if err := s.Client().Do(ctx, s.Client().B().Ping().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	// A first-seen token: jti, subject and session in one write (one
	// round trip).
	q := revoke.Query{JTI: "tok", Subject: "carol", Family: "sess", IssuedAt: iat}
	w0 := writes.Load()
	if r, err := s.CheckToken(ctx, q); err != nil || r {
		t.Fatalf("CheckToken = %v, %v", r, err)
	}
	if d := writes.Load() - w0; d != 1 {
		t.Errorf("first check of a token took %d writes to Redis; want 1 (one round trip)", d)
	}
	if r, err := s.CheckToken(ctx, q); err != nil || r {
		t.Fatalf("CheckToken = %v, %v", r, err)
	}
	before := sent.Load()
	for range 100 {
		if r, err := s.CheckToken(ctx, q); err != nil || r {
			t.Fatalf("CheckToken = %v, %v", r, err)
		}
	}
	if d := sent.Load() - before; d != 0 {
		t.Fatalf("100 checks of a cached token sent %d bytes to Redis; want 0", d)
	}
	if r, ok := s.CheckCached(q); !ok || r {
		t.Fatalf("CheckCached of a seen token = %v, %v; want false, true", r, ok)
	}
	// A revocation through the other client, of the session, then of a
	// jti: each reaches this client's cache.
	waitSeen := func(q revoke.Query, what string) {
		t.Helper()
		// Bounded polling (no wall-clock limit): the invalidation is pushed
		// by Redis and arrives within milliseconds.
		start := time.Now()
		dropped := false
		for range 5000 {
			if r, ok := s.CheckCached(q); r || !ok {
				t.Logf("%s: local cache dropped the answer after %v", what, time.Since(start))
				dropped = true
				break
			}
			time.Sleep(time.Millisecond)
		}
		if !dropped {
			t.Fatalf("%s: local cache still answers 'not revoked' after 5000 polls following a revocation elsewhere", what)
		}
		for range 5000 {
			r, err := s.CheckToken(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if r {
				t.Logf("%s: seen after %v", what, time.Since(start))
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("%s: not seen after 5000 polls: the cache was not invalidated", what)
	}
	if err := w.RevokeFamily(ctx, "sess", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitSeen(q, "session ended by another client")
	if r, ok := s.CheckCached(q); !ok || !r {
		t.Fatalf("CheckCached after the session ended = %v, %v; want true, true", r, ok)
	}
	q2 := revoke.Query{JTI: "tok2", Subject: "carol", Family: "sess2", IssuedAt: iat}
	if r, err := s.CheckToken(ctx, q2); err != nil || r {
		t.Fatalf("CheckToken = %v, %v", r, err)
	}
	if err := w.Revoke(ctx, "tok2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitSeen(q2, "jti revoked by another client")
}

// TestServerComesBack takes Redis away behind a proxy and brings it back.
func TestServerComesBack(t *testing.T) {
	c := needRedis(t)
	p := uniquePrefix(t, c)
	proxy := storetest.NewProxy(t, redistest.RedisAddr())
	via := newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{proxy.Addr()}, Dialer: net.Dialer{Timeout: time.Second}}, redisstore.Options{Prefix: p})
	storetest.RunComeback(t, via, newStore(t, c, p), proxy)
}

// TestUseWaitReplicas: with Options.WaitReplicas, Use waits for the
// replica and answers as without it; with no replica to wait for, it fails
// (never first), and the id stays used.
func TestUseWaitReplicas(t *testing.T) {
	master := redistest.StartRedis(t)
	redistest.StartRedis(t, "replicaof 127.0.0.1 "+strconv.Itoa(master.Port))
	p := storetest.ID("jwtgate-test") + ":"
	s := newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{master.Addr}}, redisstore.Options{Prefix: p, WaitReplicas: 1})
	until := time.Now().Add(time.Hour)
	id := storetest.ID("id")
	// The replica may take a moment to finish its first sync: bounded
	// tries until a write is acknowledged by it (before, WAIT gives up
	// or the context ends).
	var first bool
	var err error
	for try := range 100 {
		if try > 0 {
			t.Logf("try %d: %v", try, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		first, err = s.Use(ctx, id, until)
		cancel()
		if err == nil {
			break
		}
		if first {
			t.Fatalf("Use failed (%v), yet first", err)
		}
		id = storetest.ID("id")
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || !first {
		t.Fatalf("first Use with a replica = %v, %v; want true", first, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if first, err := s.Use(ctx, id, until); err != nil || first {
		t.Fatalf("second Use with a replica = %v, %v; want false", first, err)
	}

	// No replica: WAIT gives up.
	c := needRedis(t)
	lone := uniquePrefix(t, c)
	w := newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}}, redisstore.Options{Prefix: lone, WaitReplicas: 1, Bound: 200 * time.Millisecond})
	id = storetest.ID("id")
	// No deadline: WAIT waits for Bound.
	if first, err := w.Use(context.Background(), id, until); first || !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Use with no replica to wait for = %v, %v; want false, ErrNotReplicated", first, err)
	}
	plain := newStore(t, c, lone)
	if first, err := plain.Use(ctx, id, until); err != nil || first {
		t.Fatalf("Use of an id whose write was not replicated = %v, %v; want false (it stays used)", first, err)
	}
}
