package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// These tests run jwtgate serve as real processes on PostgreSQL and Redis
// and freeze Redis without closing anything: behind a proxy between one
// instance and Redis (a partition), or with SIGSTOP of a redis-server of
// the test's own. The promise checked is --redis-bound's (1 s by
// default): once the bound has passed since the freeze, no instance
// answers 200 from its cache. That follows from how the bound is kept
// (no heartbeat can be answered after the freeze), so it is no timing
// assertion; the durations are logged.

const serveBound = time.Second

// statusOf sends a request and returns its status; for goroutines.
func statusOf(method, url, token string) (int, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// firstRefusal polls /userinfo with token until it is not 200, and
// returns when that request started. A 200 to a request that started
// after deadline is an error.
func firstRefusal(url, token string, deadline time.Time) (time.Time, int, error) {
	for range 2000 {
		start := time.Now()
		code, err := statusOf("GET", url+"/userinfo", token)
		if err != nil {
			return start, 0, err
		}
		if code != 200 {
			if code != 401 && code != 503 {
				return start, code, fmt.Errorf("status %d, want 401 or 503", code)
			}
			return start, code, nil
		}
		if start.After(deadline) {
			return start, code, fmt.Errorf("200 to a request that started %v after the freeze plus the bound", start.Sub(deadline))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, 200, fmt.Errorf("still 200 after 2000 polls")
}

// waitFor polls until GET path answers want (bounded).
func waitFor(t *testing.T, p *proc, path, token string, want int, what string) {
	t.Helper()
	code := 0
	for range 400 {
		var err error
		if code, err = statusOf("GET", p.url+path, token); err != nil {
			t.Fatal(err)
		}
		if code == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: %d after 400 polls, want %d:\n%s", what, code, want, p.Logs())
}

// readyzTurns polls /readyz until it answers 503 and logs how long after
// since it did (bounded).
func readyzTurns(t *testing.T, p *proc, since time.Time, what string) {
	t.Helper()
	for range 100 {
		if code, err := statusOf("GET", p.url+"/readyz", ""); err != nil {
			t.Fatal(err)
		} else if code == 503 {
			t.Logf("%s: /readyz answered 503, %v after the freeze", what, time.Since(since).Round(time.Millisecond))
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: /readyz still not 503 after 100 polls", what)
}

// TestServePartition: two instances on PostgreSQL + Redis, one of them
// reaching Redis through a proxy that freezes (no FIN, no RST). A token
// logged out on the other is refused on the partitioned one within the
// bound (never a 200 after it), its /readyz turns 503, and after the thaw
// it refuses the token for what it is (401) and is ready again.
func TestServePartition(t *testing.T) {
	env := sharedStores(t)
	var redis string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JWTGATE_REDIS="); ok {
			redis = v
		}
	}
	proxy := storetest.NewProxy(t, redis)
	args := []string{"-data-dir", t.TempDir(), "-issuer", "https://auth.example"}
	a := startServe(t, append(env[:len(env):len(env)], "JWTGATE_REDIS="+proxy.Addr()), args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	creds := `{"username":"admin","password":"` + pw + `"}`
	access := str(expect(t, "login on B", call(t, "POST", b.url+"/login", "", creds), 200), "access_token")
	for range 2 {
		expect(t, "userinfo on A", call(t, "GET", a.url+"/userinfo", access, ""), 200)
	}

	proxy.Freeze()
	frozen := time.Now()
	expect(t, "logout on B", call(t, "POST", b.url+"/logout", access, ""), 200)
	acked := time.Now()
	refused, code, err := firstRefusal(a.url, access, frozen.Add(serveBound))
	if err != nil {
		t.Fatalf("partitioned instance: %v\n%s", err, a.Logs())
	}
	t.Logf("partitioned instance: the logged-out token refused (%d) %v after the logout was acknowledged (bound %v)", code, refused.Sub(acked).Round(time.Millisecond), serveBound)
	readyzTurns(t, a, frozen, "partitioned instance")

	proxy.Thaw()
	waitFor(t, a, "/userinfo", access, 401, "after the thaw")
	waitFor(t, a, "/readyz", "", 200, "readyz after the thaw")
	a.stop(t)
	b.stop(t)
}

// TestServeFrozenRedis: two instances on PostgreSQL and a redis-server
// of the test's own, which is frozen (SIGSTOP). Tokens they have seen
// stop getting 200 on both within the bound, a logout answers 503 (how
// long it took is logged), /readyz turns 503, and after SIGCONT
// everything recovers.
func TestServeFrozenRedis(t *testing.T) {
	srv := redistest.StartRedis(t)
	env := append(sharedStores(t), "JWTGATE_REDIS="+srv.Addr)
	args := []string{"-data-dir", t.TempDir(), "-issuer", "https://auth.example"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	creds := `{"username":"admin","password":"` + pw + `"}`
	access := str(expect(t, "login", call(t, "POST", a.url+"/login", "", creds), 200), "access_token")
	victim := str(expect(t, "login", call(t, "POST", b.url+"/login", "", creds), 200), "access_token")
	for _, p := range []*proc{a, b} {
		for range 2 {
			expect(t, "userinfo", call(t, "GET", p.url+"/userinfo", access, ""), 200)
		}
	}

	if err := srv.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	var wg sync.WaitGroup
	for name, p := range map[string]*proc{"A": a, "B": b} {
		wg.Go(func() {
			refused, code, err := firstRefusal(p.url, access, frozen.Add(serveBound))
			if err != nil {
				t.Errorf("instance %s: %v", name, err)
				return
			}
			t.Logf("instance %s: a seen token refused (%d) %v after the freeze (bound %v)", name, code, refused.Sub(frozen).Round(time.Millisecond), serveBound)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	start := time.Now()
	code, err := statusOf("POST", a.url+"/logout", victim)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("logout with Redis frozen: %d after %v", code, time.Since(start).Round(time.Millisecond))
	if code != 503 {
		t.Fatalf("logout with Redis frozen: %d, want 503", code)
	}
	readyzTurns(t, b, frozen, "instance B")

	if err := srv.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{a, b} {
		waitFor(t, p, "/userinfo", access, 200, "after SIGCONT")
		waitFor(t, p, "/readyz", "", 200, "readyz after SIGCONT")
	}
	// The logout answered 503 may or may not have happened: retried, it
	// holds everywhere.
	if code, err := statusOf("POST", b.url+"/logout", victim); err != nil || (code != 200 && code != 401) {
		t.Fatalf("logout retried: %d %v", code, err)
	}
	for _, p := range []*proc{a, b} {
		waitFor(t, p, "/userinfo", victim, 401, "the retried logout")
	}
	a.stop(t)
	b.stop(t)
}

// TestServePausedInstance: two instances on PostgreSQL and Redis; one of
// them is paused (SIGSTOP, as a stalled VM or a debugger would) while
// a token it has seen and cached is logged out on the other, and stays
// paused past the bound. Requests sent to it meanwhile wait in its
// listening socket; when it resumes (SIGCONT) they race the buffered
// invalidation, and none may be answered 200 from the cache: the bound
// was measured on a clock that ran while the process was stopped.
func TestServePausedInstance(t *testing.T) {
	env := sharedStores(t)
	args := []string{"-data-dir", t.TempDir(), "-issuer", "https://auth.example"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	creds := `{"username":"admin","password":"` + pw + `"}`
	access := str(expect(t, "login on B", call(t, "POST", b.url+"/login", "", creds), 200), "access_token")
	for range 2 {
		expect(t, "userinfo on A", call(t, "GET", a.url+"/userinfo", access, ""), 200)
	}

	if err := a.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Signal(syscall.SIGCONT) }) // so that A can be stopped if the test fails
	expect(t, "logout on B", call(t, "POST", b.url+"/logout", access, ""), 200)
	time.Sleep(serveBound + serveBound/2)
	const n = 8
	codes := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i], errs[i] = statusOf("GET", a.url+"/userinfo", access) })
	}
	time.Sleep(100 * time.Millisecond) // the requests reach A's socket
	if err := a.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, code := range codes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if code != 401 && code != 503 {
			t.Errorf("request %d, sent while A was paused past the bound: %d, want 401 or 503", i, code)
		}
	}
	t.Logf("the logged-out token on the resumed instance: %v", codes)
	waitFor(t, a, "/userinfo", access, 401, "after the resume")
	a.stop(t)
	b.stop(t)
}
