package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// newTokenFixture is newFixture with the Config adjusted by mutate (login
// limits off), and the signing key.
func newTokenFixture(t *testing.T, mutate func(*Config)) (*fixture, *jwt.Key) {
	t.Helper()
	return newFixtureWith(t, nil, func(c *Config) {
		c.LoginBurst = -1
		if mutate != nil {
			mutate(c)
		}
	})
}

// parts decodes a token's header and claims, unverified.
func parts(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	seg := strings.Split(tok, ".")
	if len(seg) != 3 {
		t.Fatalf("token %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(seg[i])
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestTokenTypes(t *testing.T) {
	f, key := newTokenFixture(t, nil)
	iss := f.srv.URL
	a, r := f.login(t, "alice", testPassword)
	ah, ac := parts(t, a)
	if ah["typ"] != "at+jwt" || ac["aud"] != iss || ac["iss"] != iss || ac["sub"] != "alice" || ac["type"] != nil {
		t.Errorf("access token %v %v", ah, ac)
	}
	for _, name := range []string{"exp", "iat", "jti"} {
		if ac[name] == nil {
			t.Errorf("access token without %s: %v", name, ac)
		}
	}
	rh, rc := parts(t, r)
	if rh["typ"] != "refresh+jwt" || rc["aud"] != iss+"/refresh" || rc["type"] != nil {
		t.Errorf("refresh token %v %v", rh, rc)
	}
	wantStatus(t, "userinfo with the access token", f.do(t, "GET", "/userinfo", "", "", bearer(a)...), 200)
	wantStatus(t, "userinfo with the refresh token", f.do(t, "GET", "/userinfo", "", "", bearer(r)...), 401)
	wantStatus(t, "logout with the refresh token", f.do(t, "POST", "/logout", "", "", bearer(r)...), 401)
	wantStatus(t, "refresh with the access token", f.do(t, "POST", "/refresh", "", "", bearer(a)...), 401)
	// A token of the shape made before RFC 9068 (typ JWT, a type claim,
	// no aud), signed with the service's own key, is refused.
	old, err := jwtgate.New(jwtgate.Config{SigningKey: key, Algorithm: jwt.ES256, Issuer: iss})
	if err != nil {
		t.Fatal(err)
	}
	for _, aud := range [][]string{nil, {iss}} {
		tok, err := old.CreateAccessToken(context.Background(), "alice", jwtgate.WithAudience(aud...))
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "userinfo with a typ JWT token", f.do(t, "GET", "/userinfo", "", "", bearer(tok)...), 401)
	}
	rr := f.do(t, "POST", "/refresh", "", "", bearer(r)...)
	wantStatus(t, "refresh", rr, 200)
	if _, c := parts(t, rr.body["access_token"].(string)); c["aud"] != iss {
		t.Errorf("refreshed access token aud %v", c["aud"])
	}
}

func TestAudienceSetting(t *testing.T) {
	const api = "https://api.example"
	f, _ := newTokenFixture(t, func(c *Config) { c.Audience = api })
	a, r := f.login(t, "alice", testPassword)
	if _, c := parts(t, a); c["aud"] != api {
		t.Errorf("access aud %v, want %s", c["aud"], api)
	}
	if _, c := parts(t, r); c["aud"] != f.srv.URL+"/refresh" {
		t.Errorf("refresh aud %v", c["aud"])
	}
	wantStatus(t, "userinfo", f.do(t, "GET", "/userinfo", "", "", bearer(a)...), 200)
	wantStatus(t, "refresh", f.do(t, "POST", "/refresh", "", "", bearer(r)...), 200)

	// The refresh endpoint as the access audience is refused, saying what
	// to change.
	data, err := OpenDataDir(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	k, _ := data.SigningKey(jwt.ES256, slog.New(slog.DiscardHandler))
	ring, _ := jwk.NewRing(jwk.RingOptions{}, k)
	for _, iss := range []string{"https://id.example", "https://id.example/"} {
		_, err = New(Config{Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: jwt.ES256,
			Issuer: iss, Audience: "https://id.example/refresh"})
		if err == nil || !strings.Contains(err.Error(), "--audience") {
			t.Errorf("issuer %s, audience its refresh endpoint: %v", iss, err)
		}
	}
}

// TestLogoutAllSameSecond puts /logout/all at several places in a second
// on a controlled clock: a token issued before it (in the same second
// too) is refused, a login after it (in the same second too) works.
func TestLogoutAllSameSecond(t *testing.T) {
	second := time.Now().Truncate(time.Second).Add(time.Hour) // far from the real clock
	var mu sync.Mutex
	now := second
	set := func(at time.Time) { mu.Lock(); now = at; mu.Unlock() }
	f, _ := newTokenFixture(t, func(c *Config) {
		c.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	ms := time.Millisecond
	for i, at := range []time.Duration{0, 400 * ms, 999 * ms} {
		second := second.Add(time.Duration(i) * 10 * time.Second)
		cutoff := second.Add(at)
		var before []string
		for _, d := range []time.Duration{-time.Second, -300 * ms, -ms, 0} {
			if cutoff.Add(d).Before(second.Add(-time.Second)) {
				continue
			}
			set(cutoff.Add(d))
			tok, _ := f.login(t, "alice", testPassword)
			before = append(before, tok)
		}
		set(cutoff)
		wantStatus(t, "logout/all", f.do(t, "POST", "/logout/all", "", "", bearer(before[len(before)-1])...), 200)
		var after []string
		for _, d := range []time.Duration{ms, 100 * ms, second.Add(time.Second).Sub(cutoff) - ms, second.Add(time.Second).Sub(cutoff)} {
			if d < ms {
				continue // the cutoff's own millisecond is refused (fail closed)
			}
			set(cutoff.Add(d))
			tok, _ := f.login(t, "alice", testPassword)
			after = append(after, tok)
		}
		set(second.Add(5 * time.Second))
		for _, tok := range before {
			wantStatus(t, "token from before /logout/all", f.do(t, "GET", "/userinfo", "", "", bearer(tok)...), 401)
		}
		for _, tok := range after {
			_, c := parts(t, tok)
			wantStatus(t, "login after /logout/all, iat "+string(c["iat"].(json.Number))+", cutoff "+cutoff.Format(time.RFC3339Nano),
				f.do(t, "GET", "/userinfo", "", "", bearer(tok)...), 200)
		}
	}
}

// TestLogoutAllThenLogin is the same on the system clock: each time, a
// login right after /logout/all works and a token from before is refused.
func TestLogoutAllThenLogin(t *testing.T) {
	f, _ := newTokenFixture(t, nil)
	const tries = 12
	var ok, refused int
	for range tries {
		old, _ := f.login(t, "alice", testPassword)
		wantStatus(t, "logout/all", f.do(t, "POST", "/logout/all", "", "", bearer(old)...), 200)
		fresh, _ := f.login(t, "alice", testPassword)
		if f.do(t, "GET", "/userinfo", "", "", bearer(fresh)...).status == 200 {
			ok++
		}
		if f.do(t, "GET", "/userinfo", "", "", bearer(old)...).status == 401 {
			refused++
		}
	}
	if ok != tries || refused != tries {
		t.Fatalf("of %d tries: %d logins after /logout/all worked, %d tokens from before were refused", tries, ok, refused)
	}
}

// TestClockSkew: a token from an instance whose clock is ahead (iat a
// little in the future) works at once, up to clockSkew.
func TestClockSkew(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	set := func(at time.Time) { mu.Lock(); now = at; mu.Unlock() }
	f, _ := newTokenFixture(t, func(c *Config) {
		c.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	start := now
	tests := []struct {
		ahead  time.Duration
		status int
	}{{3 * time.Millisecond, 200}, {clockSkew - time.Millisecond, 200}, {clockSkew + 100*time.Millisecond, 401}}
	for _, tt := range tests {
		set(start.Add(tt.ahead))
		tok, _ := f.login(t, "alice", testPassword)
		set(start)
		wantStatus(t, fmt.Sprintf("token from a clock %s ahead", tt.ahead), f.do(t, "GET", "/userinfo", "", "", bearer(tok)...), tt.status)
	}
}
