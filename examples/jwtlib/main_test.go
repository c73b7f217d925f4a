package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

type gValues struct {
	Authenticated bool           `json:"authenticated"`
	RawToken      *string        `json:"raw_token"`
	JSONToken     map[string]any `json:"json_token"`
	Message       string         `json:"message"`
}

func decodeG(t *testing.T, res proctest.Response) gValues {
	t.Helper()
	var g gValues
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, &g); err != nil {
		t.Fatalf("%v: %s", err, res.Body)
	}
	return g
}

func signer(t *testing.T, key *jwt.Key, alg jwt.Algorithm) func(claims map[string]any) string {
	t.Helper()
	s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return func(claims map[string]any) string {
		tok, err := s.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func TestJWTLib(t *testing.T) {
	bin := proctest.Build(t)
	t.Run("routes", func(t *testing.T) { testRoutes(t, bin) })
	t.Run("gen-key", func(t *testing.T) { testGenKey(t, bin) })
}

func testRoutes(t *testing.T, bin string) {
	dir := t.TempDir()
	key, err := jwk.GenerateRSA(2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.MarshalPublicPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(dir, "public.pem")
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	p := proctest.Start(t, bin, nil, "-addr", "127.0.0.1:0", "-pubkey", pubFile)

	sign := signer(t, key, jwt.RS256)
	now := time.Now().Unix()
	valid := sign(map[string]any{"sub": "alice", "iat": now, "exp": now + 3600, "scope": "read"})
	expired := sign(map[string]any{"sub": "alice", "iat": now - 7200, "exp": now - 3600})
	other, err := jwk.GenerateRSA(2048)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := signer(t, other, jwt.RS256)(map[string]any{"sub": "alice"})
	ps256 := signer(t, key, jwt.PS256)(map[string]any{"sub": "alice"})
	// The classic confusion: HS256 with the public key's PEM as the secret.
	hmacKey, err := jwt.NewHMACKey(pub, jwt.HS256)
	if err != nil {
		t.Fatal(err)
	}
	confused := signer(t, hmacKey, jwt.HS256)(map[string]any{"sub": "alice"})

	t.Run("optional", func(t *testing.T) {
		g := decodeG(t, p.Do(t, proctest.Request{Path: "/"}))
		if g.Authenticated || g.RawToken != nil || g.JSONToken != nil || g.Message != "You don't have a (valid) token!" {
			t.Fatalf("%+v", g)
		}
		for _, req := range []proctest.Request{
			{Path: "/", Header: map[string]string{"Authorization": "Bearer " + valid}},
			{Path: "/?access_token=" + url.QueryEscape(valid)},
		} {
			g = decodeG(t, p.Do(t, req))
			want := map[string]any{"sub": "alice", "iat": float64(now), "exp": float64(now + 3600), "scope": "read"}
			if !g.Authenticated || g.RawToken == nil || *g.RawToken != valid || !reflect.DeepEqual(g.JSONToken, want) || g.Message != "Your JWT claims look like..." {
				t.Fatalf("%+v", g)
			}
		}
		// flask_jwtlib: an invalid token on an optional route is no token.
		for _, tok := range []string{expired, wrongKey, ps256, confused, "abc", "a.b.c"} {
			g := decodeG(t, p.Do(t, proctest.Request{Path: "/", Header: map[string]string{"Authorization": "Bearer " + tok}}))
			if g.Authenticated || g.RawToken != nil {
				t.Fatalf("%.30s...: %+v", tok, g)
			}
		}
		g = decodeG(t, p.Do(t, proctest.Request{Path: "/?access_token=" + valid, Header: map[string]string{"Authorization": "Bearer " + expired}}))
		if g.Authenticated {
			t.Fatalf("two tokens: %+v", g)
		}
	})

	t.Run("secure", func(t *testing.T) {
		g := decodeG(t, p.Do(t, proctest.Request{Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + valid}}))
		if !g.Authenticated || *g.RawToken != valid || g.JSONToken["sub"] != "alice" || g.Message != "This JWT is valid" {
			t.Fatalf("%+v", g)
		}
		// The PEM key has no kid: it verifies tokens whatever kid their
		// issuer put in them.
		withKid := signer(t, key.WithID("idp-key-1"), jwt.RS256)(map[string]any{"sub": "alice", "exp": now + 3600})
		if g := decodeG(t, p.Do(t, proctest.Request{Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + withKid}})); !g.Authenticated {
			t.Fatalf("a token with kid idp-key-1: %+v", g)
		}
		// The same token twice is one token.
		g = decodeG(t, p.Do(t, proctest.Request{Path: "/secure?access_token=" + valid, Header: map[string]string{"Authorization": "Bearer " + valid}}))
		if !g.Authenticated {
			t.Fatalf("%+v", g)
		}
		for _, tt := range []struct {
			name      string
			req       proctest.Request
			status    int
			challenge string
		}{
			{"no token", proctest.Request{Path: "/secure"}, 401, `Bearer realm="jwtlib"`},
			{"expired", proctest.Request{Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + expired}}, 401,
				`Bearer realm="jwtlib", error="invalid_token", error_description="Token has expired"`},
			{"wrong key", proctest.Request{Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + wrongKey}}, 401,
				`Bearer realm="jwtlib", error="invalid_token", error_description="Signature verification failed"`},
			{"PS256 is not JWT_ALGO", proctest.Request{Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + ps256}}, 401,
				`Bearer realm="jwtlib", error="invalid_token", error_description="The specified alg value is not allowed"`},
			{"HS256 with the public key", proctest.Request{Path: "/secure?access_token=" + confused}, 401,
				`Bearer realm="jwtlib", error="invalid_token", error_description="The specified alg value is not allowed"`},
			{"two tokens", proctest.Request{Path: "/secure?access_token=" + valid, Header: map[string]string{"Authorization": "Bearer " + expired}}, 400,
				`Bearer realm="jwtlib", error="invalid_request", error_description="Too many tokens"`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := p.Do(t, tt.req)
				if res.Status != tt.status || res.Header.Get("WWW-Authenticate") != tt.challenge {
					t.Fatalf("%d %q %s", res.Status, res.Header.Get("WWW-Authenticate"), res.Body)
				}
			})
		}
		if res := p.Do(t, proctest.Request{Path: "/nope"}); res.Status != 404 {
			t.Fatalf("unknown route: %d", res.Status)
		}
	})
}

// The -gen-key helper makes a key pair and a token that a server started
// with the public key accepts.
func testGenKey(t *testing.T, bin string) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, stdout, stderr := proctest.RunToExit(t, bin, nil, "-gen-key", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tok := strings.TrimSpace(stdout)
	if fi, err := os.Stat(filepath.Join(dir, "private.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private.pem: %v %v", fi, err)
	}
	// Given the private key, the server uses only its public half.
	for _, file := range []string{"public.pem", "private.pem"} {
		p := proctest.Start(t, bin, nil, "-addr", "127.0.0.1:0", "-pubkey", filepath.Join(dir, file))
		g := decodeG(t, p.Do(t, proctest.Request{Path: "/secure", Header: map[string]string{"Authorization": "Bearer " + tok}}))
		if !g.Authenticated || g.JSONToken["sub"] != "alice" {
			t.Fatalf("%s: %+v", file, g)
		}
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "-pubkey is required"},
		{[]string{"-pubkey", filepath.Join(dir, "missing.pem")}, "no such file"},
		{[]string{"-pubkey", filepath.Join(dir, "private.pem"), "extra"}, "unexpected arguments"},
	} {
		code, _, stderr := proctest.RunToExit(t, bin, nil, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Fatalf("%v: exit %d, %q", tt.args, code, stderr)
		}
	}
}
