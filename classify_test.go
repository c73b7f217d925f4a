package jwtgate

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// misleadingKeys fails every lookup with an error whose text mentions
// segments, a missing iss and a missing aud.
type misleadingKeys struct{ err error }

func (m misleadingKeys) LookupKeys(context.Context, *jwt.Header) ([]*jwt.Key, error) {
	return nil, m.err
}

// The client messages follow the errors' types, not their texts: a text
// that happens to contain "segments" or "no iss" changes nothing.
func TestClassifyReadsTypesNotTexts(t *testing.T) {
	flask := func(c *Config) { c.Profile = ProfileFlask }
	flaskJWT := func(c *Config) { c.Profile = ProfileFlaskJWT }
	withIss := func(p func(*Config)) func(*Config) {
		return func(c *Config) { p(c); c.ExpectedIssuers = []string{"a"} }
	}
	withAud := func(p func(*Config)) func(*Config) {
		return func(c *Config) { p(c); c.ExpectedAudiences = []string{"api"} }
	}
	misleading := func(p func(*Config), err error) func(*Config) {
		return func(c *Config) {
			p(c)
			c.Keys = misleadingKeys{err}
		}
	}
	good := `{"sub":"u","type":"access","fresh":false,"exp":1767229200}`
	tests := []struct {
		name   string
		mutate func(*Config)
		token  string
		want   string
	}{
		{"flask: iss named no iss", withIss(flask), signRaw(t, `{"sub":"u","iss":"no iss"}`), "Invalid issuer"},
		{"flask: iss missing", withIss(flask), signRaw(t, `{"sub":"u"}`), `Token is missing the "iss" claim`},
		{"flask: aud named no aud", withAud(flask), signRaw(t, `{"sub":"u","aud":"no aud"}`), "Invalid audience"},
		{"flask: aud missing", withAud(flask), signRaw(t, `{"sub":"u"}`), `Token is missing the "aud" claim`},
		{"flask: sub missing", flask, signRaw(t, `{"exp":1767229200}`), "Missing claim: sub"},
		{"flask: two segments", flask, "a.b", "Not enough segments"},
		{"flask: four segments", flask, "a.b.c.d", "Not enough segments"},
		{"flask: text says segments", misleading(flask, fmt.Errorf("%w: segments; no iss; no aud", jwt.ErrMalformed)), signRaw(t, good), "Malformed token"},
		{"flask: issuer text says no iss", misleading(flask, fmt.Errorf("%w: token has no iss", jwt.ErrIssuer)), signRaw(t, good), "Invalid issuer"},
		{"flask: typed missing iss from a key set", misleading(flask, &jwt.ClaimError{Claim: "iss", Reason: jwt.ClaimMissing, Err: jwt.ErrIssuer}), signRaw(t, good), `Token is missing the "iss" claim`},
		{"flask-jwt: nbf missing", func(c *Config) { flaskJWT(c); c.RequiredClaims = []string{"nbf"} }, signRaw(t, `{"sub":"u"}`), `Token is missing the "nbf" claim`},
		{"flask-jwt: two segments", flaskJWT, "abc", "Not enough segments"},
		{"flask-jwt: text says segments", misleading(flaskJWT, fmt.Errorf("%w: segments", jwt.ErrMalformed)), signRaw(t, good), "Malformed token"},
		{"rfc6750: missing claim without a name", misleading(func(*Config) {}, fmt.Errorf("%w: x", jwt.ErrMissingClaim)), signRaw(t, good), "Missing claim"},
		{"rfc6750: missing claim", func(*Config) {}, signRaw(t, `{"exp":1767229200}`), "Missing claim: sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGate(t, tt.mutate)
			_, err := g.DecodeToken(context.Background(), tt.token)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeToken: %v, want an *Error", err)
			}
			if e.Message != tt.want {
				t.Errorf("message %q, want %q (error %v)", e.Message, tt.want, err)
			}
		})
	}
}
