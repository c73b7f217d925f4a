package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestServeBadInputFlood sends a real process bad bodies and a flood of
// failed logins from many goroutines at once: every answer is a clear
// 4xx JSON error, never a 5xx, and the service stays up.
func TestServeBadInputFlood(t *testing.T) {
	p := startServe(t, nil, "-data-dir", filepath.Join(t.TempDir(), "data"))
	pw := logField(p.Logs(), "password", "username=admin")

	for _, tc := range []struct {
		name, ct, body string
		status         int
	}{
		{"broken JSON", "application/json", `{"username":"admin","password":`, 400},
		{"huge JSON", "application/json", `{"username":"admin","password":"` + strings.Repeat("x", 10<<20) + `"}`, 413},
		{"wrong content type", "text/xml", `<login/>`, 415},
		{"unknown field", "application/json", `{"username":"admin","password":"x","role":"root"}`, 400},
		{"long username", "application/json", `{"username":"` + strings.Repeat("u", 60_000) + `","password":"x"}`, 400},
		{"long password", "application/json", `{"username":"admin","password":"` + strings.Repeat("p", 50_000) + `"}`, 400},
		{"deep nesting", "application/json", strings.Repeat("[", 60_000), 400},
		{"invalid UTF-8", "application/json", "{\"username\":\"\xff\xfe\",\"password\":\"x\"}", 400},
		{"lone surrogate", "application/json", `{"username":"admin","password":"\ud800"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", p.url+"/login", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d (%s), want %d and a JSON error", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
			}
		})
	}

	// The flood: failed logins for existing and missing users at once.
	const workers, each = 16, 25
	counts := make(chan int, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				user := "admin"
				if i%2 == 1 {
					user = fmt.Sprintf("ghost-%d-%d", w, i)
				}
				a := call(t, "POST", p.url+"/auth", "", `{"username":"`+user+`","password":"wrong-`+fmt.Sprint(i)+`"}`)
				counts <- a.status
			}
		})
	}
	wg.Wait()
	close(counts)
	seen := map[int]int{}
	for s := range counts {
		seen[s]++
	}
	if seen[401]+seen[429] != workers*each || seen[429] == 0 {
		t.Fatalf("flood answers %v: want only 401 and 429, and some 429", seen)
	}
	// The address is limited now, even with the right password; the
	// service answers everything else.
	limited := call(t, "POST", p.url+"/auth", "", `{"username":"admin","password":"`+pw+`"}`)
	expect(t, "right password from a limited address", limited, 429)
	expect(t, "healthz", call(t, "GET", p.url+"/healthz", "", ""), 200)
	expect(t, "readyz", call(t, "GET", p.url+"/readyz", "", ""), 200)
	expect(t, "metrics", call(t, "GET", p.url+"/metrics", "", ""), 200)
	p.stop(t)
	if strings.Contains(p.Logs(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", p.Logs())
	}
}

// TestServeAuthPath: Flask-JWT's path and member names from the flags.
func TestServeAuthPath(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, []string{"JWTGATE_AUTH_USERNAME_KEY=email"}, "-data-dir", filepath.Join(dir, "data"),
		"-auth-path", "/api/auth", "-auth-password-key", "secret")
	pw := logField(p.Logs(), "password", "username=admin")
	a := expect(t, "custom endpoint", call(t, "POST", p.url+"/api/auth", "", `{"email":"admin","secret":"`+pw+`"}`), 200)
	if str(a, "access_token") == "" {
		t.Fatalf("no access token: %s", a.raw)
	}
	expect(t, "old path", call(t, "POST", p.url+"/auth", "", `{"email":"admin","secret":"`+pw+`"}`), 404)
	expect(t, "default members", call(t, "POST", p.url+"/api/auth", "", `{"username":"admin","password":"`+pw+`"}`), 400)
	p.stop(t)
	r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "data"), "-auth-path", "/login")
	if r.code != exitUsage || !strings.Contains(r.stderr, "another endpoint") {
		t.Fatalf("-auth-path /login: exit %d %q", r.code, r.stderr)
	}
}

// TestServeTrustedProxies: behind a trusted proxy, each client address
// from X-Forwarded-For has its own budget of failed logins.
func TestServeTrustedProxies(t *testing.T) {
	p := startServe(t, nil, "-data-dir", filepath.Join(t.TempDir(), "data"), "-login-burst", "2", "-trusted-proxies", "127.0.0.1,::1")
	try := func(client, user string) int {
		req, err := http.NewRequest("POST", p.url+"/auth", strings.NewReader(`{"username":"`+user+`","password":"wrong"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, want := range []int{401, 401, 429} {
		if got := try("198.51.100.1", fmt.Sprint("u", i)); got != want {
			t.Fatalf("client 1, attempt %d: %d, want %d", i, got, want)
		}
	}
	if got := try("198.51.100.2", "u9"); got != 401 {
		t.Fatalf("another client behind the same proxy: %d, want 401", got)
	}
	if got := try("6.6.6.6, 198.51.100.1", "u10"); got != 429 {
		t.Fatalf("a forged left part of X-Forwarded-For escaped the limit: %d", got)
	}
	p.stop(t)
}

// TestServeQuietLogs: with --log-level error, requests are not logged, but
// the first admin password still is.
func TestServeQuietLogs(t *testing.T) {
	p := startServe(t, nil, "-data-dir", filepath.Join(t.TempDir(), "data"), "-log-level", "error")
	pw := logField(p.Logs(), "password", "username=admin")
	if pw == "" {
		t.Fatalf("no admin password at --log-level error:\n%s", p.Logs())
	}
	expect(t, "login", call(t, "POST", p.url+"/auth", "", `{"username":"admin","password":"`+pw+`"}`), 200)
	p.stop(t)
	if strings.Contains(p.Logs(), "msg=request") {
		t.Fatalf("a request was logged at --log-level error:\n%s", p.Logs())
	}
}
