package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// These tests freeze Redis without closing anything, behind a
// storetest.Proxy (a partition between one instance and Redis) or with
// SIGSTOP on a redis-server of the test's own, and check the promise of
// Options.Bound: once the bound has passed since the freeze, no instance
// answers 200 from its cache. That is not a timing assertion: the store
// trusts its cache only for the bound after the last heartbeat round that
// was sent and answered, and none can be answered after the freeze, so
// every request that starts later than freeze + bound goes to Redis and
// fails. Durations are measured and logged.

const testBound = time.Second

// probeFails checks that Probe on a frozen store fails, and logs how long
// it took under a deadline of the bound.
func probeFails(t *testing.T, s *redisstore.Store, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	start := time.Now()
	if err := s.Probe(ctx); err == nil {
		t.Fatalf("%s: Probe succeeded on a frozen store", what)
	} else {
		t.Logf("%s: Probe failed after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
	}
}

// refusedAfter polls GET /protected on in with tok until an answer is not
// 200 and returns when that request started. It is an error if a request
// that started after deadline got 200. Safe to call from any goroutine.
func refusedAfter(in *storetest.Instance, tok string, deadline time.Time) (time.Time, int, error) {
	client := in.Server.Client()
	for range 5000 {
		start := time.Now()
		req, err := http.NewRequest("GET", in.Server.URL+"/protected", nil)
		if err != nil {
			return start, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			return start, 0, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if code := res.StatusCode; code != 200 {
			if code != 401 && code != 503 {
				return start, code, fmt.Errorf("frozen store: %d %s; want 401 or 503", code, body)
			}
			return start, code, nil
		}
		if start.After(deadline) {
			return start, 200, fmt.Errorf("a request started %v after the freeze plus the bound got 200", start.Sub(deadline))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, 200, errors.New("still 200 after 5000 polls")
}

// waitStatus polls until GET /protected answers want (bounded).
func waitStatus(t testing.TB, in *storetest.Instance, tok string, want int, what string) {
	t.Helper()
	code, body := 0, ""
	for range 400 {
		if code, body = in.Do(t, "GET", "/protected", tok); code == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: %d %s after 400 polls; want %d", what, code, body, want)
}

// partition is one instance behind a proxy to the shared Redis and one
// reaching it directly.
type partition struct {
	proxy      *storetest.Proxy
	cut, other *redisstore.Store
	A, B       *storetest.Instance // A on cut (behind the proxy), B on other
}

func newPartition(t testing.TB) *partition {
	c := needRedis(t)
	p := uniquePrefix(t, c)
	pt := &partition{proxy: storetest.NewProxy(t, redistest.RedisAddr())}
	pt.cut = newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{pt.proxy.Addr()}, Dialer: net.Dialer{Timeout: time.Second}}, redisstore.Options{Prefix: p, Bound: testBound})
	pt.other = newStoreOpt(t, rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}}, redisstore.Options{Prefix: p, Bound: testBound})
	pt.A, pt.B = storetest.NewInstance(t, pt.cut), storetest.NewInstance(t, pt.other)
	return pt
}

// trial waits a random part of the bound (a partition comes at any moment
// of the heartbeat's period, not just after the recovery from the last
// one), logs in on B, has A cache the token, freezes the proxy, logs out
// on B and returns the time from the logout's answer to the start of the
// first request A refused; then thaws and waits until A refuses the token
// for what it is (401).
func (pt *partition) trial(t testing.TB) (window time.Duration, code int) {
	t.Helper()
	time.Sleep(rand.N(testBound))
	tok, _ := pt.B.Login(t, "/login", storetest.ID("user"))
	for range 2 {
		if code, body := pt.A.Do(t, "GET", "/protected", tok); code != 200 {
			t.Fatalf("before the partition: %d %s", code, body)
		}
	}
	pt.proxy.Freeze()
	frozen := time.Now()
	if code, body := pt.B.Do(t, "POST", "/logout", tok); code != 204 {
		t.Fatalf("logout on the other instance: %d %s", code, body)
	}
	acked := time.Now()
	refused, code, err := refusedAfter(pt.A, tok, frozen.Add(testBound))
	if err != nil {
		t.Fatal(err)
	}
	pt.proxy.Thaw()
	waitStatus(t, pt.A, tok, 401, "after the thaw")
	return refused.Sub(acked), code
}

// TestPartitionBound: a token logged out on one instance is refused on an
// instance cut from Redis by a frozen proxy within the bound (503 while
// cut), its Probe fails, and everything recovers after the thaw.
func TestPartitionBound(t *testing.T) {
	pt := newPartition(t)
	tok, _ := pt.B.Login(t, "/login", storetest.ID("user"))
	for range 2 {
		if code, body := pt.A.Do(t, "GET", "/protected", tok); code != 200 {
			t.Fatalf("before the partition: %d %s", code, body)
		}
	}
	if err := pt.cut.Probe(context.Background()); err != nil {
		t.Fatalf("Probe before the partition: %v", err)
	}
	pt.proxy.Freeze()
	frozen := time.Now()
	if code, body := pt.B.Do(t, "POST", "/logout", tok); code != 204 {
		t.Fatalf("logout on the other instance: %d %s", code, body)
	}
	acked := time.Now()
	refused, code, err := refusedAfter(pt.A, tok, frozen.Add(testBound))
	if err != nil {
		t.Fatal(err)
	}
	probeFails(t, pt.cut, "partitioned instance")
	t.Logf("refused (%d) %v after the logout was acknowledged (bound %v)", code, refused.Sub(acked).Round(time.Millisecond), testBound)
	// Still cut: a token never seen is refused too.
	fresh, _ := pt.B.Login(t, "/login", storetest.ID("user"))
	if code, body := pt.A.Do(t, "GET", "/protected", fresh); code != 503 {
		t.Fatalf("partitioned, a new token: %d %s; want 503", code, body)
	}

	pt.proxy.Thaw()
	waitStatus(t, pt.A, tok, 401, "after the thaw, the revoked token")
	waitStatus(t, pt.A, fresh, 200, "after the thaw, a valid token")
	if err := pt.cut.Probe(context.Background()); err != nil {
		t.Fatalf("Probe after the thaw: %v", err)
	}
}

// windowStats returns the median and the maximum of ds.
func windowStats(ds []time.Duration) (median, most time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

// TestPartitionWindow measures, over 20 trials, the time from an
// acknowledged logout on one instance to the first refusal on an instance
// whose connection to Redis is frozen, and logs the median and maximum
// (docs/BENCHMARKS.md, "Revocation under a partition").
func TestPartitionWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("20 partitions of about 2 s each; skipped with -short")
	}
	pt := newPartition(t)
	var ws []time.Duration
	for range 20 {
		w, _ := pt.trial(t)
		ws = append(ws, w)
	}
	med, most := windowStats(ws)
	t.Logf("revocation under a partition, %d trials: median %v, max %v, bound %v", len(ws), med.Round(time.Millisecond), most.Round(time.Millisecond), testBound)
}

// BenchmarkPartitionWindow is TestPartitionWindow as a benchmark: one
// partition per iteration, reporting the window's median and maximum.
//
//	go test -run '^$' -bench PartitionWindow -benchtime 20x ./revoke/redisstore
func BenchmarkPartitionWindow(b *testing.B) {
	pt := newPartition(b)
	var ws []time.Duration
	for b.Loop() {
		w, _ := pt.trial(b)
		ws = append(ws, w)
	}
	med, most := windowStats(ws)
	b.ReportMetric(float64(med)/float64(time.Millisecond), "median-ms")
	b.ReportMetric(float64(most)/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(testBound)/float64(time.Millisecond), "bound-ms")
}

// TestFrozenServer freezes a redis-server of the test's own (SIGSTOP)
// under two instances: tokens they have seen stop getting 200 within the
// bound on both, a logout answers 503 (how long it took is logged), and
// after SIGCONT both recover.
func TestFrozenServer(t *testing.T) {
	srv := redistest.StartRedis(t)
	opt := rueidis.ClientOption{InitAddress: []string{srv.Addr}, Dialer: net.Dialer{Timeout: time.Second}}
	a := newStoreOpt(t, opt, redisstore.Options{Bound: testBound})
	b := newStoreOpt(t, opt, redisstore.Options{Bound: testBound})
	A, B := storetest.NewInstance(t, a), storetest.NewInstance(t, b)
	tok, _ := A.Login(t, "/login", storetest.ID("user"))
	victim, _ := A.Login(t, "/login", storetest.ID("user"))
	for _, in := range []*storetest.Instance{A, B} {
		for range 2 {
			if code, body := in.Do(t, "GET", "/protected", tok); code != 200 {
				t.Fatalf("before the freeze: %d %s", code, body)
			}
		}
	}
	if err := srv.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	var wg sync.WaitGroup
	for name, in := range map[string]*storetest.Instance{"A": A, "B": B} {
		wg.Go(func() {
			refused, code, err := refusedAfter(in, tok, frozen.Add(testBound))
			if err != nil {
				t.Errorf("instance %s: %v", name, err)
				return
			}
			t.Logf("instance %s: a seen token refused (%d) %v after the freeze (bound %v)", name, code, refused.Sub(frozen).Round(time.Millisecond), testBound)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	probeFails(t, a, "frozen server")
	start := time.Now()
	code, body := A.Do(t, "POST", "/logout", victim)
	t.Logf("logout on a frozen server: %d after %v (no deadline of its own: the client drops the frozen connection)", code, time.Since(start).Round(time.Millisecond))
	if code != 503 {
		t.Fatalf("logout on a frozen server: %d %s; want 503", code, body)
	}

	if err := srv.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*storetest.Instance{A, B} {
		waitStatus(t, in, tok, 200, "after SIGCONT")
	}
	if err := a.Probe(context.Background()); err != nil {
		t.Fatalf("Probe after SIGCONT: %v", err)
	}
	// The logout answered 503 may or may not have happened (its command
	// may have reached Redis before the freeze was noticed): retrying it
	// is safe, and then it holds everywhere.
	if code, body := B.Do(t, "POST", "/logout", victim); code != 204 && code != 401 {
		t.Fatalf("logout retried after SIGCONT: %d %s", code, body)
	}
	for _, in := range []*storetest.Instance{A, B} {
		waitStatus(t, in, victim, 401, "the retried logout")
	}
}
