package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// These tests send the same credential to two jwtgate serve processes at
// once, as a thief racing its owner would: a refresh token, a
// private_key_jwt assertion. Each credential is single-use across the
// instances, so at most one of the racing requests may succeed.

// raceRequests runs do(0) .. do(n-1) in goroutines released together and
// returns their answers by index, or the first error.
func raceRequests(n int, do func(i int) (answer, error)) ([]answer, error) {
	answers := make([]answer, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = do(i)
		})
	}
	close(start)
	wg.Wait()
	return answers, errors.Join(errs...)
}

// raceStores are the two ways instances share their state: PostgreSQL
// and Redis, or one data directory (SQLite) that both processes open.
// Each returns the environment and the data directory of the instances.
var raceStores = []struct {
	name   string
	stores func(t *testing.T) (env []string, dataDir string)
}{
	{"PostgreSQL and Redis", func(t *testing.T) ([]string, string) {
		return sharedStores(t), filepath.Join(t.TempDir(), "unused")
	}},
	{"one data directory", func(t *testing.T) ([]string, string) {
		return nil, filepath.Join(t.TempDir(), "data")
	}},
}

// statusCounts counts the answers by status.
func statusCounts(answers []answer) map[int]int {
	c := map[int]int{}
	for _, a := range answers {
		c[a.status]++
	}
	return c
}

// TestServeRefreshRace: two instances sharing their stores, one refresh
// token presented to both by several clients at once. At most one gets
// new tokens (none if the session was ended before the winner's second
// check), every other one is refused as a reuse, and the reuse ends the
// session on both instances: the access token both have seen and
// cached, and the winner's new access and refresh tokens, are all
// refused.
func TestServeRefreshRace(t *testing.T) {
	for _, c := range raceStores {
		t.Run(c.name, func(t *testing.T) { testRefreshRace(t, c.stores) })
	}
}

func testRefreshRace(t *testing.T, stores func(t *testing.T) ([]string, string)) {
	env, dataDir := stores(t)
	args := []string{"-data-dir", dataDir, "-issuer", "https://auth.example", "-keys-reload", "1h"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	instances := []*proc{a, b}
	creds := `{"username":"admin","password":"` + pw + `"}`
	const rounds, n = 3, 8
	for round := range rounds {
		login := expect(t, "login on A", call(t, "POST", a.url+"/login", "", creds), 200)
		access, refresh := str(login, "access_token"), str(login, "refresh_token")
		for _, p := range instances {
			expect(t, "access token before the race", call(t, "GET", p.url+"/userinfo", access, ""), 200)
		}
		answers, err := raceRequests(n, func(i int) (answer, error) {
			return tryCall("POST", instances[i%2].url+"/refresh", refresh, "")
		})
		if err != nil {
			t.Fatal(err)
		}
		count := statusCounts(answers)
		t.Logf("round %d: %d refreshes of one token on two instances: %v", round, n, count)
		if count[200] > 1 || count[200]+count[401] != n {
			t.Fatalf("round %d: concurrent refreshes of one token: %v; want at most one 200, the others 401", round, count)
		}
		for _, p := range instances {
			refusedSoon(t, p.url, fmt.Sprintf("round %d: the session's first access token", round), access)
		}
		for i, w := range answers {
			if w.status != 200 {
				continue
			}
			for _, p := range instances {
				refusedSoon(t, p.url, fmt.Sprintf("round %d: the access token won on instance %d", round, i%2), str(w, "access_token"))
				expect(t, "the refresh token won, after the reuse", call(t, "POST", p.url+"/refresh", str(w, "refresh_token"), ""), 401)
			}
		}
	}
}

// TestServeAssertionRace: two instances sharing their stores, one
// private_key_jwt assertion sent to both by several clients at once:
// exactly one gets a token, the others are refused as a replay
// (invalid_client). No login limit, so that nothing serializes the
// requests of one client.
func TestServeAssertionRace(t *testing.T) {
	for _, c := range raceStores {
		t.Run(c.name, func(t *testing.T) { testAssertionRace(t, c.stores) })
	}
}

func testAssertionRace(t *testing.T, stores func(t *testing.T) ([]string, string)) {
	env, dataDir := stores(t)
	dir := t.TempDir()
	key, jwks := clientKey(t, dir)
	out := runEnv(t, dir, env, "", "clients", "add", "keyed", "--data-dir", dataDir, "--scopes", "read", "--jwks", jwks)
	id := field(out.stdout, "client_id")
	if out.code != 0 || id == "" {
		t.Fatalf("clients add --jwks: %d %s", out.code, out.stderr)
	}
	args := []string{"-data-dir", dataDir, "-issuer", "https://auth.example", "-keys-reload", "1h", "-login-burst", "-1"}
	instances := []*proc{startServe(t, env, args...), startServe(t, env, args...)}
	const rounds, n = 5, 8
	for round := range rounds {
		form := assertionForm(clientAssertion(t, key, id, "https://auth.example/oauth/token", rand.Text()))
		answers, err := raceRequests(n, func(i int) (answer, error) {
			return tryForm(instances[i%2].url+"/oauth/token", form, "", "")
		})
		if err != nil {
			t.Fatal(err)
		}
		count := statusCounts(answers)
		if count[200] != 1 || count[401] != n-1 {
			t.Fatalf("round %d: one assertion sent %d times at once to two instances: %v; want one 200 and %d 401", round, n, count, n-1)
		}
		for _, r := range answers {
			if r.status == 401 && !strings.Contains(str(r, "error_description"), "used before") {
				t.Fatalf("round %d: refused for another reason than a replay: %s", round, r.raw)
			}
		}
	}
}

// TestServeAssertionPartition: one of two instances reaches Redis
// through a proxy that freezes (no FIN, no RST). An assertion sent to the
// partitioned instance is refused (503: its use cannot be recorded),
// never accepted; the same assertion used on the other instance
// meanwhile is refused by the partitioned one once Redis is back. No
// login limit, so that the store of used ids is the only call to Redis on
// the way.
func TestServeAssertionPartition(t *testing.T) {
	env := sharedStores(t)
	var redis string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JWTGATE_REDIS="); ok {
			redis = v
		}
	}
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	key, jwks := clientKey(t, dir)
	out := runEnv(t, dir, env, "", "clients", "add", "keyed", "--data-dir", unused, "--scopes", "read", "--jwks", jwks)
	id := field(out.stdout, "client_id")
	if out.code != 0 || id == "" {
		t.Fatalf("clients add --jwks: %d %s", out.code, out.stderr)
	}
	proxy := storetest.NewProxy(t, redis)
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h", "-login-burst", "-1"}
	a := startServe(t, append(env[:len(env):len(env)], "JWTGATE_REDIS="+proxy.Addr()), args...)
	b := startServe(t, env, args...)
	assertion := func() url.Values {
		return assertionForm(clientAssertion(t, key, id, "https://auth.example/oauth/token", rand.Text()))
	}
	// The client's keys are cached on A, and its Redis connection in use.
	expect(t, "an assertion on A before the freeze", formCall(t, a.url+"/oauth/token", assertion(), "", ""), 200)

	proxy.Freeze()
	form := assertion()
	expect(t, "an assertion on the partitioned A", formCall(t, a.url+"/oauth/token", form, "", ""), 503)
	expect(t, "the same assertion on B", formCall(t, b.url+"/oauth/token", form, "", ""), 200)
	expect(t, "the same assertion replayed on B", formCall(t, b.url+"/oauth/token", form, "", ""), 401)

	proxy.Thaw()
	// A may answer 503 a little longer while its connection recovers;
	// never 200.
	for i := 0; ; i++ {
		r := formCall(t, a.url+"/oauth/token", form, "", "")
		if r.status == 401 {
			break
		}
		if r.status != 503 || i == 400 {
			t.Fatalf("the assertion used on B, on A after the thaw: %d %s", r.status, r.raw)
		}
		time.Sleep(25 * time.Millisecond)
	}
	expect(t, "a new assertion on A after the thaw", formCall(t, a.url+"/oauth/token", assertion(), "", ""), 200)
}
