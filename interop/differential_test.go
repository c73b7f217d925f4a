package interop

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is the verification clock of the differential tests.
var testNow = time.Unix(1767227400, 0)

// sampleClaims returns a claims map valid at testNow, covering the
// registered claims and a few custom ones of different JSON types.
func sampleClaims() map[string]any {
	now := testNow.Unix()
	return map[string]any{
		"iss":   "https://issuer.example",
		"sub":   "user-12345",
		"aud":   []any{"api", "web"},
		"iat":   float64(now - 1800),
		"nbf":   float64(now - 1800),
		"exp":   float64(now + 1800),
		"jti":   "6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60",
		"type":  "access",
		"fresh": false,
		"csrf":  "0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a",
		"roles": []any{"admin", "user"},
		"n":     float64(42),
		"obj":   map[string]any{"a": "b"},
	}
}

// keyCache generates each algorithm's key pair once per test binary, so
// that RSA key generation is not repeated by every test.
var keyCache sync.Map // alg -> *KeyPair

func testKey(t *testing.T, alg string) *KeyPair {
	t.Helper()
	if k, ok := keyCache.Load(alg); ok {
		return k.(*KeyPair)
	}
	k, err := NewKeyPair(alg)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := keyCache.LoadOrStore(alg, k)
	return actual.(*KeyPair)
}

// splitToken decodes the header and payload of a compact JWS.
func splitToken(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3: %q", len(parts), token)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
	}
	return header, payload
}

// tamper returns token with one signature character changed in a way that
// changes the decoded signature bytes (not just the unused trailing bits).
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 2
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// matrixPeers are the libraries of the peer<->peer matrix: the Go peers
// and jwtgate itself.
func matrixPeers() []Peer {
	return append(Peers(), JwtgatePeer())
}

// TestPeerRoundTrip proves the harness and puts jwtgate in it: every
// peer's token verifies with every peer (itself included), for every
// algorithm, and the claims survive.
func TestPeerRoundTrip(t *testing.T) {
	want, err := Normalize(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{Now: testNow, Audience: "api"}
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			k := testKey(t, alg)
			for _, signer := range matrixPeers() {
				token, err := signer.Sign(k, sampleClaims())
				if err != nil {
					t.Fatalf("%s sign: %v", signer.Name, err)
				}
				h, p := splitToken(t, token)
				if h["alg"] != alg {
					t.Errorf("%s: header alg = %v, want %s", signer.Name, h["alg"], alg)
				}
				if !reflect.DeepEqual(p, want) {
					t.Errorf("%s: payload = %v, want %v", signer.Name, p, want)
				}
				for _, verifier := range matrixPeers() {
					got, err := verifier.Verify(k, token, opts)
					if err != nil {
						t.Errorf("%s -> %s: verify: %v", signer.Name, verifier.Name, err)
						continue
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s -> %s: claims = %v, want %v", signer.Name, verifier.Name, got, want)
					}
				}
			}
		})
	}
}

// confusable maps each algorithm to another one the same key type can be
// used with, for algorithm-substitution checks.
var confusable = map[string]string{
	"HS256": "HS384", "HS384": "HS512", "HS512": "HS256",
	"RS256": "PS256", "RS384": "PS384", "RS512": "PS512",
	"PS256": "RS256", "PS384": "RS384", "PS512": "RS512",
}

// TestPeerRejects proves the verifiers are not vacuous: each must reject a
// tampered signature or payload, a different key, another algorithm, a
// wrong audience, and tokens that are expired, not yet valid, or issued in
// the future.
func TestPeerRejects(t *testing.T) {
	claimsWith := func(name string, v any) map[string]any {
		c := sampleClaims()
		c[name] = v
		return c
	}
	now := float64(testNow.Unix())
	badClaims := map[string]map[string]any{
		"expired":      claimsWith("exp", now-1),
		"not-yet":      claimsWith("nbf", now+60),
		"iat-future":   claimsWith("iat", now+60),
		"exp-equal":    claimsWith("exp", now), // RFC 7519: on or after exp is rejected
		"wrong-aud":    claimsWith("aud", []any{"other"}),
		"ok-reference": sampleClaims(), // must verify, to show the others fail for the right reason
	}
	opts := VerifyOptions{Now: testNow, Audience: "api"}
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			k := testKey(t, alg)
			other := otherKey(t, alg)
			for _, signer := range matrixPeers() {
				good, err := signer.Sign(k, sampleClaims())
				if err != nil {
					t.Fatalf("%s sign: %v", signer.Name, err)
				}
				for _, verifier := range matrixPeers() {
					name := signer.Name + " -> " + verifier.Name
					if _, err := verifier.Verify(k, tamper(good), opts); err == nil {
						t.Errorf("%s: tampered signature accepted", name)
					}
					if _, err := verifier.Verify(k, tamperPayload(t, good), opts); err == nil {
						t.Errorf("%s: tampered payload accepted", name)
					}
					if _, err := verifier.Verify(other, good, opts); err == nil {
						t.Errorf("%s: token accepted with a different key", name)
					}
					if alt, ok := confusable[alg]; ok {
						if _, err := verifier.Verify(k.WithAlg(alt), good, opts); err == nil {
							t.Errorf("%s: %s token accepted by a %s verifier", name, alg, alt)
						}
					}
				}
			}
			for what, c := range badClaims {
				for _, signer := range matrixPeers() {
					token, err := signer.Sign(k, c)
					if err != nil {
						t.Fatalf("%s sign: %v", signer.Name, err)
					}
					for _, verifier := range matrixPeers() {
						_, err := verifier.Verify(k, token, opts)
						if what == "ok-reference" {
							if err != nil {
								t.Errorf("%s -> %s: reference token rejected: %v", signer.Name, verifier.Name, err)
							}
						} else if err == nil {
							t.Errorf("%s -> %s: %s token accepted", signer.Name, verifier.Name, what)
						}
					}
				}
			}
		})
	}
}
