package main

import (
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clientCacheTTL is how long an instance trusts a client read from the
// registry (docs/SECURITY.md, "Cached lookups"): a new secret reaches
// every instance within it.
const clientCacheTTL = 5 * time.Second

// secretTry is one token request made with a client secret.
type secretTry struct {
	sent, answered time.Time
	status         int
}

// hammerSecret sends client_credentials requests with the secret to
// every instance, from several goroutines each, until the clock passes
// until, and returns every answer.
func hammerSecret(t *testing.T, urls []string, id, secret string, until time.Time) []secretTry {
	t.Helper()
	const perInstance = 2
	var (
		mu    sync.Mutex
		tries []secretTry
		wg    sync.WaitGroup
	)
	for _, u := range urls {
		for range perInstance {
			wg.Go(func() {
				for time.Now().Before(until) {
					sent := time.Now()
					a, err := tryForm(u+"/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, secret)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					tries = append(tries, secretTry{sent, time.Now(), a.status})
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	return tries
}

// secretEnds checks the answers to a secret that stops working at a
// moment between works and refused: every request answered before works
// got a token, every request sent after refused got 401, the others one
// or the other. Some requests must have been sent after refused.
func secretEnds(t *testing.T, what string, tries []secretTry, works, refused time.Time) {
	t.Helper()
	var early, late int
	for _, r := range tries {
		switch {
		case r.answered.Before(works):
			early++
			if r.status != 200 {
				t.Errorf("%s: a request answered %v before the secret may end got %d, want 200", what, works.Sub(r.answered), r.status)
			}
		case r.sent.After(refused):
			late++
			if r.status != 401 {
				t.Errorf("%s: a request sent %v after the secret must have ended got %d, want 401", what, r.sent.Sub(refused), r.status)
			}
		case r.status != 200 && r.status != 401:
			t.Errorf("%s: status %d, want 200 or 401", what, r.status)
		}
	}
	t.Logf("%s: %d requests, %d answered while it must work, %d sent after it must have ended", what, len(tries), early, late)
	if late == 0 {
		t.Errorf("%s: no request was sent after the secret must have ended", what)
	}
}

// TestServeClientSecretGrace attacks rotated client secrets on two
// running instances of one data directory, each asked by several
// clients at once, for three clients at the same time:
//   - with a grace longer than the cache's period, the replaced secret
//     works on both until its grace ends and on neither after (a cached
//     client does not extend it);
//   - with no grace, the replaced secret stops on every instance within
//     the cache's period;
//   - only one previous secret is kept: after two rotations, the secret
//     of before them stops on every instance within the cache's period,
//     while the two newest work.
func TestServeClientSecretGrace(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	args := []string{"-data-dir", dd, "-login-burst", "-1"}
	a := startServe(t, nil, args...)
	b := startServe(t, nil, args...)
	urls := []string{a.url, b.url}
	cc := url.Values{"grant_type": {"client_credentials"}}
	add := func(name string) (id, secret string) {
		out := mustRun(t, dir, "", "clients", "add", name, "--data-dir", dd)
		id, secret = field(out, "client_id"), field(out, "client_secret")
		if id == "" || secret == "" {
			t.Fatalf("clients add: %q", out)
		}
		for _, u := range urls {
			// Each instance has the client cached, with this secret its
			// only one.
			expect(t, name+" before the rotation", formCall(t, u+"/oauth/token", cc, id, secret), 200)
		}
		return id, secret
	}
	rotate := func(name string, grace time.Duration) string {
		s := field(mustRun(t, dir, "", "clients", "rotate-secret", name, "--data-dir", dd, "--grace", grace.String()), "client_secret")
		if s == "" {
			t.Fatalf("rotate-secret %s: no secret", name)
		}
		return s
	}
	graceID, graceOld := add("grace")
	noneID, noneOld := add("none")
	twiceID, twiceOld := add("twice")

	// The grace ends between before+grace and after+grace (stored to the
	// millisecond, rounded down). Rotations of the others follow.
	const grace = clientCacheTTL + 500*time.Millisecond
	before := time.Now()
	graceNew := rotate("grace", grace)
	graceAfter := time.Now()
	noneNew := rotate("none", 0)
	noneAfter := time.Now()
	twiceBefore := time.Now()
	twiceMid := rotate("twice", time.Hour)
	twiceNew := rotate("twice", time.Hour)
	twiceAfter := time.Now()

	var wg sync.WaitGroup
	for _, c := range []struct {
		what, id, secret string
		works, refused   time.Time
	}{
		{"the secret replaced with a grace", graceID, graceOld, before.Add(grace - time.Millisecond), graceAfter.Add(grace)},
		{"the secret replaced without grace", noneID, noneOld, graceAfter, noneAfter.Add(clientCacheTTL)},
		{"the secret two rotations ago", twiceID, twiceOld, twiceBefore, twiceAfter.Add(clientCacheTTL)},
	} {
		wg.Go(func() {
			tries := hammerSecret(t, urls, c.id, c.secret, c.refused.Add(300*time.Millisecond))
			secretEnds(t, c.what, tries, c.works, c.refused)
		})
	}
	wg.Wait()
	for _, u := range urls {
		for _, s := range []struct{ what, id, secret string }{
			{"the secret after a grace", graceID, graceNew},
			{"the secret after no grace", noneID, noneNew},
			{"the secret one rotation ago", twiceID, twiceMid},
			{"the newest secret", twiceID, twiceNew},
		} {
			expect(t, s.what, formCall(t, u+"/oauth/token", cc, s.id, s.secret), 200)
		}
	}
}
