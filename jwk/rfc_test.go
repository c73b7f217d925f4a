package jwk

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// rfcVector is one file of ../testdata/rfc (see its README.md).
type rfcVector struct {
	Source         string          `json:"source"`
	Alg            string          `json:"alg"`
	Key            json.RawMessage `json:"key"`
	PublicKey      json.RawMessage `json:"public_key"`
	Protected      string          `json:"protected"`
	Payload        string          `json:"payload"`
	Token          string          `json:"token"`
	Thumbprint     string          `json:"thumbprint"`
	Deterministic  bool            `json:"deterministic"`
	ValidSignature bool            `json:"valid_signature"`
}

func loadVectors(t testing.TB) map[string]rfcVector {
	t.Helper()
	files, err := filepath.Glob("../testdata/rfc/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no RFC vectors: %v", err)
	}
	out := make(map[string]rfcVector)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v rfcVector
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = v
	}
	return out
}

// before2011Exp is a clock before the exp (2011-03-22) of RFC 7515 A.1-A.3.
func before2011Exp() time.Time { return time.Unix(1300819380-3600, 0) }

func TestRFCVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			if v.Alg == "none" {
				if v.ValidSignature {
					t.Fatal("alg none vector marked valid")
				}
				// RFC 7515 A.5: alg none. The key is null, which is no JWK.
				if _, err := ParseKey(v.Key); !errors.Is(err, ErrInvalidKey) {
					t.Errorf("ParseKey(null) = %v, want ErrInvalidKey", err)
				}
				k, err := GenerateHMAC(jwt.HS256, 0)
				if err != nil {
					t.Fatal(err)
				}
				set, err := NewSet(k)
				if err != nil {
					t.Fatal(err)
				}
				ver, _ := jwt.NewVerifier(set, jwt.VerifierOptions{Clock: before2011Exp})
				if _, err := ver.VerifySignature(context.Background(), v.Token); !errors.Is(err, jwt.ErrAlgorithm) {
					t.Errorf("alg none token: %v, want jwt.ErrAlgorithm", err)
				}
				return
			}
			key, err := ParseKey(v.Key)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			checkRoundTrip(t, key)
			if v.Thumbprint != "" {
				got, err := key.ThumbprintBase64(crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				if got != v.Thumbprint {
					t.Errorf("thumbprint %s, RFC says %s", got, v.Thumbprint)
				}
			}
			if v.PublicKey != nil {
				pub, err := ParseKey(v.PublicKey)
				if err != nil {
					t.Fatalf("ParseKey(public_key): %v", err)
				}
				if pub.IsPrivate() {
					t.Error("public_key parsed as private")
				}
				got, _ := pub.ThumbprintBase64(0)
				if want, _ := key.ThumbprintBase64(0); got != want {
					t.Errorf("public and private thumbprints differ: %s, %s", got, want)
				}
				// The public JWK marshals to the RFC's bytes (compared as
				// JSON values).
				out, err := key.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				if !sameJSON(t, out, v.PublicKey) {
					t.Errorf("MarshalJSON = %s, RFC public key %s", out, v.PublicKey)
				}
			}
			// The private JWK marshals back to the RFC's members.
			priv, err := key.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, priv, v.Key) {
				t.Errorf("MarshalPrivate = %s\nRFC key %s", priv, v.Key)
			}
			if v.Token == "" {
				return
			}
			for _, ks := range []struct {
				name string
				set  func() (jwt.KeySet, error)
			}{
				{"verification key", func() (jwt.KeySet, error) { return key.VerificationKey() }},
				{"set", func() (jwt.KeySet, error) {
					jwks := []byte(`{"keys":[` + string(v.Key) + `]}`)
					return ParseSet(jwks)
				}},
				{"public set", func() (jwt.KeySet, error) {
					if key.IsSymmetric() {
						return NewSetFromKeys(key)
					}
					b, err := key.MarshalJSON()
					if err != nil {
						return nil, err
					}
					return ParsePublicSet([]byte(`{"keys":[` + string(b) + `]}`))
				}},
			} {
				set, err := ks.set()
				if err != nil {
					t.Fatalf("%s: %v", ks.name, err)
				}
				ver, err := jwt.NewVerifier(set, jwt.VerifierOptions{Clock: before2011Exp})
				if err != nil {
					t.Fatal(err)
				}
				tok, err := ver.VerifySignature(context.Background(), v.Token)
				if err != nil {
					t.Fatalf("%s: VerifySignature: %v", ks.name, err)
				}
				if string(tok.Payload()) != v.Payload {
					t.Errorf("%s: payload %q, want %q", ks.name, tok.Payload(), v.Payload)
				}
				if v.Payload[0] == '{' {
					if _, err := ver.Verify(context.Background(), v.Token); err != nil {
						t.Errorf("%s: Verify: %v", ks.name, err)
					}
				}
				// A flipped signature bit fails.
				bad := []byte(v.Token)
				last := len(bad) - 2
				if bad[last] == 'A' {
					bad[last] = 'B'
				} else {
					bad[last] = 'A'
				}
				if _, err := ver.VerifySignature(context.Background(), string(bad)); err == nil {
					t.Errorf("%s: a corrupted signature verified", ks.name)
				}
			}
			// Re-signing gives the RFC's token when the algorithm is
			// deterministic.
			sk, err := key.SigningKey()
			if err != nil {
				t.Fatal(err)
			}
			if v.Deterministic {
				hdr := map[string]any{}
				if err := json.Unmarshal([]byte(v.Protected), &hdr); err != nil {
					t.Fatal(err)
				}
				// Only headers that are exactly {"alg":..} or
				// {"alg":..,"kid":..} in this order can be reproduced.
				want := `{"alg":"` + v.Alg + `"`
				if key.KeyID() != "" {
					want += `,"kid":"` + key.KeyID() + `"`
				}
				if v.Protected == want+"}" {
					s, err := jwt.NewSigner(sk, jwt.Algorithm(v.Alg), jwt.SignerOptions{OmitType: true})
					if err != nil {
						t.Fatal(err)
					}
					got, err := s.SignPayload([]byte(v.Payload))
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("re-signed %s", v.Alg)
					if got != v.Token {
						t.Errorf("re-signed token differs:\n got %s\nwant %s", got, v.Token)
					}
				}
			}
		})
	}
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

func TestRFC7638Thumbprint(t *testing.T) {
	v := loadVectors(t)["rfc7638-3.1.json"]
	key, err := ParseKey(v.Key)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 7638 section 3.1 prints the hash input and the raw hash.
	jk, _ := key.VerificationKey()
	in, err := thumbprintInput(jk)
	if err != nil {
		t.Fatal(err)
	}
	const wantIn = `{"e":"AQAB","kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`
	if string(in) != wantIn {
		t.Errorf("thumbprint input\n got %s\nwant %s", in, wantIn)
	}
	raw, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	wantRaw := []byte{55, 54, 203, 177, 120, 124, 184, 48, 156, 119, 238, 140, 55, 5, 197,
		225, 111, 251, 158, 133, 151, 21, 144, 31, 30, 76, 89, 177, 17, 130, 245, 123}
	if !bytes.Equal(raw, wantRaw) {
		t.Errorf("thumbprint %v, want %v", raw, wantRaw)
	}
	if s, _ := key.ThumbprintBase64(0); s != v.Thumbprint {
		t.Errorf("thumbprint %s, want %s", s, v.Thumbprint)
	}
	// kid, alg and use do not change the thumbprint; KeyID prefers the kid.
	if id, _ := KeyID(jk); id != "2011-04-29" {
		t.Errorf("KeyID = %q, want the kid", id)
	}
	anon, _ := NewKey(jk.WithID(""))
	if id, _ := KeyID(anon.key); id != v.Thumbprint {
		t.Errorf("KeyID of a key without kid = %q, want the thumbprint", id)
	}
	ek, err := EnsureKeyID(anon.key)
	if err != nil || ek.ID() != v.Thumbprint {
		t.Errorf("EnsureKeyID = %v, %v", ek, err)
	}
	if ek, _ := EnsureKeyID(jk); ek != jk {
		t.Error("EnsureKeyID replaced a key that has an ID")
	}
	// Other hashes work; hashes not linked in do not.
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA384, crypto.SHA512} {
		tp, err := key.Thumbprint(h)
		if err != nil || len(tp) != h.Size() {
			t.Errorf("Thumbprint(%v) = %x, %v", h, tp, err)
		}
	}
	if _, err := key.Thumbprint(crypto.MD4); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Thumbprint(MD4) error %v, want ErrUnsupported", err)
	}
	if _, err := key.Thumbprint(crypto.Hash(999)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Thumbprint(999) error %v, want ErrUnsupported", err)
	}
}
