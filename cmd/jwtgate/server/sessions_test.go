package server

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// sessionStores are the revocation stores the session tests run on: nil
// is the data directory's (SQLite).
var sessionStores = []struct {
	name string
	open func(t *testing.T) revoke.Store
}{
	{"memory", func(*testing.T) revoke.Store { return revoke.NewMemory(revoke.MemoryOptions{}) }},
	{"sqlite", func(*testing.T) revoke.Store { return nil }},
	{"postgres", func(t *testing.T) revoke.Store {
		st, err := Open(context.Background(), StoreConfig{DatabaseURL: needPostgres(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.Revocations
	}},
	{"redis", func(t *testing.T) revoke.Store {
		redistest.Redis(t, rueidis.ClientOption{})
		st, err := Open(context.Background(), StoreConfig{DataDir: t.TempDir(), Redis: redistest.RedisAddr(),
			RedisPrefix: "jwtgate-test-" + rand.Text() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.Revocations
	}},
}

// refresh presents a refresh token and returns the new pair.
func (f *fixture) refresh(t *testing.T, refresh string) (string, string) {
	t.Helper()
	r := f.do(t, "POST", "/refresh", "", "", bearer(refresh)...)
	wantStatus(t, "refresh", r, 200)
	access, _ := r.body["access_token"].(string)
	next, _ := r.body["refresh_token"].(string)
	if access == "" || next == "" {
		t.Fatalf("refresh: missing tokens: %s", r.raw)
	}
	return access, next
}

func (f *fixture) wantAccess(t *testing.T, what, access string, status int) {
	t.Helper()
	wantStatus(t, what, f.do(t, "GET", "/userinfo", "", "", bearer(access)...), status)
}

func (f *fixture) wantRefresh(t *testing.T, what, refresh string, status int) {
	t.Helper()
	wantStatus(t, what, f.do(t, "POST", "/refresh", "", "", bearer(refresh)...), status)
}

// TestSessions: on every store, a session is one refresh family, and
// ending it (reuse, /logout with any of its access tokens) refuses every
// access and refresh token of it, and nothing else.
func TestSessions(t *testing.T) {
	for _, store := range sessionStores {
		t.Run(store.name, func(t *testing.T) {
			f := newFixtureStore(t, store.open(t))

			t.Run("ReuseEndsTheSession", func(t *testing.T) {
				a1, r1 := f.login(t, "alice", testPassword)
				a2, r2 := f.refresh(t, r1)
				other, _ := f.login(t, "alice", testPassword)
				f.wantAccess(t, "A1 before reuse", a1, 200)
				f.wantAccess(t, "A2 before reuse", a2, 200)
				f.wantRefresh(t, "R1 again (reuse)", r1, 401)
				f.wantAccess(t, "A1 after reuse", a1, 401)
				f.wantAccess(t, "A2 after reuse", a2, 401)
				f.wantRefresh(t, "R2 after reuse", r2, 401)
				f.wantAccess(t, "another session after reuse", other, 200)
			})

			t.Run("LogoutEndsTheSession", func(t *testing.T) {
				a1, r1 := f.login(t, "alice", testPassword)
				a2, r2 := f.refresh(t, r1)
				other, otherR := f.login(t, "alice", testPassword)
				wantStatus(t, "logout with A2", f.do(t, "POST", "/logout", "", "", bearer(a2)...), 200)
				f.wantAccess(t, "A2 after logout", a2, 401)
				f.wantAccess(t, "A1 after logout with A2", a1, 401)
				f.wantRefresh(t, "R2 after logout", r2, 401)
				f.wantRefresh(t, "R1 after logout", r1, 401)
				f.wantAccess(t, "another session after logout", other, 200)
				f.refresh(t, otherR)
			})

			t.Run("LogoutBeforeAnyRefresh", func(t *testing.T) {
				// The store has never seen this session's family.
				a1, r1 := f.login(t, "alice", testPassword)
				wantStatus(t, "logout", f.do(t, "POST", "/logout", "", "", bearer(a1)...), 200)
				f.wantRefresh(t, "R1 after logout", r1, 401)
				f.wantAccess(t, "A1 after logout", a1, 401)
			})

			t.Run("Cookies", func(t *testing.T) {
				c1 := f.cookieLogin(t)
				c2 := f.cookieRefresh(t, c1)
				// Replaying the first refresh cookie ends the session.
				wantStatus(t, "reuse by cookie", f.do(t, "POST", "/refresh", "", "", c1.refreshHeaders()...), 401)
				wantStatus(t, "first access cookie after reuse", f.do(t, "GET", "/userinfo", "", "", c1.accessHeaders()...), 401)
				wantStatus(t, "second access cookie after reuse", f.do(t, "GET", "/userinfo", "", "", c2.accessHeaders()...), 401)

				d1 := f.cookieLogin(t)
				d2 := f.cookieRefresh(t, d1)
				wantStatus(t, "logout by cookie", f.do(t, "POST", "/logout", "", "", d2.accessHeaders()...), 200)
				wantStatus(t, "older access cookie after logout", f.do(t, "GET", "/userinfo", "", "", d1.accessHeaders()...), 401)
				wantStatus(t, "refresh cookie after logout", f.do(t, "POST", "/refresh", "", "", d2.refreshHeaders()...), 401)
			})

			t.Run("TokensInFlight", func(t *testing.T) {
				// Tokens made before sessions had sid: refresh tokens with
				// fam (or none, the first of a family), access tokens with
				// rfam and rjti. Logout with such an access token ends the
				// family.
				ctx := context.Background()
				g := f.s.Gate()
				refresh, err := g.CreateRefreshToken(ctx, "alice")
				if err != nil {
					t.Fatal(err)
				}
				rjti, err := g.JTIOf(ctx, refresh)
				if err != nil {
					t.Fatal(err)
				}
				access, err := g.CreateAccessToken(ctx, "alice", jwtgate.WithClaims(map[string]any{"rfam": rjti, "rjti": rjti}))
				if err != nil {
					t.Fatal(err)
				}
				f.wantAccess(t, "old access token", access, 200)
				a2, r2 := f.refresh(t, refresh) // new tokens carry sid = the old family
				wantStatus(t, "logout with the old access token", f.do(t, "POST", "/logout", "", "", bearer(access)...), 200)
				f.wantAccess(t, "refreshed access token after logout", a2, 401)
				f.wantRefresh(t, "refreshed refresh token after logout", r2, 401)
			})

			// Last: these cut off every token of the user issued until
			// now, including this second.
			t.Run("LogoutAll", func(t *testing.T) {
				a1, r1 := f.login(t, "alice", testPassword)
				a2, r2 := f.refresh(t, r1)
				b1, s1 := f.login(t, "alice", testPassword)
				wantStatus(t, "logout/all", f.do(t, "POST", "/logout/all", "", "", bearer(a2)...), 200)
				for name, tok := range map[string]string{"A1": a1, "A2": a2, "B1": b1} {
					f.wantAccess(t, name+" after logout/all", tok, 401)
				}
				f.wantRefresh(t, "R2 after logout/all", r2, 401)
				f.wantRefresh(t, "S1 after logout/all", s1, 401)
			})
		})
	}
}

// TestPasswdEndsSessions: what "jwtgate users passwd" and "users delete"
// do after changing the user store (Stores.EndSessions) refuses every
// access and refresh token of every session of the user, on every store.
func TestPasswdEndsSessions(t *testing.T) {
	for _, store := range sessionStores {
		t.Run(store.name, func(t *testing.T) {
			f := newFixtureStore(t, store.open(t))
			ctx := context.Background()
			if err := f.data.Users.Add(ctx, "bob", testPassword); err != nil {
				t.Fatal(err)
			}
			st := &Stores{Users: f.data.Users, Revocations: f.rev, Sessions: f.data.Sessions, Audit: f.data.Audit}
			a1, r1 := f.login(t, "alice", testPassword)
			a2, r2 := f.refresh(t, r1)
			b1, s1 := f.login(t, "alice", testPassword)
			bob, bobR := f.login(t, "bob", testPassword)

			if err := st.Users.SetPassword(ctx, "alice", "another password"); err != nil {
				t.Fatal(err)
			}
			if err := st.EndSessions(ctx, "alice", 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{"A1": a1, "A2": a2, "B1": b1} {
				f.wantAccess(t, name+" after passwd", tok, 401)
			}
			f.wantRefresh(t, "R2 after passwd", r2, 401)
			f.wantRefresh(t, "S1 after passwd", s1, 401)
			// Another user is untouched.
			f.wantAccess(t, "bob after alice's passwd", bob, 200)
			f.refresh(t, bobR)
		})
	}
}

// cookieSession holds the cookies of a cookie-mode login.
type cookieSession map[string]string

func (c cookieSession) header(names ...string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+c[n])
	}
	return strings.Join(parts, "; ")
}

func (c cookieSession) accessHeaders() []string {
	return []string{"Cookie", c.header("access_token_cookie", "csrf_access_token"), "X-CSRF-TOKEN", c["csrf_access_token"]}
}

func (c cookieSession) refreshHeaders() []string {
	return []string{"Cookie", c.header("refresh_token_cookie", "csrf_refresh_token"), "X-CSRF-TOKEN", c["csrf_refresh_token"]}
}

func cookiesOf(t *testing.T, r reply) cookieSession {
	t.Helper()
	c := cookieSession{}
	for _, k := range (&http.Response{Header: r.header}).Cookies() {
		c[k.Name] = k.Value
	}
	for _, n := range []string{"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"} {
		if c[n] == "" {
			t.Fatalf("cookie %s missing: %v", n, r.header["Set-Cookie"])
		}
	}
	return c
}

func (f *fixture) cookieLogin(t *testing.T) cookieSession {
	t.Helper()
	r := f.do(t, "POST", "/login?cookies=1", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
	wantStatus(t, "cookie login", r, 200)
	return cookiesOf(t, r)
}

func (f *fixture) cookieRefresh(t *testing.T, c cookieSession) cookieSession {
	t.Helper()
	r := f.do(t, "POST", "/refresh", "", "", c.refreshHeaders()...)
	wantStatus(t, "refresh by cookie", r, 200)
	return cookiesOf(t, r)
}

// cutoffAtRotate is a revocation store on which a subject cutoff
// (POST /logout/all, jwtgate users passwd) lands while a refresh is under
// way: after the refresh token's revocation check, before its rotation.
type cutoffAtRotate struct {
	revoke.Store
	subject string
}

func (s *cutoffAtRotate) Rotate(ctx context.Context, family, oldJTI, newJTI string, until time.Time) error {
	if err := revoke.LogoutEverywhere(ctx, s.Store, s.subject, time.Now(), time.Hour); err != nil {
		return err
	}
	return s.Store.Rotate(ctx, family, oldJTI, newJTI, until)
}

// TestRefreshRacingCutoff: a refresh whose check passed just before the
// user's sessions were all ended (a password change, say) does not hand
// out tokens that outlive it: the session it continues is one of those
// ended.
func TestRefreshRacingCutoff(t *testing.T) {
	for _, store := range sessionStores[:2] { // memory, SQLite
		t.Run(store.name, func(t *testing.T) {
			f := newFixtureStore(t, store.open(t))
			a1, r1 := f.login(t, "alice", testPassword)
			s, err := New(Config{Users: f.data.Users, Revocations: &cutoffAtRotate{f.rev, "alice"}, Keys: f.s.cfg.Keys,
				Algorithm: f.s.cfg.Algorithm, Issuer: f.srv.URL, Logger: f.s.log})
			if err != nil {
				t.Fatal(err)
			}
			f.s.mux = s.mux // the same service, on the store that races
			r := f.do(t, "POST", "/refresh", "", "", bearer(r1)...)
			if r.status == 200 {
				a2, _ := r.body["access_token"].(string)
				r2, _ := r.body["refresh_token"].(string)
				f.wantAccess(t, "access token of the refresh that raced the cutoff", a2, 401)
				f.wantRefresh(t, "refresh token of the refresh that raced the cutoff", r2, 401)
			} else {
				wantStatus(t, "refresh racing the cutoff", r, 401)
			}
			f.wantAccess(t, "access token before the cutoff", a1, 401)
		})
	}
}

// cutoffAtLookup is a user store whose user's sessions all end (a
// password change, jwtgate users passwd) right after it gave the hash a
// login checks.
type cutoffAtLookup struct {
	*SQLUsers
	rev revoke.Store
}

func (u *cutoffAtLookup) PasswordHash(ctx context.Context, name string) (string, bool, error) {
	h, ok, err := u.SQLUsers.PasswordHash(ctx, name)
	if err == nil {
		err = revoke.LogoutEverywhere(ctx, u.rev, name, time.Now(), time.Hour)
	}
	return h, ok, err
}

// TestLoginRacingCutoff: a login that read the user's password hash just
// before all of the user's sessions were ended (the password changed,
// the user deleted) gets no tokens that outlive the end: it is refused.
func TestLoginRacingCutoff(t *testing.T) {
	for _, store := range sessionStores[:2] { // memory, SQLite
		t.Run(store.name, func(t *testing.T) {
			f := newFixtureStore(t, store.open(t))
			s, err := New(Config{Users: &cutoffAtLookup{f.data.Users, f.rev}, Revocations: f.rev, Keys: f.s.cfg.Keys,
				Algorithm: f.s.cfg.Algorithm, Issuer: f.srv.URL, Logger: f.s.log})
			if err != nil {
				t.Fatal(err)
			}
			f.s.mux = s.mux // the same service, with the user store that races
			for _, path := range []string{"/login", "/auth"} {
				r := f.do(t, "POST", path, "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
				if r.status == 200 {
					a, _ := r.body["access_token"].(string)
					f.wantAccess(t, path+": access token of the login that raced the cutoff", a, 401)
					if rt, _ := r.body["refresh_token"].(string); rt != "" {
						f.wantRefresh(t, path+": refresh token of the login that raced the cutoff", rt, 401)
					}
				} else {
					wantStatus(t, path+" racing the cutoff", r, 401)
				}
			}
		})
	}
}

// cutoffAfterCheck is a revocation store where every session of a user
// ends (jwtgate users passwd run elsewhere) just after the store answered
// a sign-in's first question about the user: the cutoff is stored before
// the sign-in makes its tokens, but was not there when it asked.
type cutoffAfterCheck struct {
	revoke.Store
	asked bool
}

func (c *cutoffAfterCheck) SubjectCutoff(ctx context.Context, subject string) (time.Time, error) {
	cutoff, err := c.Store.SubjectCutoff(ctx, subject)
	if err == nil && !c.asked {
		c.asked = true
		err = revoke.LogoutEverywhere(ctx, c.Store, subject, time.Now(), time.Hour)
	}
	return cutoff, err
}

// TestSignInCutoffAfterCheck: a sign-in that found no cutoff before it
// made its tokens, but whose user's sessions were ended before they were
// made, sends none (401): it asks again once they are made, so no token
// it sends is issued after a cutoff it did not see.
func TestSignInCutoffAfterCheck(t *testing.T) {
	for _, path := range []string{"/login", "/auth"} {
		t.Run(path, func(t *testing.T) {
			f := newFixtureStore(t, revoke.NewMemory(revoke.MemoryOptions{}))
			s, err := New(Config{Users: f.data.Users, Revocations: &cutoffAfterCheck{Store: f.rev}, Keys: f.s.cfg.Keys,
				Algorithm: f.s.cfg.Algorithm, Issuer: f.srv.URL, Logger: f.s.log})
			if err != nil {
				t.Fatal(err)
			}
			f.s.mux = s.mux
			r := f.do(t, "POST", path, "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
			wantStatus(t, path+" whose user's sessions ended after its first check", r, 401)
			if _, ok := r.body["access_token"]; ok {
				t.Fatalf("%s: tokens sent with the refusal: %v", path, r.body)
			}
			r = f.do(t, "POST", path, "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
			wantStatus(t, path+" after the cutoff", r, 200)
			// Each sign-in is counted once, by what it got.
			r = f.do(t, "GET", "/metrics", "", "")
			wantStatus(t, "metrics", r, 200)
			for _, line := range []string{`jwtgate_logins_total{outcome="ok"} 1`, `jwtgate_logins_total{outcome="sessions_ended"} 1`} {
				if !strings.Contains(r.raw, line+"\n") {
					t.Errorf("metrics: no line %q in\n%s", line, r.raw)
				}
			}
		})
	}
}

// TestAuthTokenSessions: an access token of Flask-JWT's endpoint (/auth)
// has no refresh token and no session of its own: POST /logout with it
// ends that token alone, and the user's cutoffs (POST /logout/all, users
// passwd and delete) end it like every other token of the user.
func TestAuthTokenSessions(t *testing.T) {
	f := newFixture(t)
	auth := func() string {
		t.Helper()
		r := f.do(t, "POST", "/auth", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
		wantStatus(t, "auth", r, 200)
		tok, _ := r.body["access_token"].(string)
		return tok
	}
	t1, t2 := auth(), auth()
	a, r := f.login(t, "alice", testPassword)
	wantStatus(t, "logout with an /auth token", f.do(t, "POST", "/logout", "", "", bearer(t1)...), 200)
	f.wantAccess(t, "the /auth token after its logout", t1, 401)
	f.wantAccess(t, "another /auth token", t2, 200)
	f.wantAccess(t, "a session's access token", a, 200)
	a, r = f.refresh(t, r)

	wantStatus(t, "logout/all with an /auth token", f.do(t, "POST", "/logout/all", "", "", bearer(t2)...), 200)
	f.wantAccess(t, "the /auth token after logout/all", t2, 401)
	f.wantAccess(t, "a session's access token after logout/all", a, 401)
	f.wantRefresh(t, "a session's refresh token after logout/all", r, 401)
	f.wantAccess(t, "an /auth token after logout/all", auth(), 200)
}
