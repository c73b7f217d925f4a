package jwk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// TestHeaderKeysChooseNoKey is key injection (CVE-2018-0114): an attacker
// signs a token with a key of their own and names that key in the header,
// embedded (jwk, x5c) or by URL (jku, x5u, served by the attacker). No
// verifier takes it, whether it holds a JWK Set, a single key without kid
// or a remote set, and nothing is fetched from the attacker's URLs. The
// victim's own tokens with the same header members verify: the members are
// ignored, not what refuses the attacker's tokens.
func TestHeaderKeysChooseNoKey(t *testing.T) {
	ctx := context.Background()
	victim := mustGenerate(t, jwt.ES256).WithID("k0")
	attacker := mustGenerate(t, jwt.ES256)

	attackerJWK := publicJWK(t, attacker)
	attackerAsK0 := publicJWK(t, attacker.WithID("k0"))
	victimJWK := publicJWK(t, victim)
	attackerKid, err := KeyID(attacker)
	if err != nil {
		t.Fatal(err)
	}
	evil := &provider{body: jwksOf(t, attacker.WithID("k0"))}
	evilSrv := httptest.NewServer(evil)
	t.Cleanup(evilSrv.Close)
	x5c := []string{base64.StdEncoding.EncodeToString(selfSigned(t, attacker, "victim.example").Raw)}

	victimSrv := httptest.NewServer(&provider{body: jwksOf(t, victim)})
	t.Cleanup(victimSrv.Close)
	remote, err := NewRemoteSet(victimSrv.URL+"/jwks.json", RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Close() })
	set, err := ParseSet(jwksOf(t, victim))
	if err != nil {
		t.Fatal(err)
	}
	single, err := jwt.NewPublicKey(victim.PublicKey()) // a PEM key: no kid, any kid finds it
	if err != nil {
		t.Fatal(err)
	}
	verifiers := map[string]jwt.KeySet{"JWK Set": set, "single key without kid": single, "remote set": remote}

	headers := []struct {
		name string
		kid  string // "": none
		hdr  map[string]any
	}{
		{"jwk, kid of the victim", "k0", map[string]any{"jwk": attackerAsK0}},
		{"jwk, no kid", "", map[string]any{"jwk": attackerJWK}},
		{"jwk, kid its thumbprint", attackerKid, map[string]any{"jwk": attackerJWK}},
		{"jwk of the victim's key", "k0", map[string]any{"jwk": victimJWK}},
		{"jku, kid of the victim", "k0", map[string]any{"jku": evilSrv.URL + "/jwks.json"}},
		{"jku, kid of its own", attackerKid, map[string]any{"jku": evilSrv.URL + "/jwks.json"}},
		{"x5u", "k0", map[string]any{"x5u": evilSrv.URL + "/cert.pem"}},
		{"x5c", "k0", map[string]any{"x5c": x5c}},
		{"x5c, no kid", "", map[string]any{"x5c": x5c}},
		{"all of them", "k0", map[string]any{"jwk": attackerAsK0, "jku": evilSrv.URL + "/jwks.json", "x5u": evilSrv.URL + "/cert.pem", "x5c": x5c}},
	}
	claims := jwt.Claims{Subject: "admin"}
	for vname, keys := range verifiers {
		v, err := jwt.NewVerifier(keys, jwt.VerifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range headers {
			t.Run(vname+"/"+h.name, func(t *testing.T) {
				forged := signWithHeader(t, attacker.WithID(h.kid), h.hdr, claims)
				if _, err := v.Verify(ctx, forged); !errors.Is(err, jwt.ErrSignature) && !errors.Is(err, jwt.ErrKeyNotFound) {
					t.Errorf("the attacker's token: %v, want ErrSignature or ErrKeyNotFound", err)
				}
				genuine := signWithHeader(t, victim, h.hdr, claims)
				if _, err := v.Verify(ctx, genuine); err != nil {
					t.Errorf("the victim's token with the same header members: %v", err)
				}
			})
		}
	}
	if n := evil.hits.Load(); n != 0 {
		t.Errorf("the attacker's server was asked %d times", n)
	}
}

// publicJWK is key's public JWK, as a header member.
func publicJWK(t *testing.T, key *jwt.Key) json.RawMessage {
	t.Helper()
	k, err := NewKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signWithHeader signs claims with key (ES256), with extra header members.
func signWithHeader(t *testing.T, key *jwt.Key, hdr map[string]any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewSigner(key, jwt.ES256, jwt.SignerOptions{Header: hdr})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
