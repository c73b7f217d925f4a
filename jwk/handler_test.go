package jwk

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestJWKSHandlerPublicOnly(t *testing.T) {
	rsa := mustGenerate(t, jwt.RS256)
	ring, err := NewRing(RingOptions{}, rsa, mustGenerate(t, jwt.ES256), mustGenerate(t, jwt.EdDSA).WithID("ed"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(JWKSHandler(ring, HandlerOptions{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" ||
		resp.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 3 {
		t.Fatalf("%d keys published, want 3: %s", len(doc.Keys), body)
	}
	for _, k := range doc.Keys {
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, ok := k[m]; ok {
				t.Fatalf("private member %q published: %s", m, body)
			}
		}
		if k["kid"] == "" || k["kid"] == nil {
			t.Fatalf("key without kid: %v", k)
		}
	}
	s, err := ParsePublicSet(body)
	if err != nil {
		t.Fatalf("published set is not a public set: %v", err)
	}
	if _, ok := s.Key(ring.SigningKey().ID()); !ok {
		t.Fatal("signer not published")
	}

	// A set of secrets publishes nothing.
	hs, err := NewRing(RingOptions{}, mustGenerate(t, jwt.HS256))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	JWKSHandler(hs, HandlerOptions{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Body.String(); got != `{"keys":[]}` {
		t.Fatalf("secret ring published %s", got)
	}
}

func TestJWKSHandlerETag(t *testing.T) {
	ring, err := NewRing(RingOptions{}, mustGenerate(t, jwt.ES256))
	if err != nil {
		t.Fatal(err)
	}
	h := JWKSHandler(ring, HandlerOptions{MaxAge: time.Minute})
	get := func(inm string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
		if inm != "" {
			r.Header.Set("If-None-Match", inm)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	first := get("")
	etag := first.Header().Get("ETag")
	if first.Code != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") ||
		first.Header().Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("code %d, ETag %q, Cache-Control %q", first.Code, etag, first.Header().Get("Cache-Control"))
	}
	for _, inm := range []string{etag, `"x", ` + etag, "W/" + etag, "*"} {
		if rec := get(inm); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: code %d, body %q", inm, rec.Code, rec.Body)
		}
	}
	if rec := get(`"other"`); rec.Code != 200 {
		t.Fatalf("other ETag: code %d", rec.Code)
	}
	// Rotation changes the body and the ETag.
	if err := ring.Rotate(mustGenerate(t, jwt.ES256), time.Time{}); err != nil {
		t.Fatal(err)
	}
	rec := get(etag)
	if rec.Code != 200 || rec.Header().Get("ETag") == etag {
		t.Fatalf("after rotation: code %d, ETag %q", rec.Code, rec.Header().Get("ETag"))
	}
	s, err := ParsePublicSet(rec.Body.Bytes())
	if err != nil || s.Len() != 2 {
		t.Fatalf("after rotation: %v, %d keys", err, s.Len())
	}
	r := httptest.NewRequest("POST", "/", nil)
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, r)
	if rr.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rr.Code)
	}
	r = httptest.NewRequest("HEAD", "/", nil)
	rr = httptest.NewRecorder()
	h.ServeHTTP(rr, r)
	if rr.Code != 200 || rr.Body.Len() != 0 {
		t.Fatalf("HEAD: %d, %d bytes", rr.Code, rr.Body.Len())
	}
}

func TestDiscoveryHandler(t *testing.T) {
	h, err := DiscoveryHandler(Discovery{
		Issuer:     "https://issuer.example",
		JWKSURI:    "https://issuer.example/.well-known/jwks.json",
		Algorithms: []jwt.Algorithm{jwt.RS256, jwt.ES256},
		Extra:      map[string]any{"issuer": "https://evil.example", "token_endpoint": "https://issuer.example/token"},
	}, HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != "https://issuer.example" || doc["jwks_uri"] != "https://issuer.example/.well-known/jwks.json" ||
		doc["token_endpoint"] != "https://issuer.example/token" || rec.Header().Get("ETag") == "" {
		t.Fatalf("document %s", rec.Body)
	}
	if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); len(algs) != 2 || algs[0] != "RS256" {
		t.Fatalf("algorithms %v", doc["id_token_signing_alg_values_supported"])
	}
	if _, err := DiscoveryHandler(Discovery{Issuer: "x"}, HandlerOptions{}); err == nil {
		t.Fatal("no jwks_uri accepted")
	}
}
