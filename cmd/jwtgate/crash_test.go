package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tryCall is call for goroutines: it reports a failed request (the server
// was killed) as an error instead of failing the test.
func tryCall(method, url, token, jsonBody string) (answer, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(jsonBody))
	if err != nil {
		return answer{}, err
	}
	if jsonBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a, nil
}

// acked records what the server acknowledged (2xx) before it was killed.
type acked struct {
	mu             sync.Mutex
	revokedAccess  []string // must answer 401 at /userinfo
	revokedRefresh []string // must answer 401 at /refresh
}

func (a *acked) access(tok ...string) {
	a.mu.Lock()
	a.revokedAccess = append(a.revokedAccess, tok...)
	a.mu.Unlock()
}

func (a *acked) refresh(tok ...string) {
	a.mu.Lock()
	a.revokedRefresh = append(a.revokedRefresh, tok...)
	a.mu.Unlock()
}

// TestServeCrash kills jwtgate serve with SIGKILL while it serves logins,
// refreshes and logouts, starts it again on the same data directory and
// checks that no user, key or acknowledged revocation was lost. The
// issuer is fixed: the port changes across restarts.
func TestServeCrash(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	const nUsers = 4
	creds := func(i int) string {
		return fmt.Sprintf(`{"username":"user%d","password":"password-of-user%d"}`, i, i)
	}
	for i := range nUsers {
		mustRun(t, dir, fmt.Sprintf("password-of-user%d\n", i), "users", "add", "--data-dir", dd, fmt.Sprintf("user%d", i))
	}
	p := startServe(t, nil, "-data-dir", dd, "-login-burst", "-1", "-issuer", "http://jwtgate.test")
	kid := jwksKid(t, p.url)

	var ack acked
	// kept are access tokens that are never revoked: they must still work
	// after the restart.
	var kept []string
	login := func(i int) (string, string) {
		a := expect(t, "login", call(t, "POST", p.url+"/login", "", creds(i)), 200)
		return str(a, "access_token"), str(a, "refresh_token")
	}
	// user0 logs out everywhere: every token issued before is revoked.
	var before []string
	for range 2 {
		acc, ref := login(0)
		before = append(before, acc)
		ack.refresh(ref)
	}
	expect(t, "logout/all", call(t, "POST", p.url+"/logout/all", before[0], ""), 200)
	ack.access(before...)
	// The others log in twice: one session is kept, one logged out.
	for i := 1; i < nUsers; i++ {
		acc, _ := login(i)
		kept = append(kept, acc)
		acc, _ = login(i)
		expect(t, "logout", call(t, "POST", p.url+"/logout", acc, ""), 200)
		ack.access(acc)
	}

	// Load: a few goroutines log in, refresh and log out in a loop, a
	// bounded number of times; the process is killed once enough of their
	// requests have been acknowledged, while they still run.
	const workers, rounds, killAfter = 4, 100, 40
	var done atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	tick := func() {
		if done.Add(1) == killAfter {
			once.Do(func() { close(enough) })
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := 1 + w%(nUsers-1)
			for r := range rounds {
				a, err := tryCall("POST", p.url+"/login", "", creds(user))
				if err != nil || a.status != 200 {
					return
				}
				tick()
				acc, ref := str(a, "access_token"), str(a, "refresh_token")
				a, err = tryCall("POST", p.url+"/refresh", ref, "")
				if err != nil || a.status != 200 {
					return
				}
				// The refresh token was spent: it must stay refused.
				ack.refresh(ref)
				tick()
				acc2, ref2 := str(a, "access_token"), str(a, "refresh_token")
				if r%2 == 0 {
					// The access token from the login only.
					a, err = tryCall("POST", p.url+"/logout", acc, "")
					if err != nil || a.status != 200 {
						return
					}
					ack.access(acc)
				} else {
					// An access token from a refresh: its refresh family ends too.
					a, err = tryCall("POST", p.url+"/logout", acc2, "")
					if err != nil || a.status != 200 {
						return
					}
					ack.access(acc2)
					ack.refresh(ref2)
				}
				tick()
			}
		}()
	}
	// A user added while the server runs.
	mustRun(t, dir, "password-of-user4\n", "users", "add", "--data-dir", dd, "user4")
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()
	select {
	case <-enough:
	case <-loadDone:
		t.Fatalf("the load ended after %d acknowledged requests, before the kill\n%s", done.Load(), p.Logs())
	}
	p.Kill(t)
	<-loadDone
	if strings.Contains(p.Logs(), "msg=stopped") {
		t.Fatal("the process stopped cleanly: it was not killed")
	}
	if n := done.Load(); n >= workers*rounds*3 {
		t.Fatalf("the load had ended (%d requests) before the kill", n)
	}

	p = startServe(t, nil, "-data-dir", dd, "-login-burst", "-1", "-issuer", "http://jwtgate.test")
	if got := jwksKid(t, p.url); got != kid {
		t.Fatalf("the key changed across the crash: %s, then %s", kid, got)
	}
	for i := range nUsers + 1 {
		login(i)
	}
	for _, tok := range kept {
		expect(t, "never revoked token after the crash", call(t, "GET", p.url+"/userinfo", tok, ""), 200)
	}
	if len(ack.revokedAccess) < len(before)+nUsers-1 || len(ack.revokedRefresh) == 0 {
		t.Fatalf("too few acknowledged revocations: %d access, %d refresh", len(ack.revokedAccess), len(ack.revokedRefresh))
	}
	for _, tok := range ack.revokedAccess {
		expect(t, "revoked access token after the crash", call(t, "GET", p.url+"/userinfo", tok, ""), 401)
	}
	for _, tok := range ack.revokedRefresh {
		expect(t, "revoked refresh token after the crash", call(t, "POST", p.url+"/refresh", tok, ""), 401)
	}
	t.Logf("%d load requests acknowledged; checked %d access and %d refresh revocations",
		done.Load(), len(ack.revokedAccess), len(ack.revokedRefresh))
	p.stop(t)
}
