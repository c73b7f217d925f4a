package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// Key distribution between jwtgate and Node's jose: jose signs and
// publishes a JWKS that jwtgate's remote set verifies with, and jose's
// createRemoteJWKSet verifies tokens that jwtgate signs with keys it
// publishes through jwk.JWKSHandler. node/jose_jwks.mjs is jose's side.

var jwksAlgs = []jwt.Algorithm{jwt.RS256, jwt.PS256, jwt.ES256, jwt.EdDSA}

const jwksScript = "node/jose_jwks.mjs"

type joseToken struct {
	Alg   string `json:"alg"`
	KID   string `json:"kid,omitempty"`
	Token string `json:"token"`
}

// TestJoseJWKSVerifiedByRemoteSet: tokens jose signs for RS256, PS256,
// ES256 and EdDSA, verified by jwk.NewRemoteSet against the JWKS a jose
// server publishes.
func TestJoseJWKSVerifiedByRemoteSet(t *testing.T) {
	joseTool.require(t)
	node, err := joseTool.interp()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.FromSlash(jwksScript), "serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("jose server: %v\n%s", err, stderr.Bytes())
		}
	}()
	req, _ := json.Marshal(map[string]string{"issuer": testIssuer, "audience": "api", "subject": "alice"})
	if _, err := stdin.Write(append(req, '\n')); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("jose server: %v\n%s", err, stderr.Bytes())
	}
	var served struct {
		URL    string      `json:"jwks_url"`
		Tokens []joseToken `json:"tokens"`
	}
	if err := json.Unmarshal(line, &served); err != nil {
		t.Fatalf("jose server said %q: %v", line, err)
	}
	if len(served.Tokens) != len(jwksAlgs) {
		t.Fatalf("jose signed %d tokens, want %d", len(served.Tokens), len(jwksAlgs))
	}

	keys, err := jwk.NewRemoteSet(served.URL, jwk.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	for _, tk := range served.Tokens {
		t.Run(tk.Alg, func(t *testing.T) {
			v, err := jwt.NewVerifier(keys, jwt.VerifierOptions{
				Algorithms: []jwt.Algorithm{jwt.Algorithm(tk.Alg)},
				Issuers:    []string{testIssuer}, Audiences: []string{"api"},
				RequiredClaims: []string{"exp", "iat"},
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := v.Verify(context.Background(), tk.Token)
			if err != nil {
				t.Fatalf("jwtgate refused jose's %s token: %v", tk.Alg, err)
			}
			if tok.Claims.Subject != "alice" || tok.Header.KeyID != tk.KID {
				t.Fatalf("claims %+v, kid %q", tok.Claims, tok.Header.KeyID)
			}
			// jose's kid is the RFC 7638 thumbprint; jwtgate computes the same.
			if tp, err := jwk.ThumbprintBase64(tok.Key(), 0); err != nil || tp != tk.KID {
				t.Fatalf("thumbprint %q (%v), jose's kid %q", tp, err, tk.KID)
			}
			// Another algorithm with the same key is refused.
			other := jwt.RS256
			if tk.Alg == "RS256" {
				other = jwt.PS256
			}
			v2, _ := jwt.NewVerifier(keys, jwt.VerifierOptions{Algorithms: []jwt.Algorithm{other}, Issuers: []string{testIssuer}, Audiences: []string{"api"}})
			if _, err := v2.Verify(context.Background(), tk.Token); err == nil {
				t.Fatal("accepted with another algorithm allowlist")
			}
		})
	}
	if n := keys.Fetches(); n != 1 {
		t.Fatalf("%d fetches of jose's JWKS, want 1", n)
	}
}

// TestJWTGateJWKSVerifiedByJose: tokens jwtgate signs with the keys of a
// ring, one per algorithm, verified by jose's createRemoteJWKSet against
// jwk.JWKSHandler; then the ring rotates and jose verifies the new
// signer's tokens from a fresh fetch.
func TestJWTGateJWKSVerifiedByJose(t *testing.T) {
	joseTool.require(t)
	var signers []*jwt.Key
	for _, alg := range jwksAlgs {
		k, err := jwk.Generate(alg, 0)
		if err != nil {
			t.Fatal(err)
		}
		if k, err = jwk.EnsureKeyID(k); err != nil {
			t.Fatal(err)
		}
		signers = append(signers, k)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, signers[0], signers[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(jwk.JWKSHandler(ring, jwk.HandlerOptions{}))
	defer srv.Close()

	sign := func(key *jwt.Key, alg jwt.Algorithm, sub string) joseToken {
		s, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		tok, err := s.Sign(jwt.Claims{
			Issuer: testIssuer, Audience: jwt.Audience{"api"}, Subject: sub,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return joseToken{Alg: string(alg), Token: tok}
	}
	var tokens []joseToken
	for i, alg := range jwksAlgs {
		tokens = append(tokens, sign(signers[i], alg, "alice"))
	}
	// A token signed with a key that is not published must be refused.
	stray, _ := jwk.Generate(jwt.ES256, 0)
	stray, _ = jwk.EnsureKeyID(stray)
	tokens = append(tokens, sign(stray, jwt.ES256, "mallory"))

	res := joseVerifyRemote(t, srv.URL, tokens)
	for i, r := range res[:len(jwksAlgs)] {
		if r.Error != nil {
			t.Errorf("jose refused jwtgate's %s token: %s: %s", jwksAlgs[i], r.Error.Code, r.Error.Message)
			continue
		}
		if r.Claims["sub"] != "alice" || r.Header["kid"] != signers[i].ID() {
			t.Errorf("%s: claims %v, header %v", jwksAlgs[i], r.Claims, r.Header)
		}
	}
	if last := res[len(res)-1]; last.Error == nil || last.Error.Code != "ERR_JWKS_NO_MATCHING_KEY" {
		t.Errorf("jose accepted a token of an unpublished key: %+v", last)
	}

	next, _ := jwk.Generate(jwt.ES256, 0)
	if err := ring.Rotate(next, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res = joseVerifyRemote(t, srv.URL, []joseToken{sign(ring.SigningKey(), jwt.ES256, "bob"), tokens[0]})
	for i, r := range res {
		if r.Error != nil {
			t.Errorf("after rotation, token %d: %s: %s", i, r.Error.Code, r.Error.Message)
		}
	}
}

type joseVerifyResult struct {
	Claims map[string]any `json:"claims"`
	Header map[string]any `json:"header"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func joseVerifyRemote(t *testing.T, url string, tokens []joseToken) []joseVerifyResult {
	t.Helper()
	node, err := joseTool.interp()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"jwks_url": url, "issuer": testIssuer, "audience": "api", "tokens": tokens})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.FromSlash(jwksScript), "verify")
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("jose verify: %v\n%s", err, stderr.Bytes())
	}
	var out []joseVerifyResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out) != len(tokens) {
		t.Fatalf("jose verify said %q (%v)", stdout.Bytes(), err)
	}
	return out
}
