package revoke_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

func TestMemoryInstances(t *testing.T) {
	m := revoke.NewMemory(revoke.MemoryOptions{})
	storetest.RunInstances(t, m, m)
}

// downStore fails every call, as a store whose server is gone.
type downStore struct{ revoke.Store }

var errDown = errors.New("connection refused")

func (downStore) Revoked(context.Context, string) (bool, error) { return false, errDown }
func (downStore) FamilyRevoked(context.Context, string) (bool, error) {
	return false, errDown
}
func (downStore) SubjectCutoff(context.Context, string) (time.Time, error) {
	return time.Time{}, errDown
}

func TestMemoryFaults(t *testing.T) {
	m := revoke.NewMemory(revoke.MemoryOptions{})
	storetest.RunFaults(t, m, downStore{m})
}

func TestCheckMissingJTI(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, IsRevoked: revoke.Check(revoke.NewMemory(revoke.MemoryOptions{})), Profile: jwtgate.ProfileFlask})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	tok, err := s.Sign([]byte(`{"sub":"u","type":"access"}`))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, req)
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "Missing claim: jti") {
		t.Fatalf("token without jti: %d %s", rec.Code, rec.Body)
	}
}

func TestHelpers(t *testing.T) {
	ctx := context.Background()
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	m := revoke.NewMemory(revoke.MemoryOptions{})
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, IsRevoked: revoke.Check(m)})
	if err != nil {
		t.Fatal(err)
	}
	decode := func(s string) *jwtgate.Token {
		tok, err := g.DecodeToken(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	r0s, _ := g.CreateRefreshToken(ctx, "alice")
	r0 := decode(r0s)
	if fam, _ := revoke.FamilyOf(r0); fam != r0.Claims.ID {
		t.Fatalf("family of the first token = %q, want its jti", fam)
	}
	r1s, err := revoke.RotateRefresh(ctx, m, g, r0, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r1 := decode(r1s)
	if fam, _ := revoke.FamilyOf(r1); fam != r0.Claims.ID || r1.Claims.ID == r0.Claims.ID || r1.Identity != "alice" {
		t.Fatalf("rotated token: fam %q jti %q identity %q", fam, r1.Claims.ID, r1.Identity)
	}
	if _, err := revoke.RotateRefresh(ctx, m, g, r0, "alice"); !errors.Is(err, revoke.ErrReused) || !errors.Is(err, jwtgate.ErrRevoked) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := g.VerifyToken(ctx, r1s, jwtgate.RouteOptions{Refresh: true}); !errors.Is(err, jwtgate.ErrRevoked) {
		t.Fatalf("current token of a reused family: %v", err)
	}
	// An access token cannot be rotated.
	as, _ := g.CreateAccessToken(ctx, "bob")
	a := decode(as)
	if _, err := revoke.RotateRefresh(ctx, m, g, a, "bob"); !errors.Is(err, revoke.ErrInvalidArgument) {
		t.Fatalf("rotating an access token: %v", err)
	}
	// Logout, then logout everywhere.
	if err := revoke.Logout(ctx, m, a); err != nil {
		t.Fatal(err)
	}
	if _, err := g.VerifyToken(ctx, as, jwtgate.RouteOptions{}); !errors.Is(err, jwtgate.ErrRevoked) {
		t.Fatalf("after Logout: %v", err)
	}
	bs, _ := g.CreateAccessToken(ctx, "bob")
	if err := revoke.LogoutEverywhere(ctx, m, "bob", time.Now().Add(time.Second), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := g.VerifyToken(ctx, bs, jwtgate.RouteOptions{}); !errors.Is(err, jwtgate.ErrRevoked) {
		t.Fatalf("after LogoutEverywhere: %v", err)
	}
	if err := revoke.LogoutEverywhere(ctx, m, "bob", time.Now(), 0); !errors.Is(err, revoke.ErrInvalidArgument) {
		t.Fatalf("zero lifetime: %v", err)
	}
}

// mustKey is the tests' HMAC key.
func mustKey(t *testing.T) *jwt.Key {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sessionGate returns a Gate over a memory store, and a function making a
// token with the given claims, signed by the Gate's key and decoded.
func sessionGate(t *testing.T) (*jwtgate.Gate, *revoke.Memory, func(claims string) (string, *jwtgate.Token)) {
	t.Helper()
	key := mustKey(t)
	m := revoke.NewMemory(revoke.MemoryOptions{})
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, IsRevoked: revoke.Check(m)})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(claims string) (string, *jwtgate.Token) {
		t.Helper()
		exp := time.Now().Add(time.Hour).Unix()
		s, err := signer.Sign([]byte(`{"sub":"alice","iat":` + strconv.FormatInt(time.Now().Unix(), 10) +
			`,"exp":` + strconv.FormatInt(exp, 10) + `,` + claims + `}`))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := g.DecodeToken(context.Background(), s)
		if err != nil {
			t.Fatalf("%s: %v", claims, err)
		}
		return s, tok
	}
	return g, m, mint
}

func TestSessionOf(t *testing.T) {
	_, _, mint := sessionGate(t)
	for _, tc := range []struct {
		claims, want string
		err          bool
	}{
		{`"jti":"a1","type":"access","sid":"s1"`, "s1", false},
		{`"jti":"r1","type":"refresh","sid":"s1"`, "s1", false},
		{`"jti":"r1","type":"refresh","sid":"s1","fam":"f1"`, "s1", false},
		{`"jti":"a1","type":"access","sid":"s\u00e9"`, "s\u00e9", false},
		{`"jti":"a1","type":"access","sid":"a\"b"`, `a"b`, false},
		// Tokens made before sid: fam in refresh tokens, rfam in serve's
		// access tokens, the first refresh token's own jti.
		{`"jti":"r2","type":"refresh","fam":"f1"`, "f1", false},
		{`"jti":"a1","type":"access","rfam":"f1","rjti":"r2"`, "f1", false},
		{`"jti":"r1","type":"refresh"`, "r1", false},
		// An access token outside any session.
		{`"jti":"a1","type":"access"`, "", false},
		{`"jti":"a1"`, "", false},
		// Not a non-empty string.
		{`"jti":"a1","type":"access","sid":""`, "", true},
		{`"jti":"a1","type":"access","sid":42`, "", true},
		{`"jti":"a1","type":"access","sid":null`, "", true},
		{`"jti":"a1","type":"access","sid":["s"]`, "", true},
		{`"jti":"r1","type":"refresh","fam":{}`, "", true},
	} {
		_, tok := mint(tc.claims)
		got, err := revoke.SessionOf(tok)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("SessionOf(%s) = %q, %v; want %q, error %v", tc.claims, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, revoke.ErrInvalidArgument) {
			t.Errorf("SessionOf(%s): error %v does not wrap ErrInvalidArgument", tc.claims, err)
		}
	}
	if _, err := revoke.SessionOf(nil); !errors.Is(err, revoke.ErrInvalidArgument) {
		t.Errorf("SessionOf(nil): %v", err)
	}
}

// TestCheckBadSession: a token whose session claim cannot be read is
// refused as invalid, never let through.
func TestCheckBadSession(t *testing.T) {
	g, _, mint := sessionGate(t)
	s, _ := mint(`"jti":"a1","type":"access","fresh":false,"sid":42`)
	_, err := g.VerifyToken(context.Background(), s, jwtgate.RouteOptions{})
	if !errors.Is(err, jwtgate.ErrInvalid) || !strings.Contains(err.Error(), "sid") {
		t.Fatalf("token with sid 42: %v; want ErrInvalid naming sid", err)
	}
}

// TestEndSession: ending a session with either of its tokens refuses every
// token of it, older and newer, access and refresh, and nothing else.
func TestEndSession(t *testing.T) {
	ctx := context.Background()
	for _, with := range []string{"access", "refresh", "old access"} {
		t.Run(with, func(t *testing.T) {
			g, m, _ := sessionGate(t)
			sid, err := revoke.NewSession()
			if err != nil || sid == "" {
				t.Fatalf("NewSession = %q, %v", sid, err)
			}
			other, _ := revoke.NewSession()
			if other == sid {
				t.Fatal("two sessions with one id")
			}
			decode := func(s string, err error) *jwtgate.Token {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				tok, err := g.DecodeToken(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			a1s, err := g.CreateAccessToken(ctx, "alice", revoke.InSession(sid))
			a1 := decode(a1s, err)
			r1s, err := g.CreateRefreshToken(ctx, "alice", revoke.InSession(sid))
			r1 := decode(r1s, err)
			// A refresh: RotateRefresh keeps the session, the new access
			// token joins it.
			r2s, err := revoke.RotateRefresh(ctx, m, g, r1, "alice")
			r2 := decode(r2s, err)
			if got, _ := revoke.SessionOf(r2); got != sid {
				t.Fatalf("rotated refresh token's session = %q, want %q", got, sid)
			}
			a2s, err := g.CreateAccessToken(ctx, "alice", revoke.InSession(sid))
			a2 := decode(a2s, err)
			os, err := g.CreateAccessToken(ctx, "alice", revoke.InSession(other))
			decode(os, err)
			plain, err := g.CreateAccessToken(ctx, "alice")
			decode(plain, err)

			end := map[string]*jwtgate.Token{"access": a2, "refresh": r2, "old access": a1}[with]
			if err := revoke.EndSession(ctx, m, end, time.Now(), 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			for name, tc := range map[string]struct {
				tok     string
				refresh bool
				want    error
			}{
				"A1": {a1s, false, jwtgate.ErrRevoked}, "A2": {a2s, false, jwtgate.ErrRevoked},
				"R1": {r1s, true, jwtgate.ErrRevoked}, "R2": {r2s, true, jwtgate.ErrRevoked},
				"other session": {os, false, nil}, "no session": {plain, false, nil},
			} {
				_, err := g.VerifyToken(ctx, tc.tok, jwtgate.RouteOptions{Refresh: tc.refresh})
				if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
					t.Errorf("%s after EndSession: %v; want %v", name, err, tc.want)
				}
			}
			if _, err := revoke.RotateRefresh(ctx, m, g, r2, "alice"); !errors.Is(err, revoke.ErrReused) {
				t.Errorf("rotating the session's refresh token after EndSession: %v; want ErrReused", err)
			}
		})
	}
}

func TestEndSessionEdges(t *testing.T) {
	ctx := context.Background()
	g, m, mint := sessionGate(t)
	// A token outside any session: only itself is revoked.
	s, tok := mint(`"jti":"lone","type":"access"`)
	if err := revoke.EndSession(ctx, m, tok, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := g.VerifyToken(ctx, s, jwtgate.RouteOptions{}); !errors.Is(err, jwtgate.ErrRevoked) {
		t.Fatalf("token without session after EndSession: %v", err)
	}
	// A refresh token made before sid ends its family, by its own jti.
	_, first := mint(`"jti":"first","type":"refresh"`)
	if err := revoke.EndSession(ctx, m, first, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, _ := m.FamilyRevoked(ctx, "first"); !r {
		t.Fatal("the family named by a first refresh token is not revoked")
	}
	// An access token of serve made before sid ends its rfam family.
	_, old := mint(`"jti":"a9","type":"access","rfam":"fam9","rjti":"r9"`)
	if err := revoke.EndSession(ctx, m, old, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, _ := m.FamilyRevoked(ctx, "fam9"); !r {
		t.Fatal("rfam family not revoked")
	}
	for name, err := range map[string]error{
		"zero lifetime": revoke.EndSession(ctx, m, old, time.Now(), 0),
		"nil token":     revoke.EndSession(ctx, m, nil, time.Now(), time.Hour),
	} {
		if !errors.Is(err, revoke.ErrInvalidArgument) {
			t.Errorf("%s: %v; want ErrInvalidArgument", name, err)
		}
	}
	// A token Logout would refuse (no exp): nothing is written.
	signer, _ := jwt.NewSigner(mustKey(t), jwt.HS256, jwt.SignerOptions{})
	noExp, _ := signer.Sign([]byte(`{"sub":"alice","jti":"a3","type":"access","sid":"s3"}`))
	if tok, err := g.DecodeToken(ctx, noExp); err != nil {
		t.Fatal(err)
	} else if err := revoke.EndSession(ctx, m, tok, time.Now(), time.Hour); !errors.Is(err, revoke.ErrInvalidArgument) {
		t.Errorf("token without exp: %v; want ErrInvalidArgument", err)
	}
	if r, _ := m.FamilyRevoked(ctx, "s3"); r {
		t.Error("EndSession of a token without exp revoked its session anyway")
	}
	_, bad := mint(`"jti":"a1","type":"access","sid":7`)
	if err := revoke.EndSession(ctx, m, bad, time.Now(), time.Hour); !errors.Is(err, revoke.ErrInvalidArgument) {
		t.Errorf("bad sid: %v", err)
	}
	// A store that fails: the error comes back, nothing is claimed done.
	_, a := mint(`"jti":"a2","type":"access","sid":"s2"`)
	if err := revoke.EndSession(ctx, failingFamilies{m}, a, time.Now(), time.Hour); !errors.Is(err, errDown) {
		t.Errorf("failing store: %v; want its error", err)
	}
}

// failingFamilies fails RevokeFamily.
type failingFamilies struct{ revoke.Store }

func (failingFamilies) RevokeFamily(context.Context, string, time.Time) error { return errDown }

func TestCheckRefusesTwoOptions(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "at most one CheckOptions") {
			t.Errorf("recover() = %v, want a panic naming the mistake", r)
		}
	}()
	revoke.Check(revoke.NewMemory(revoke.MemoryOptions{}), revoke.CheckOptions{Timeout: time.Second}, revoke.CheckOptions{})
}
