package jwtgate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// signPayload signs a raw JSON payload with the test gate's key.
func signPayload(t *testing.T, secret, payload string) string {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// gateError returns err's *Error, or fails.
func gateError(t *testing.T, where string, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %v is not an *Error", where, err)
	}
	return e
}

// TestOneVerificationPath: the middleware, VerifyToken, DecodeToken and the
// cookie methods refuse a token with the same error, kind and message, in
// every profile; those that allow an expired token allow it alike.
func TestOneVerificationPath(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	exp := testNow.Unix() + 600
	past := testNow.Unix() - 600
	claims := func(extra string) string {
		return `{"sub":"alice","jti":"j1","csrf":"c1","iat":` + itoa(past) + `,"exp":` + itoa(exp) + extra + `}`
	}
	tests := []struct {
		name    string
		token   string
		expired bool // refused only because exp has passed
	}{
		{"bad signature", signPayload(t, "another secret of thirty-two bytes!", claims("")), false},
		{"not enough segments", "abc.def", false},
		{"expired", signPayload(t, secret, `{"sub":"alice","csrf":"c1","exp":`+itoa(past)+`}`), true},
		{"no identity", signPayload(t, secret, `{"csrf":"c1","exp":`+itoa(exp)+`}`), false},
		{"type not a string", signPayload(t, secret, claims(`,"type":1`)), false},
		{"fresh not a date", signPayload(t, secret, claims(`,"fresh":"yes"`)), false},
		{"csrf not a string", signPayload(t, secret, `{"sub":"alice","csrf":2,"exp":`+itoa(exp)+`}`), false},
	}
	profiles := map[string]Profile{"rfc6750": ProfileRFC6750, "flask": ProfileFlask, "flaskjwt": ProfileFlaskJWT}
	for pname, profile := range profiles {
		g := testGate(t, func(c *Config) { c.Profile = profile })
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(pname+"/"+tt.name, func(t *testing.T) {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Authorization", "Bearer "+tt.token)
				_, err := g.VerifyRequest(r, RouteOptions{})
				want := gateError(t, "middleware", err)
				_, err = g.VerifyToken(ctx, tt.token, RouteOptions{})
				if got := gateError(t, "VerifyToken", err); got.Kind != want.Kind || got.Message != want.Message {
					t.Errorf("VerifyToken: %v; middleware: %v", got, want)
				}
				_, err = g.DecodeToken(ctx, tt.token)
				if got := gateError(t, "DecodeToken", err); got.Kind != want.Kind || got.Message != want.Message {
					t.Errorf("DecodeToken: %v; middleware: %v", got, want)
				}
				_, errDecode := g.DecodeToken(ctx, tt.token, DecodeOptions{AllowExpired: true})
				errCookies := g.SetAccessCookies(httptest.NewRecorder(), tt.token)
				if tt.expired {
					if !errors.Is(want, ErrExpired) || errDecode != nil || errCookies != nil {
						t.Errorf("expired: middleware %v, DecodeToken AllowExpired %v, SetAccessCookies %v", want, errDecode, errCookies)
					}
					return
				}
				for where, err := range map[string]error{"DecodeToken AllowExpired": errDecode, "SetAccessCookies": errCookies} {
					if got := gateError(t, where, err); got.Kind != want.Kind || got.Message != want.Message {
						t.Errorf("%s: %v; middleware: %v", where, got, want)
					}
				}
			})
		}
	}
}

// TestOneCSRFCheck: the cookie middleware, VerifyToken and DecodeToken
// judge a double-submit value the same way.
func TestOneCSRFCheck(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	g := testGate(t, func(c *Config) { c.Profile = ProfileFlask })
	exp := itoa(testNow.Unix() + 600)
	withCSRF := signPayload(t, secret, `{"sub":"alice","csrf":"c1","exp":`+exp+`}`)
	without := signPayload(t, secret, `{"sub":"alice","exp":`+exp+`}`)
	tests := []struct {
		name, token, csrf string
		want              error // nil: accepted
		message           string
	}{
		{"match", withCSRF, "c1", nil, ""},
		{"mismatch", withCSRF, "c2", ErrCSRF, "CSRF double submit tokens do not match"},
		{"prefix", withCSRF, "c", ErrCSRF, "CSRF double submit tokens do not match"},
		{"no claim", without, "c1", ErrInvalid, "Missing claim: csrf"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tt.token})
			r.Header.Set("X-CSRF-TOKEN", tt.csrf)
			_, errMW := g.VerifyRequest(r, RouteOptions{Locations: []Location{InCookie{}}})
			_, errVT := g.VerifyToken(ctx, tt.token, RouteOptions{}, tt.csrf)
			_, errDT := g.DecodeToken(ctx, tt.token, DecodeOptions{CSRF: tt.csrf})
			for where, err := range map[string]error{"middleware": errMW, "VerifyToken": errVT, "DecodeToken": errDT} {
				if tt.want == nil {
					if err != nil {
						t.Errorf("%s: %v", where, err)
					}
					continue
				}
				if got := gateError(t, where, err); got.Kind != tt.want || got.Message != tt.message {
					t.Errorf("%s: %v, want %v %q", where, got, tt.want, tt.message)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
