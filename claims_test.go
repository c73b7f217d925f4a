package jwtgate

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// appClaims are custom claims as an application declares them.
type appClaims struct {
	Type  string   `json:"type"`
	Fresh bool     `json:"fresh"`
	CSRF  string   `json:"csrf"`
	Roles []string `json:"roles"`
}

// TestClaimsFastPath checks that Token.Decode on the request's token and
// the token a LoadUser hook is given decode custom claims without a second
// encoding/json pass: into a flat struct, with the allocations of its one
// slice only, and with encoding/json's result.
func TestClaimsFastPath(t *testing.T) {
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1767227400, 0)
	var loaded appClaims
	g, err := New(Config{SigningKey: key, Clock: func() time.Time { return now },
		LoadUser: func(ctx context.Context, tok *Token) (any, error) {
			if err := tok.Decode(&loaded); err != nil {
				return nil, err
			}
			return tok.Identity, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	tok, _ := s.Sign([]byte(benchPayload))
	var want appClaims
	if err := json.Unmarshal([]byte(benchPayload), &want); err != nil {
		t.Fatal(err)
	}
	var got appClaims
	var allocs float64
	h := g.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		decode := func() error {
			tok, ok := TokenFrom(ctx)
			if !ok {
				return errors.New("no token in the context")
			}
			return tok.Decode(&got)
		}
		if err := decode(); err != nil {
			t.Error(err)
		}
		allocs = testing.AllocsPerRun(50, func() {
			if err := decode(); err != nil {
				t.Error(err)
			}
		})
		w.WriteHeader(204)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 204 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(loaded, want) {
		t.Errorf("Claims: %+v; LoadUser: %+v; want %+v", got, loaded, want)
	}
	if allocs > 1 {
		t.Errorf("Token.Decode into a flat struct: %v allocations, want at most 1 (the roles slice)", allocs)
	}
}
