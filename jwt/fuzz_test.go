package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary tokens to verifiers with an HMAC key and an
// ECDSA key. Nothing may panic, and nothing may be accepted unless the
// standard library, asked directly, agrees that the signature is valid.
func FuzzVerify(f *testing.F) {
	hk := testKey(f)
	ek := keyFor(f, ES256)
	hs, _ := NewSigner(hk, HS256, SignerOptions{})
	es, _ := NewSigner(ek, ES256, SignerOptions{})
	for _, p := range []string{`{}`, `{"sub":"u","exp":1767229200}`, benchPayload, `{"aud":["a"],"nbf":1.5e9}`} {
		tok, _ := hs.Sign([]byte(p))
		f.Add(tok)
		tok, _ = es.Sign([]byte(p))
		f.Add(tok)
	}
	f.Add(hsToken(`{"alg":"none"}`, `{}`))
	f.Add(hsToken(`{"alg":"HS256","crit":["x"],"x":1}`, `{"a":{"b":[1,2,3]}}`))
	f.Add(hsToken(`{"alg":"HS256","enc":"A128GCM"}`, `{}`))
	f.Add(hsToken(`{"alg":"HS256","zip":"DEF"}`, `{}`))
	f.Add("a.b.c")
	f.Add("..")
	hv := testVerifier(f, VerifierOptions{Critical: []string{"x"}})
	ev, _ := NewVerifier(ek.Public(), VerifierOptions{Clock: fixedClock(t0)})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string) {
		for _, v := range []*Verifier{hv, ev} {
			tok, err := v.Verify(ctx, token)
			sigTok, sigErr := v.VerifySignature(ctx, token)
			if err == nil && sigErr != nil {
				t.Fatalf("Verify accepted what VerifySignature refused: %v", sigErr)
			}
			// Precheck is Verify without the signature: what it refuses,
			// Verify refuses; with a good signature, both answer alike;
			// what Verify accepts, Precheck reads the same.
			pre, perr := v.Precheck(ctx, token)
			switch {
			case perr != nil && err == nil:
				t.Fatalf("Precheck refused what Verify accepted: %v", perr)
			case sigErr == nil && (perr == nil) != (err == nil):
				t.Fatalf("good signature: Precheck %v, Verify %v", perr, err)
			case sigErr == nil && perr != nil && perr.Error() != err.Error():
				t.Fatalf("good signature: Precheck %v, Verify %v", perr, err)
			case err == nil && (pre.Claims.ID != tok.Claims.ID || pre.Claims.Subject != tok.Claims.Subject || pre.Header.Raw() != tok.Header.Raw() || pre.Key() != tok.Key()):
				t.Fatalf("Precheck and Verify read different claims: %+v, %+v", pre.Claims, tok.Claims)
			}
			if sigErr != nil {
				continue
			}
			if tok == nil && err == nil {
				t.Fatal("nil token without error")
			}
			i := strings.LastIndexByte(token, '.')
			input := []byte(token[:i])
			sig, derr := base64.RawURLEncoding.Strict().DecodeString(token[i+1:])
			if derr != nil {
				t.Fatalf("accepted a signature that is not base64url: %q", token[i+1:])
			}
			switch sigTok.Header.Alg {
			case HS256:
				m := hmac.New(sha256.New, testSecret)
				m.Write(input)
				if !hmac.Equal(m.Sum(nil), sig) {
					t.Fatal("accepted an HS256 token with a wrong MAC")
				}
			case ES256:
				pub := ek.pub.(*ecdsa.PublicKey)
				h := sha256.Sum256(input)
				r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
				if !ecdsa.Verify(pub, h[:], r, s) {
					t.Fatal("accepted an ES256 token with a wrong signature")
				}
			default:
				t.Fatalf("accepted alg %q", sigTok.Header.Alg)
			}
			var hdr map[string]json.RawMessage
			if json.Unmarshal([]byte(sigTok.Header.Raw()), &hdr) != nil {
				t.Fatalf("accepted a header encoding/json refuses: %s", sigTok.Header.Raw())
			}
			if _, ok := hdr["enc"]; ok {
				t.Fatal("accepted a header with enc (a JWE header)")
			}
			if _, ok := hdr["zip"]; ok {
				t.Fatal("accepted a header with zip")
			}
			if err == nil && !json.Valid(tok.Payload()) {
				t.Fatal("accepted claims that are not JSON")
			}
		}
	})
}

// isJSONNumber reports whether s is a JSON number (big.Rat accepts more:
// fractions like 1/2, hex, a leading '+').
func isJSONNumber(s string) bool {
	var v any
	return json.Unmarshal([]byte(s), &v) == nil && len(s) > 0 && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}

// FuzzNumericDate checks that exact decimal parsing agrees with a
// big-number reading of the same text.
func FuzzNumericDate(f *testing.F) {
	for _, s := range []string{"0", "1767225600", "1767225600.5", "1.7e9", "1e-9", "9223372036854775807", "-1", "1e400", "12.000000000999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var d NumericDate
		err := d.UnmarshalJSON([]byte(in))
		// JSON allows whitespace around a value; judge the value itself.
		s := strings.Trim(in, " \t\r\n")
		if !json.Valid([]byte(in)) || strings.ContainsAny(s, " \t\r\n") || !isJSONNumber(s) {
			if err == nil {
				t.Fatalf("accepted %q", in)
			}
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return // an exponent too large for math/big: no oracle (zero mantissas are 0, others too large)
		}
		if r.Sign() < 0 || strings.HasPrefix(s, "-") {
			if err == nil {
				t.Fatalf("accepted negative %q", s)
			}
			return
		}
		sec := new(big.Int).Quo(r.Num(), r.Denom())
		if !sec.IsInt64() || sec.Int64() > maxUnixSeconds {
			if err == nil {
				t.Fatalf("accepted too large %q", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("refused %q: %v", s, err)
		}
		frac := new(big.Rat).Sub(r, new(big.Rat).SetInt(sec))
		ns := new(big.Int).Quo(new(big.Int).Mul(frac.Num(), big.NewInt(1e9)), frac.Denom())
		if d.Unix() != sec.Int64() || int64(d.Nanosecond()) != ns.Int64() {
			t.Fatalf("%q: got %d.%09d, want %s.%09d", s, d.Unix(), d.Nanosecond(), sec, ns)
		}
	})
}
