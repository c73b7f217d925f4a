package jwk

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// issuerServer is an OpenID provider: a discovery document and a JWKS.
type issuerServer struct {
	srv       *httptest.Server
	keys      *provider
	jwksURI   atomic.Pointer[string] // "" means the server's own
	docIssuer atomic.Pointer[string] // "" means the server's URL
	docHits   atomic.Int64
}

func newIssuerServer(t *testing.T, keys ...*jwt.Key) *issuerServer {
	t.Helper()
	s := &issuerServer{keys: &provider{body: jwksOf(t, keys...)}}
	mux := http.NewServeMux()
	mux.Handle("/keys", s.keys)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.docHits.Add(1)
		iss, uri := s.srv.URL, s.srv.URL+"/keys"
		if p := s.docIssuer.Load(); p != nil {
			iss = *p
		}
		if p := s.jwksURI.Load(); p != nil {
			uri = *p
		}
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"id_token_signing_alg_values_supported":["ES256"]}`, iss, uri)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func TestIssuerSetDiscovery(t *testing.T) {
	keys := testKeys(t, 2)
	is := newIssuerServer(t, keys[0])
	set, err := NewIssuerSet(is.srv.URL, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "k0"}
	ctx := context.Background()
	if _, err := set.LookupKeys(ctx, h); err != nil {
		t.Fatal(err)
	}

	// jwks_uri on another host: refused, the previous keys stay.
	elsewhere := httptest.NewServer(&provider{body: jwksOf(t, keys[1])})
	defer elsewhere.Close()
	uri := elsewhere.URL + "/keys"
	is.jwksURI.Store(&uri)
	err = set.Refresh(ctx)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "not on the issuer's host") {
		t.Fatalf("jwks_uri elsewhere: %v", err)
	}
	if _, err := set.LookupKeys(ctx, h); err != nil {
		t.Fatalf("previous keys: %v", err)
	}
	// ... unless its host is allowed.
	allowed, err := NewIssuerSet(is.srv.URL, RemoteOptions{AllowedHosts: []string{strings.TrimPrefix(elsewhere.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	defer allowed.Close()
	if _, err := allowed.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: "k1"}); err != nil {
		t.Fatalf("allowed host: %v", err)
	}

	// A document for another issuer is refused.
	other := "https://impostor.example"
	is.jwksURI.Store(nil)
	is.docIssuer.Store(&other)
	if err := set.Refresh(ctx); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "impostor") {
		t.Fatalf("issuer mismatch: %v", err)
	}
	// A non-HTTPS jwks_uri off loopback is refused.
	is.docIssuer.Store(nil)
	plain := "http://keys.example/jwks"
	is.jwksURI.Store(&plain)
	if err := set.Refresh(ctx); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http jwks_uri: %v", err)
	}
	if _, err := set.LookupKeys(ctx, h); err != nil {
		t.Fatalf("previous keys: %v", err)
	}
}

func TestIssuersRouting(t *testing.T) {
	a, b := testKeys(t, 1)[0], testKeys(t, 1)[0] // both have kid k0
	sa := newIssuerServer(t, a)
	sb := newIssuerServer(t, b)
	setA, err := NewIssuerSet(sa.srv.URL, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer setA.Close()
	setB, err := NewIssuerSet(sb.srv.URL, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer setB.Close()
	v, err := NewIssuers(jwt.VerifierOptions{},
		TrustedIssuer{Issuer: sa.srv.URL, Keys: setA, Audiences: []string{"api-a"}},
		TrustedIssuer{Issuer: sb.srv.URL, Keys: setB, Audiences: []string{"api-b"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok := func(key *jwt.Key, iss, aud string) string {
		return signWith(t, key, jwt.ES256, jwt.Claims{Issuer: iss, Audience: jwt.Audience{aud}, Subject: "u"})
	}
	if tk, err := v.Verify(ctx, tok(a, sa.srv.URL, "api-a")); err != nil || tk.Claims.Issuer != sa.srv.URL {
		t.Fatalf("issuer A: %v", err)
	}
	if _, err := v.Verify(ctx, tok(b, sb.srv.URL, "api-b")); err != nil {
		t.Fatalf("issuer B: %v", err)
	}
	// B's key signing a token that claims A: A's keys are used, and fail.
	if _, err := v.Verify(ctx, tok(b, sa.srv.URL, "api-a")); !errors.Is(err, jwt.ErrSignature) {
		t.Fatalf("cross-issuer token: %v", err)
	}
	// A's audience is not B's.
	if _, err := v.Verify(ctx, tok(b, sb.srv.URL, "api-a")); !errors.Is(err, jwt.ErrAudience) {
		t.Fatalf("wrong audience: %v", err)
	}
	// The refusals name the claim and the reason.
	for _, c := range []struct {
		token, claim string
		reason       jwt.ClaimReason
	}{
		{tok(b, sb.srv.URL, "api-a"), "aud", jwt.ClaimNotAccepted},
		{tok(a, "https://evil.example", "api-a"), "iss", jwt.ClaimNotAccepted},
		{tok(a, "", "api-a"), "iss", jwt.ClaimMissing},
	} {
		_, err := v.Verify(ctx, c.token)
		var ce *jwt.ClaimError
		if !errors.As(err, &ce) || ce.Claim != c.claim || ce.Reason != c.reason {
			t.Fatalf("%v: want a ClaimError for %s, %v", err, c.claim, c.reason)
		}
	}
	// An untrusted issuer causes no fetch at all.
	docs := sa.docHits.Load() + sb.docHits.Load()
	for range 20 {
		if _, err := v.Verify(ctx, tok(a, "https://evil.example", "api-a")); !errors.Is(err, jwt.ErrIssuer) {
			t.Fatalf("untrusted issuer: %v", err)
		}
	}
	if _, err := v.Verify(ctx, tok(a, "", "api-a")); !errors.Is(err, jwt.ErrIssuer) {
		t.Fatalf("no issuer: %v", err)
	}
	if sa.docHits.Load()+sb.docHits.Load() != docs {
		t.Fatal("an untrusted issuer caused a fetch")
	}
	// iss spelled in another case is not iss, and a duplicate iss is
	// refused by the strict parser.
	raw := tok(a, sa.srv.URL, "api-a")
	parts := strings.Split(raw, ".")
	for _, payload := range []string{
		`{"ISS":"` + sa.srv.URL + `","aud":"api-a"}`,
		`{"iss":"` + sa.srv.URL + `","iss":"x","aud":"api-a"}`,
	} {
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + parts[2]
		if _, err := v.Verify(ctx, forged); err == nil {
			t.Fatalf("forged payload %s accepted", payload)
		}
	}
	for _, bad := range []string{"x", "a.b", "a.!!.c", strings.Repeat("a", jwt.DefaultMaxSize+1)} {
		if _, err := v.Verify(ctx, bad); err == nil {
			t.Fatalf("%.20q accepted", bad)
		}
	}
	if _, err := NewIssuers(jwt.VerifierOptions{}, TrustedIssuer{Issuer: "x", Keys: a}, TrustedIssuer{Issuer: "x", Keys: a}); err == nil {
		t.Fatal("duplicate issuer accepted")
	}
}

func TestIssuerSetMalformedDiscovery(t *testing.T) {
	keys := testKeys(t, 1)
	var doc atomic.Pointer[string]
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.Handle("/keys", &provider{body: jwksOf(t, keys[0])})
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if p := doc.Load(); p != nil {
			_, _ = w.Write([]byte(strings.ReplaceAll(*p, "$URL", srv.URL)))
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL, srv.URL+"/keys")
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	set, err := NewIssuerSet(srv.URL, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	ctx := context.Background()
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "k0"}
	if _, err := set.LookupKeys(ctx, h); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"not json":         `<html>`,
		"array":            `[]`,
		"duplicate issuer": `{"issuer":"$URL","issuer":"https://evil.example","jwks_uri":"$URL/keys"}`,
		"issuer number":    `{"issuer":1,"jwks_uri":"$URL/keys"}`,
		"no jwks_uri":      `{"issuer":"$URL"}`,
		"ISSUER":           `{"ISSUER":"$URL","jwks_uri":"$URL/keys"}`,
		"bad jwks_uri":     `{"issuer":"$URL","jwks_uri":"%zz"}`,
		"jwks_uri 404":     `{"issuer":"$URL","jwks_uri":"$URL/nothing"}`,
	} {
		doc.Store(&body)
		if err := set.Refresh(ctx); !errors.Is(err, ErrFetch) {
			t.Errorf("%s: Refresh: %v, want ErrFetch", name, err)
		}
		if _, err := set.LookupKeys(ctx, h); err != nil {
			t.Errorf("%s: previous keys: %v", name, err)
		}
	}
}

// TestIssuerSetOAuthMetadata finds the keys of an issuer that has no
// OpenID Connect discovery document (404) through its RFC 8414 metadata,
// at the well-known path inserted before the issuer's own path; any
// other failure of the OpenID Connect document is not taken as its
// absence.
func TestIssuerSetOAuthMetadata(t *testing.T) {
	keys := testKeys(t, 1)
	var oidcStatus atomic.Int64
	oidcStatus.Store(http.StatusNotFound)
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.Handle("/keys", &provider{body: jwksOf(t, keys[0])})
	mux.HandleFunc("/tenant/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(oidcStatus.Load()))
	})
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/tenant"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			iss := srv.URL + strings.TrimPrefix(r.URL.Path, "/.well-known/oauth-authorization-server")
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, iss, srv.URL+"/keys")
		})
	}
	srv = httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	h := &jwt.Header{Alg: jwt.ES256, KeyID: "k0"}
	for _, issuer := range []string{srv.URL, srv.URL + "/tenant"} {
		set, err := NewIssuerSet(issuer, RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		if _, err := set.LookupKeys(ctx, h); err != nil {
			t.Fatalf("issuer %s: %v", issuer, err)
		}
	}
	oidcStatus.Store(http.StatusInternalServerError)
	set, err := NewIssuerSet(srv.URL+"/tenant", RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if err := set.Refresh(ctx); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("OpenID Connect document answering 500: %v", err)
	}
}

// The issuer is read with the strict scanner that verification uses: a
// payload it refuses is malformed before any issuer is chosen, and iss is
// found by its exact name only.
func TestIssuersUnverifiedIssuer(t *testing.T) {
	key := testKeys(t, 1)[0]
	v, err := NewIssuers(jwt.VerifierOptions{}, TrustedIssuer{Issuer: "https://a.example", Keys: key})
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	hdr := enc([]byte(`{"alg":"ES256","kid":"k0"}`))
	tests := []struct {
		name, payload string
		want          error
	}{
		{"duplicate iss", `{"iss":"https://a.example","iss":"https://b.example"}`, jwt.ErrMalformed},
		{"iss a number", `{"iss":1}`, jwt.ErrMalformed},
		{"iss null", `{"iss":null}`, jwt.ErrMalformed},
		{"not an object", `["iss"]`, jwt.ErrMalformed},
		{"trailing data", `{"iss":"https://a.example"}x`, jwt.ErrMalformed},
		{"iss in another case", `{"ISS":"https://a.example"}`, jwt.ErrIssuer},
		{"untrusted escaped iss", `{"iss":"https:\/\/b.example"}`, jwt.ErrIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), hdr+"."+enc([]byte(tt.payload))+".c2ln")
			if !errors.Is(err, tt.want) {
				t.Fatalf("%s: %v, want %v", tt.payload, err, tt.want)
			}
		})
	}
	// An escaped iss names its issuer: the token goes on to that issuer's
	// verifier, which refuses the signature.
	tok := hdr + "." + enc([]byte(`{"iss":"https:\/\/a.example"}`)) + ".c2ln"
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, jwt.ErrSignature) {
		t.Fatalf("escaped trusted iss: %v, want a signature refusal", err)
	}
}
