package revoke_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
	s, _ := jwt.NewSigner(key, jwt.HS256)
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
