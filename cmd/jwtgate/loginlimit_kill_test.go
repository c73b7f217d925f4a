package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// killedAttemptTTL is how long a reservation whose instance died lasts:
// the server's attemptTTL (requestTimeout + 5 s), as docs/SECURITY.md
// gives it. The test waits on states, never on this; it only bounds the
// waits, generously, so that a reservation that never expires fails the
// test instead of hanging it.
const killedAttemptTTL = 15 * time.Second

// TestServeLoginKilledMidAttempt: two instances share the login limiter
// in Redis with a budget of one failure. A guess sent to A is frozen
// mid-attempt (SIGSTOP once its reservation is in Redis, in the client
// address's bucket and in the username's) and A is killed (SIGKILL), so
// the attempt never settles. While its reservation lives, B checks no
// password for that user: a guess and the right password both wait for
// the attempt in flight and get 503, not 401 or 200. Once it has expired
// (attemptTTL, on Redis's clock: a sign-in seen before that was granted
// early), the right password signs in on B, and the dead instance's guess
// was not counted as a failure: the budget is whole, so a wrong password
// gets 401, after which the right one gets 429 (that failure spent the
// budget of one).
func TestServeLoginKilledMidAttempt(t *testing.T) {
	env := sharedStores(t)
	var prefix string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "JWTGATE_REDIS_PREFIX="); ok {
			prefix = v
		}
	}
	rc := redistest.Redis(t, rueidis.ClientOption{DisableCache: true})
	userKey, ipKey := prefix+"rl:user:admin", prefix+"rl:ip:127.0.0.1"
	// reservations returns the attempts in flight on key: field (a:<id>)
	// -> expiry (Unix µs, Redis's clock).
	reservations := func(key string) map[string]int64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		m, err := rc.Do(ctx, rc.B().Hgetall().Key(key).Build()).AsStrMap()
		if err != nil {
			t.Fatalf("HGETALL %s: %v", key, err)
		}
		held := map[string]int64{}
		for f, v := range m {
			if strings.HasPrefix(f, "a:") {
				e, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s: reservation %s=%q", key, f, v)
				}
				held[f] = e
			}
		}
		return held
	}
	redisNow := func() int64 { // Redis's clock, Unix µs
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		v, err := rc.Do(ctx, rc.B().Time().Build()).AsStrSlice()
		if err != nil || len(v) != 2 {
			t.Fatalf("TIME: %v %v", v, err)
		}
		s, err1 := strconv.ParseInt(v[0], 10, 64)
		us, err2 := strconv.ParseInt(v[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("TIME: %v", v)
		}
		return s*1_000_000 + us
	}
	exists := func(key string) bool {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		n, err := rc.Do(ctx, rc.B().Exists().Key(key).Build()).AsInt64()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", key, err)
		}
		return n == 1
	}

	args := []string{"-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example", "-login-burst", "1"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	if pw == "" {
		t.Fatalf("no admin password in the log:\n%s", a.Logs())
	}
	b := startServe(t, env, args...)
	right := `{"username":"admin","password":"` + pw + `"}`
	const wrong = `{"username":"admin","password":"a wrong guess"}`

	// The guess on A, frozen once its reservation is in Redis: the
	// argon2id hash that follows takes tens of milliseconds. If A settled
	// it before it was frozen (it answered), the guess spent the budget:
	// it is sent again once both buckets are full again (their keys
	// expire then).
	var field string
	var expiry int64
	var answered <-chan struct{}
	var reply func() (answer, error) // A's answer to the frozen guess, once answered is closed
	for try := 0; field == ""; try++ {
		if try == 5 {
			t.Fatal("every guess on A was settled before A could be frozen mid-attempt")
		}
		done := make(chan struct{})
		var got answer
		var gotErr error
		go func() {
			defer close(done)
			got, gotErr = tryCall("POST", a.url+"/login", "", wrong)
		}()
		var seen map[string]int64
	poll:
		for len(seen) == 0 {
			select {
			case <-done:
				break poll
			default:
			}
			if seen = reservations(userKey); len(seen) == 0 {
				time.Sleep(200 * time.Microsecond)
			}
		}
		if len(seen) > 0 {
			if err := a.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			// Still there once A is frozen: A cannot settle it any more.
			now, held, heldIP := redisNow(), reservations(userKey), reservations(ipKey)
			if len(held) > 1 {
				t.Fatalf("%d attempts in flight on %s, want the guess's only: %v", len(held), userKey, held)
			}
			for f, e := range held {
				if _, ok := heldIP[f]; !ok {
					t.Fatalf("the guess holds a token of %s (%s) but none of %s: %v", userKey, f, ipKey, heldIP)
				}
				// It lasts attemptTTL on Redis's clock, no more.
				if e <= now || e > now+killedAttemptTTL.Microseconds() {
					t.Fatalf("reservation %s expires at %d µs, Redis's clock says %d µs: want within %v", f, e, now, killedAttemptTTL)
				}
				field, expiry = f, e
				answered, reply = done, func() (answer, error) { return got, gotErr }
			}
			if field != "" {
				break
			}
			if err := a.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
		}
		<-done
		if gotErr != nil || got.status != 401 {
			t.Fatalf("the guess on A, settled before the freeze: %d %v: %s", got.status, gotErr, got.raw)
		}
		t.Logf("guess %d was settled before A was frozen; trying again once the budget is whole", try)
		for i := 0; exists(userKey) || exists(ipKey); i++ {
			if i == 400 {
				t.Fatal("the limiter's keys never expired after the guess settled")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	a.Kill(t)
	<-answered
	if got, err := reply(); err == nil {
		t.Fatalf("A answered the guess it was killed in the middle of: %d %s", got.status, got.raw)
	}
	t.Logf("A killed with reservation %s in flight, expiring at %d µs (Redis's clock)", field, expiry)
	if _, ok := reservations(userKey)[field]; !ok {
		t.Fatalf("the dead instance's reservation %s is gone from %s at once", field, userKey)
	}

	// While the reservation lives, B checks no password for admin: the
	// login waits for the attempt in flight (at most 5 s), then 503.
	busy := func(what string, got answer) {
		t.Helper()
		expect(t, what, got, 503)
		if str(got, "error") != "temporarily_unavailable" || !strings.Contains(str(got, "error_description"), "in flight") {
			t.Fatalf("%s: 503 for another reason: %s", what, got.raw)
		}
	}
	busy("a guess on B while the dead instance's attempt holds the token", call(t, "POST", b.url+"/login", "", wrong))
	if _, ok := reservations(userKey)[field]; !ok && redisNow() < expiry {
		t.Fatalf("the reservation %s vanished before its expiry", field)
	}

	// Once it expires, the right password signs in on B: asked again
	// until it is no longer in flight; no answer in between is anything
	// but that 503.
	// A sign-in answered while Redis's clock is still before the
	// reservation's expiry was granted early.
	deadline := time.Now().Add(4 * killedAttemptTTL) // a guard against hanging only
	for waits := 0; ; waits++ {
		sent := redisNow()
		got := call(t, "POST", b.url+"/login", "", right)
		if got.status != 503 {
			expect(t, "the right password on B once the dead instance's attempt expired", got, 200)
			if now := redisNow(); now < expiry {
				t.Fatalf("B signed in while the dead instance's reservation still lived (Redis's clock %d µs < expiry %d µs)", now, expiry)
			}
			t.Logf("the right password on B: 503 (attempt in flight) %d times, then signed in", waits)
			break
		}
		busy("the right password on B while the dead instance's attempt holds the token", got)
		if sent >= expiry {
			t.Fatalf("B still waited for the dead instance's attempt, asked after its expiry (%d µs ≥ %d µs)", sent, expiry)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead instance's reservation never expired:\n%s", b.Logs())
		}
	}
	if _, ok := reservations(userKey)[field]; ok {
		t.Fatalf("the dead instance's reservation %s is still on %s after B signed in", field, userKey)
	}
	if _, ok := reservations(ipKey)[field]; ok {
		t.Fatalf("the dead instance's reservation %s is still on %s after B signed in", field, ipKey)
	}

	// The dead guess spent nothing: the budget of one failure is whole,
	// and one failure spends it.
	expect(t, "a wrong password on B after the expiry: the budget is whole", call(t, "POST", b.url+"/login", "", wrong), 401)
	expect(t, "the right password on B after that failure spent the budget", call(t, "POST", b.url+"/login", "", right), 429)
	b.stop(t)
	if strings.Contains(b.Logs(), "level=ERROR") {
		t.Fatalf("errors logged by B:\n%s", b.Logs())
	}
}
