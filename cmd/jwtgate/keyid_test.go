package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeHeader returns the header of tok as jwtgate token decode prints it.
func decodeHeader(t *testing.T, dir, tok string) map[string]any {
	t.Helper()
	var out struct {
		Header map[string]any `json:"header"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, tok, "token", "decode", "-")), &out); err != nil {
		t.Fatal(err)
	}
	return out.Header
}

// keys public and token sign name a PEM key (which has no kid) the same
// way, by its RFC 7638 thumbprint, so a JWK Set built from keys public
// verifies what token sign signs with the PEM file. And a PEM file, a
// single key, verifies tokens whatever kid they name, while a JWK Set
// refuses a kid it does not have.
func TestPEMKeyIDAgrees(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			// The identity provider's key: its JWK says idp-key-1, its PEM
			// file nothing.
			mustRun(t, dir, "", "keys", "generate", "--alg", alg, "--kid", "idp-key-1", "--out", "idp")
			mustRun(t, dir, "", "keys", "generate", "--alg", "ES384", "--out", "other")
			tp := strings.TrimSpace(mustRun(t, dir, "", "keys", "thumbprint", "idp.pem"))

			var pub map[string]any
			if err := json.Unmarshal([]byte(mustRun(t, dir, "", "keys", "public", "idp.pem")), &pub); err != nil {
				t.Fatal(err)
			}
			if pub["kid"] != tp || pub["d"] != nil {
				t.Fatalf("keys public idp.pem: kid %v, want the thumbprint %s (d %v)", pub["kid"], tp, pub["d"])
			}
			tok := strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--key", "idp.pem", "--alg", alg, "--exp", "1h"))
			if h := decodeHeader(t, dir, tok); h["kid"] != tp {
				t.Fatalf("token sign --key idp.pem: kid %v, keys public says %s", h["kid"], tp)
			}

			// A JWK Set of keys public's outputs verifies it, and so does the
			// PEM file; the JWK, whose kid is idp-key-1, refuses a token
			// that names another kid.
			var other map[string]any
			if err := json.Unmarshal([]byte(mustRun(t, dir, "", "keys", "public", "other.pem")), &other); err != nil {
				t.Fatal(err)
			}
			set, _ := json.Marshal(map[string]any{"keys": []any{other, pub}})
			writeTemp(t, dir, "jwks.json", string(set))
			for key, code := range map[string]int{"jwks.json": 0, "idp.pem": 0, "idp.pub.jwk": 1} {
				if r := jwtgate(t, dir, "", "token", "verify", "--key", key, tok); r.code != code {
					t.Errorf("token verify --key %s of a token signed with idp.pem: %+v, want exit %d", key, r, code)
				}
			}
			// keys public of the JWK Set names every key as before.
			var pubSet struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, dir, "", "keys", "public", "jwks.json")), &pubSet); err != nil {
				t.Fatal(err)
			}
			if len(pubSet.Keys) != 2 || pubSet.Keys[1]["kid"] != tp || pubSet.Keys[0]["kid"] != other["kid"] {
				t.Errorf("keys public jwks.json: %v", pubSet.Keys)
			}

			// The provider's own tokens name idp-key-1 (signed here with its
			// JWK): the PEM file verifies them, a JWK Set without that kid
			// refuses them, one with it accepts them.
			idpTok := strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--key", "idp.jwk", "--alg", alg, "--exp", "1h"))
			if h := decodeHeader(t, dir, idpTok); h["kid"] != "idp-key-1" {
				t.Fatalf("kid %v", h["kid"])
			}
			if r := jwtgate(t, dir, "", "token", "verify", "--key", "idp.pem", idpTok); r.code != 0 {
				t.Errorf("token verify --key idp.pem of a token with kid idp-key-1: %+v", r)
			}
			if r := jwtgate(t, dir, "", "token", "verify", "--key", "jwks.json", idpTok); r.code != 1 || !strings.Contains(r.stderr, `no key has kid "idp-key-1"`) {
				t.Errorf("token verify --key jwks.json of a token with kid idp-key-1: %+v", r)
			}
			mustRun(t, dir, "", "token", "verify", "--key", "idp.pub.jwk", idpTok)
			// The single key is still the one key: another key's PEM file
			// refuses the token, whatever kid it names.
			if r := jwtgate(t, dir, "", "token", "verify", "--key", "other.pem", idpTok); r.code == 0 {
				t.Errorf("token verify --key other.pem accepted a token of idp: %+v", r)
			}
		})
	}
}

// A JWK without kid is named by its thumbprint too, and keeps its other
// members.
func TestKeysPublicJWKWithoutKid(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "keys", "generate", "--alg", "ES256", "--out", "k")
	b, err := os.ReadFile(filepath.Join(dir, "k.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	var jk map[string]any
	if err := json.Unmarshal(b, &jk); err != nil {
		t.Fatal(err)
	}
	tp := jk["kid"]
	delete(jk, "kid")
	jk["use"] = "sig"
	b, _ = json.Marshal(jk)
	writeTemp(t, dir, "nokid.jwk", string(b))
	var pub map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "keys", "public", "nokid.jwk")), &pub); err != nil {
		t.Fatal(err)
	}
	if pub["kid"] != tp || pub["use"] != "sig" || pub["d"] != nil {
		t.Errorf("keys public of a JWK without kid: %v, want kid %v and use sig", pub, tp)
	}
	tok := strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--key", "nokid.jwk", "--alg", "ES256"))
	if h := decodeHeader(t, dir, tok); h["kid"] != tp {
		t.Errorf("token sign --key nokid.jwk: kid %v, want %v", h["kid"], tp)
	}
	if help := jwtgate(t, dir, "", "keys", "public", "--help"); !strings.Contains(help.stdout+help.stderr, "thumbprint") {
		t.Errorf("keys public --help does not say how a key without kid is named: %+v", help)
	}
}
