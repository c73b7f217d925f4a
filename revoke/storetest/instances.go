package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// Instance is one service instance in a test: a Gate whose revocations go
// to Store, behind an httptest server with these routes:
//
//	POST /login?user=U   -> {"access_token","refresh_token"}, a new session
//	GET  /protected      -> 200 with a valid access token
//	POST /logout         -> ends the access token's session
//	POST /logout-all     -> revokes every token of the user
//	POST /refresh        -> rotates the refresh token: {"access_token","refresh_token"}
//	                        in the same session
type Instance struct {
	Gate   *jwtgate.Gate
	Store  revoke.Store
	Server *httptest.Server
}

// secret is shared by every instance, as keys are by real replicas.
var secret = []byte("storetest-shared-secret-0123456789abcdef")

// NewInstance starts an instance over s; it stops when t ends.
func NewInstance(t testing.TB, s revoke.Store) *Instance {
	t.Helper()
	key, err := jwt.NewHMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{
		SigningKey:     key,
		IsRevoked:      revoke.Check(s, revoke.CheckOptions{Timeout: time.Second}),
		RequiredClaims: []string{"exp", "iat", "jti"},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := &Instance{Gate: g, Store: s}
	mux := http.NewServeMux()
	pair := func(w http.ResponseWriter, r *http.Request, user, sid, refresh string) {
		access, err := g.CreateAccessToken(r.Context(), user, revoke.InSession(sid))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": access, "refresh_token": refresh})
	}
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		sid, err := revoke.NewSession()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		refresh, err := g.CreateRefreshToken(r.Context(), user, revoke.InSession(sid))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		pair(w, r, user, sid, refresh)
	})
	mux.Handle("GET /protected", g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtgate.TokenFrom(r.Context())
		_, _ = io.WriteString(w, tok.Identity)
	})))
	mux.Handle("POST /logout", g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtgate.TokenFrom(r.Context())
		if err := revoke.EndSession(r.Context(), s, tok, time.Now(), 30*24*time.Hour); err != nil {
			g.WriteError(w, r, jwtgate.NewError(jwtgate.ErrUnavailable, "Logout failed", err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("POST /logout-all", g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtgate.TokenFrom(r.Context())
		if err := revoke.LogoutEverywhere(r.Context(), s, tok.Identity, time.Now(), 30*24*time.Hour); err != nil {
			g.WriteError(w, r, jwtgate.NewError(jwtgate.ErrUnavailable, "Logout failed", err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("POST /refresh", g.Refresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtgate.TokenFrom(r.Context())
		user := tok.Identity
		sid, err := revoke.SessionOf(tok)
		if err != nil {
			g.WriteError(w, r, jwtgate.NewError(jwtgate.ErrInvalid, "Invalid session", err))
			return
		}
		refresh, err := revoke.RotateRefresh(r.Context(), s, g, tok, user)
		if err != nil {
			var ge *jwtgate.Error
			if !errors.As(err, &ge) {
				err = jwtgate.NewError(jwtgate.ErrUnavailable, "Refresh failed", err)
			}
			g.WriteError(w, r, err)
			return
		}
		pair(w, r, user, sid, refresh)
	})))
	in.Server = httptest.NewServer(mux)
	t.Cleanup(in.Server.Close)
	return in
}

// Do sends a request with a bearer token and returns the status and body.
func (in *Instance) Do(t testing.TB, method, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, in.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := in.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Login returns an access and a refresh token for user.
func (in *Instance) Login(t testing.TB, path, user string) (access, refresh string) {
	t.Helper()
	code, body := in.Do(t, "POST", path+"?user="+user, "")
	return decodePair(t, code, body)
}

func decodePair(t testing.TB, code int, body string) (string, string) {
	t.Helper()
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var p struct{ Access, Refresh string }
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	p.Access, p.Refresh = m["access_token"], m["refresh_token"]
	return p.Access, p.Refresh
}

// RunInstances checks two instances with separate store handles over the
// same data (two processes sharing Redis or PostgreSQL): a logout made
// through one ends the whole session on the other (the delay is logged,
// not asserted), "logout everywhere" likewise, and a refresh token rotated
// on one is detected as reused on the other, which refuses every access
// and refresh token of its session on both.
func RunInstances(t *testing.T, a, b revoke.Store) {
	A, B := NewInstance(t, a), NewInstance(t, b)
	user := ID("user")

	access, refresh := A.Login(t, "/login", user)
	for _, in := range []*Instance{A, B} {
		if code, body := in.Do(t, "GET", "/protected", access); code != 200 || body != user {
			t.Fatalf("before logout: %d %s", code, body)
		}
	}
	// A second access token of the same session, made by a refresh.
	code, body := A.Do(t, "POST", "/refresh", refresh)
	access1b, refresh1b := decodePair(t, code, body)
	// Logout on A with the newest access token, refused on B: the older
	// access token and the session's refresh token too.
	if code, body := A.Do(t, "POST", "/logout", access1b); code != 204 {
		t.Fatalf("logout on A: %d %s", code, body)
	}
	start := time.Now()
	waitRefused(t, B, access1b, start, "logout on A")
	waitRefused(t, B, access, start, "logout on A, an older access token of the session")
	if code, body := B.Do(t, "POST", "/refresh", refresh1b); code != 401 {
		t.Fatalf("the session's refresh token after logout: %d %s; want 401", code, body)
	}

	// Logout everywhere on B, refused on A (both the access and refresh
	// tokens issued before).
	access2, refresh2 := B.Login(t, "/login", ID("u2"))
	if code, body := B.Do(t, "POST", "/logout-all", access2); code != 204 {
		t.Fatalf("logout-all on B: %d %s", code, body)
	}
	waitRefused(t, A, access2, time.Now(), "logout everywhere on B")
	if code, _ := A.Do(t, "POST", "/refresh", refresh2); code != 401 {
		t.Fatalf("refresh after logout everywhere: %d, want 401", code)
	}

	// Rotation on A, reuse detected on B: login (A1, R1), refresh (A2, R2),
	// R1 again.
	a1, r1 := A.Login(t, "/login", user)
	code, body = A.Do(t, "POST", "/refresh", r1)
	a2, r2 := decodePair(t, code, body)
	code, body = B.Do(t, "POST", "/refresh", r1) // the old one again
	if code != 401 || !strings.Contains(strings.ToLower(body), "reused") {
		t.Fatalf("reuse on B: %d %s; want 401 reused", code, body)
	}
	// The session is dead: its access tokens and its newest refresh token
	// are refused everywhere.
	start = time.Now()
	for _, in := range []*Instance{A, B} {
		waitRefused(t, in, a1, start, "reuse on B, A1")
		waitRefused(t, in, a2, start, "reuse on B, A2")
		if code, body := in.Do(t, "POST", "/refresh", r2); code != 401 {
			t.Fatalf("newest token after reuse: %d %s; want 401", code, body)
		}
	}
	// Another session of the same user is untouched.
	a3, _ := B.Login(t, "/login", user)
	for _, in := range []*Instance{A, B} {
		if code, body := in.Do(t, "GET", "/protected", a3); code != 200 {
			t.Fatalf("another session after reuse: %d %s; want 200", code, body)
		}
	}

	// Single-use ids: used on one instance, refused on the other, and
	// exactly one first when both race for the same id.
	oa, okA := a.(revoke.OneTimeStore)
	ob, okB := b.(revoke.OneTimeStore)
	if !okA || !okB {
		t.Logf("%T or %T does not implement revoke.OneTimeStore: single-use ids not tested", a, b)
		return
	}
	until := time.Now().Add(time.Hour)
	id := ID("id")
	for i, c := range []struct {
		o    revoke.OneTimeStore
		want bool
	}{{oa, true}, {ob, false}, {oa, false}} {
		first, err := c.o.Use(context.Background(), id, until)
		if err != nil || first != c.want {
			t.Fatalf("Use %d of one id, alternating instances = %v, %v; want %v", i, first, err, c.want)
		}
	}
	RaceOneTime(t, []revoke.OneTimeStore{oa, ob}, until)
}

func waitRefused(t *testing.T, in *Instance, token string, start time.Time, what string) {
	t.Helper()
	// Bounded polling, no wall-clock limit: the time it took is logged.
	for range 5000 {
		code, body := in.Do(t, "GET", "/protected", token)
		if code == 401 {
			t.Logf("%s: refused on the other instance after %v", what, time.Since(start))
			return
		}
		if code != 200 {
			t.Fatalf("%s: status %d %s", what, code, body)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: still accepted on the other instance after 5000 polls", what)
}

// SlowStore delays every call by Delay (or until the context ends), to
// test timeouts.
type SlowStore struct {
	revoke.Store
	Delay time.Duration
}

func (s SlowStore) wait(ctx context.Context) error {
	select {
	case <-time.After(s.Delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Revoked implements revoke.Store, slowly.
func (s SlowStore) Revoked(ctx context.Context, jti string) (bool, error) {
	if err := s.wait(ctx); err != nil {
		return false, err
	}
	return s.Store.Revoked(ctx, jti)
}

// FamilyRevoked implements revoke.Store, slowly.
func (s SlowStore) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	if err := s.wait(ctx); err != nil {
		return false, err
	}
	return s.Store.FamilyRevoked(ctx, family)
}

// SubjectCutoff implements revoke.Store, slowly.
func (s SlowStore) SubjectCutoff(ctx context.Context, sub string) (time.Time, error) {
	if err := s.wait(ctx); err != nil {
		return time.Time{}, err
	}
	return s.Store.SubjectCutoff(ctx, sub)
}

// RunFaults checks that a store that cannot answer (down) and one that
// answers too slowly make the Gate refuse with 503, and that a store that
// works lets the request through. down is a store whose server is
// unreachable or whose connection is closed.
func RunFaults(t *testing.T, working, down revoke.Store) {
	user := ID("user")
	good := NewInstance(t, working)
	access, _ := good.Login(t, "/login", user)
	if code, body := good.Do(t, "GET", "/protected", access); code != 200 {
		t.Fatalf("working store: %d %s", code, body)
	}
	if code, body := NewInstance(t, down).Do(t, "GET", "/protected", access); code != 503 {
		t.Fatalf("store down: %d %s; want 503", code, body)
	}
	// A single-use id cannot be recorded: an error, never first.
	if o, ok := down.(revoke.OneTimeStore); ok {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if first, err := o.Use(c, ID("id"), time.Now().Add(time.Hour)); first || err == nil {
			t.Fatalf("Use on a store that is down = %v, %v; want false and an error", first, err)
		}
	}
	// The slow store would answer "not revoked" after its delay; only the
	// Check timeout turns that into a 503, so the status proves it applied.
	slow := NewInstance(t, SlowStore{Store: working, Delay: 5 * time.Second})
	if code, body := slow.Do(t, "GET", "/protected", access); code != 503 {
		t.Fatalf("slow store: %d %s; want 503", code, body)
	}
}
