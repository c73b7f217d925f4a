package main

import (
	"context"
	"math"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/revoke"
)

// TestServeClientCutOffGetsNothing attacks the end of a client while
// two running instances of one data directory have it cached: the client
// asks both for tokens from several goroutines at once while it is
// disabled (clients update --disabled) or deleted (clients delete). Every
// token it ever got, including those an instance issued from its cached
// copy after the command, is revoked in the shared store once the command
// has returned, so resource servers that check revocation refuse it; and
// every request sent once the instances' cache must have expired is
// refused (401).
func TestServeClientCutOffGetsNothing(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	args := []string{"-data-dir", dd, "-login-burst", "-1"}
	a := startServe(t, nil, args...)
	b := startServe(t, nil, args...)
	urls := []string{a.url, b.url}
	cc := url.Values{"grant_type": {"client_credentials"}}

	type got struct {
		sent   time.Time
		status int
		token  string
	}
	cases := []struct {
		name string
		end  []string // the command that ends the client, after "clients"
		id   string
		sec  string

		mu    sync.Mutex
		tries []got
		after time.Time // when the command returned
	}{
		{name: "disabled", end: []string{"update", "disabled", "--disabled"}},
		{name: "deleted", end: []string{"delete", "deleted"}},
	}
	for i := range cases {
		c := &cases[i]
		out := mustRun(t, dir, "", "clients", "add", c.name, "--data-dir", dd)
		c.id, c.sec = field(out, "client_id"), field(out, "client_secret")
		if c.id == "" || c.sec == "" {
			t.Fatalf("clients add: %q", out)
		}
		for _, u := range urls {
			// Each instance has the client cached, enabled.
			expect(t, c.name+" before its end", formCall(t, u+"/oauth/token", cc, c.id, c.sec), 200)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range cases {
		c := &cases[i]
		for _, u := range urls {
			for range 2 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						sent := time.Now()
						r, err := tryForm(u+"/oauth/token", cc, c.id, c.sec)
						if err != nil {
							t.Error(err)
							return
						}
						c.mu.Lock()
						c.tries = append(c.tries, got{sent, r.status, str(r, "access_token")})
						c.mu.Unlock()
						time.Sleep(5 * time.Millisecond)
					}
				})
			}
		}
	}
	time.Sleep(200 * time.Millisecond) // tokens before the end too
	for i := range cases {
		c := &cases[i]
		mustRun(t, dir, "", append(append([]string{"clients"}, c.end...), "--data-dir", dd)...)
		c.after = time.Now()
	}
	time.Sleep(time.Until(cases[len(cases)-1].after.Add(clientCacheTTL + 300*time.Millisecond)))
	close(stop)
	wg.Wait()

	d, err := server.OpenDataDir(context.Background(), dd)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range cases {
		c := &cases[i]
		var tokens, issuedAfter, lateTries int
		for _, r := range c.tries {
			if r.sent.After(c.after.Add(clientCacheTTL)) {
				lateTries++
				if r.status != 401 {
					t.Errorf("%s: a request sent %v after the instances' cache expired got %d, want 401",
						c.name, r.sent.Sub(c.after.Add(clientCacheTTL)), r.status)
				}
			}
			if r.status != 200 {
				if r.status != 401 {
					t.Errorf("%s: status %d, want 200 or 401", c.name, r.status)
				}
				continue
			}
			tokens++
			claims := decodeClaims(t, r.token)
			iat, _ := claims["iat"].(float64)
			jti, _ := claims["jti"].(string)
			issued := time.UnixMilli(int64(math.Round(iat * 1000)))
			if issued.After(c.after) {
				issuedAfter++
			}
			revoked, err := revoke.CheckToken(context.Background(), d.Revocations, revoke.Query{JTI: jti, Subject: c.id, IssuedAt: issued})
			if err != nil {
				t.Fatal(err)
			}
			if !revoked {
				t.Errorf("%s: a token issued %v after the command returned is not revoked in the shared store",
					c.name, issued.Sub(c.after).Round(time.Millisecond))
			}
		}
		t.Logf("%s: %d requests, %d tokens (%d issued after the command returned), %d requests sent after the cache expired",
			c.name, len(c.tries), tokens, issuedAfter, lateTries)
		if tokens == 0 || lateTries == 0 {
			t.Errorf("%s: want tokens before the end and requests after the cache expired", c.name)
		}
	}
}
