package jwt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestVerifyRejects(t *testing.T) {
	valid := hsToken(hs256, `{"sub":"u"}`)
	parts := strings.Split(valid, ".")
	sigHS := parts[2]
	hdrSeg := parts[0]

	tests := []struct {
		name  string
		token string
		opts  VerifierOptions
		want  error
		msg   string // a word the error message must contain
	}{
		// Size and segments.
		{"too large", hsToken(hs256, `{"sub":"`+strings.Repeat("a", 9000)+`"}`), VerifierOptions{}, ErrTooLarge, "limit"},
		{"custom size limit", valid, VerifierOptions{MaxSize: 20}, ErrTooLarge, ""},
		{"empty", "", VerifierOptions{}, ErrMalformed, "segments"},
		{"one segment", hdrSeg, VerifierOptions{}, ErrMalformed, "segments"},
		{"two segments", parts[0] + "." + parts[1], VerifierOptions{}, ErrMalformed, "segments"},
		{"four segments", valid + ".x", VerifierOptions{}, ErrMalformed, "4 segments"},
		{"JWE", "a.b.c.d.e", VerifierOptions{}, ErrMalformed, "JWE"},
		{"empty signature", parts[0] + "." + parts[1] + ".", VerifierOptions{}, ErrSignature, "no signature"},

		// Canonical base64url.
		{"padded header", signRaw(hdrSeg+"=", parts[1]), VerifierOptions{}, ErrMalformed, "base64url"},
		{"padded signature", valid + "=", VerifierOptions{}, ErrSignature, ""},
		{"std alphabet in payload", signRaw(hdrSeg, strings.ReplaceAll(enc(`{"sub":"??>>"}`), "_", "/")), VerifierOptions{}, ErrMalformed, "base64url"},
		{"plus in signature", parts[0] + "." + parts[1] + "." + strings.Replace(sigHS, sigHS[:1], "+", 1), VerifierOptions{}, ErrMalformed, "base64url"},
		{"newline in payload", signRaw(hdrSeg, parts[1][:4]+"\n"+parts[1][4:]), VerifierOptions{}, ErrMalformed, "base64url"},
		{"space in header", signRaw(hdrSeg[:4]+" "+hdrSeg[4:], parts[1]), VerifierOptions{}, ErrMalformed, "base64url"},
		{"non-zero trailing bits", signRaw(hdrSeg, enc(`{"sub":"u"}`)[:14]+"R"), VerifierOptions{}, ErrMalformed, "base64url"},
		{"impossible length", signRaw(hdrSeg, parts[1]+"AA"), VerifierOptions{}, ErrMalformed, "base64url"},
		{"signature bit flipped", parts[0] + "." + parts[1] + "." + flip(sigHS), VerifierOptions{}, ErrSignature, ""},
		{"signature truncated", parts[0] + "." + parts[1] + "." + sigHS[:40], VerifierOptions{}, ErrSignature, "length"},

		// Header.
		{"alg none", hsToken(`{"alg":"none"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "never"},
		{"alg None", hsToken(`{"alg":"None"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "never"},
		{"alg NONE", hsToken(`{"alg":"NONE"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "never"},
		{"alg nOnE", hsToken(`{"alg":"nOnE"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "never"},
		{"alg none unsigned", enc(`{"alg":"none"}`) + "." + enc(`{}`) + ".", VerifierOptions{}, ErrAlgorithm, ""},
		{"alg escaped none", hsToken(`{"alg":"n\u006fne"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "never"},
		{"alg missing", hsToken(`{"typ":"JWT"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "no alg"},
		{"alg unknown", hsToken(`{"alg":"HS257"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "unknown"},
		{"alg lower case", hsToken(`{"alg":"hs256"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "unknown"},
		{"alg not a string", hsToken(`{"alg":256}`, `{}`), VerifierOptions{}, ErrMalformed, "not a string"},
		{"alg not in allowlist", valid, VerifierOptions{Algorithms: []Algorithm{HS512}}, ErrAlgorithm, "allowlist"},
		{"alg not allowed by key", hsToken(`{"alg":"RS256"}`, `{}`), VerifierOptions{}, ErrAlgorithm, "RS256"},
		{"header not an object", hsToken(`["HS256"]`, `{}`), VerifierOptions{}, ErrMalformed, "object"},
		{"header duplicate alg", hsToken(`{"alg":"HS256","alg":"none"}`, `{}`), VerifierOptions{}, ErrMalformed, "duplicate"},
		{"header duplicate after unescape", hsToken(`{"alg":"HS256","\u0061lg":"HS256"}`, `{}`), VerifierOptions{}, ErrMalformed, "duplicate"},
		{"header trailing data", hsToken(hs256+`{}`, `{}`), VerifierOptions{}, ErrMalformed, "after"},
		{"header invalid UTF-8", hsToken("{\"alg\":\"HS256\",\"x\":\"\xff\"}", `{}`), VerifierOptions{}, ErrMalformed, "UTF-8"},
		{"b64 false", hsToken(`{"alg":"HS256","b64":false,"crit":["b64"]}`, `{}`), VerifierOptions{Critical: []string{"b64"}}, ErrMalformed, "b64"},
		{"b64 false without crit", hsToken(`{"alg":"HS256","b64":false}`, `{}`), VerifierOptions{}, ErrMalformed, "b64"},
		{"b64 not boolean", hsToken(`{"alg":"HS256","b64":"false"}`, `{}`), VerifierOptions{}, ErrMalformed, "b64"},
		{"enc", hsToken(`{"alg":"HS256","enc":"A128GCM"}`, `{}`), VerifierOptions{}, ErrNotJWS, `"enc"`},
		{"enc null", hsToken(`{"alg":"HS256","enc":null}`, `{}`), VerifierOptions{}, ErrNotJWS, `"enc"`},
		{"enc escaped", hsToken(`{"alg":"HS256","\u0065nc":"A256GCM"}`, `{}`), VerifierOptions{}, ErrNotJWS, `"enc"`},
		{"enc with crit", hsToken(`{"alg":"HS256","crit":["enc"],"enc":"A128GCM"}`, `{}`), VerifierOptions{Critical: []string{"enc"}}, ErrNotJWS, "JWE"},
		{"zip", hsToken(`{"alg":"HS256","zip":"DEF"}`, `{}`), VerifierOptions{}, ErrNotJWS, `"zip"`},
		{"zip empty", hsToken(`{"alg":"HS256","zip":""}`, `{}`), VerifierOptions{}, ErrNotJWS, `"zip"`},
		{"zip before alg", hsToken(`{"zip":"DEF","alg":"HS256"}`, `{}`), VerifierOptions{}, ErrMalformed, "RFC 7516"},
		{"enc nested", hsToken(`{"alg":"HS256","x":{"enc":"A128GCM","zip":"DEF"}}`, `{}`), VerifierOptions{}, nil, ""}, // only top-level members are header parameters
		{"crit empty", hsToken(`{"alg":"HS256","crit":[]}`, `{}`), VerifierOptions{}, ErrCritical, "empty"},
		{"crit unknown", hsToken(`{"alg":"HS256","crit":["exp"],"exp":1}`, `{}`), VerifierOptions{}, ErrCritical, "not understood"},
		{"crit registered", hsToken(`{"alg":"HS256","crit":["alg"]}`, `{}`), VerifierOptions{Critical: []string{"alg"}}, ErrCritical, "registered"},
		{"crit absent member", hsToken(`{"alg":"HS256","crit":["ext"]}`, `{}`), VerifierOptions{Critical: []string{"ext"}}, ErrCritical, "lacks"},
		{"crit duplicate", hsToken(`{"alg":"HS256","crit":["ext","ext"],"ext":1}`, `{}`), VerifierOptions{Critical: []string{"ext"}}, ErrCritical, "twice"},
		{"crit not array", hsToken(`{"alg":"HS256","crit":"ext","ext":1}`, `{}`), VerifierOptions{Critical: []string{"ext"}}, ErrCritical, ""},
		{"crit non-string", hsToken(`{"alg":"HS256","crit":[1],"ext":1}`, `{}`), VerifierOptions{Critical: []string{"ext"}}, ErrCritical, ""},
		{"typ required", valid, VerifierOptions{Type: "at+jwt"}, ErrMalformed, "typ"},
		{"kid of other key", hsToken(`{"alg":"HS256","kid":"a"}`, `{}`), VerifierOptions{}, nil, ""}, // a key without ID accepts any kid

		// Payload JSON.
		{"payload not object", hsToken(hs256, `"sub"`), VerifierOptions{}, ErrMalformed, "object"},
		{"payload array", hsToken(hs256, `[{"sub":"u"}]`), VerifierOptions{}, ErrMalformed, "object"},
		{"payload empty", hsToken(hs256, ``), VerifierOptions{}, ErrMalformed, "object"},
		{"payload duplicate sub", hsToken(hs256, `{"sub":"a","sub":"b"}`), VerifierOptions{}, ErrMalformed, "duplicate"},
		{"payload duplicate exp", hsToken(hs256, `{"exp":1,"exp":9999999999}`), VerifierOptions{}, ErrMalformed, "duplicate"},
		{"nested duplicate", hsToken(hs256, `{"a":{"b":1,"b":2}}`), VerifierOptions{}, ErrMalformed, "duplicate"},
		{"many members duplicate", hsToken(hs256, manyMembers(40, true)), VerifierOptions{}, ErrMalformed, "duplicate"},
		{"invalid UTF-8", hsToken(hs256, "{\"sub\":\"\xc3\x28\"}"), VerifierOptions{}, ErrMalformed, "UTF-8"},
		{"UTF-8 surrogate", hsToken(hs256, "{\"sub\":\"\xed\xa0\x80\"}"), VerifierOptions{}, ErrMalformed, "UTF-8"},
		{"overlong UTF-8", hsToken(hs256, "{\"sub\":\"\xc0\xaf\"}"), VerifierOptions{}, ErrMalformed, "UTF-8"},
		{"lone high surrogate", hsToken(hs256, `{"sub":"\ud800"}`), VerifierOptions{}, ErrMalformed, "surrogate"},
		{"lone low surrogate", hsToken(hs256, `{"sub":"\udc00x"}`), VerifierOptions{}, ErrMalformed, "surrogate"},
		{"control character", hsToken(hs256, "{\"sub\":\"a\tb\"}"), VerifierOptions{}, ErrMalformed, "control"},
		{"bad escape", hsToken(hs256, `{"sub":"\x41"}`), VerifierOptions{}, ErrMalformed, "escape"},
		{"too deep", hsToken(hs256, `{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), VerifierOptions{}, ErrMalformed, "deeper"},
		{"leading zero", hsToken(hs256, `{"exp":01}`), VerifierOptions{}, ErrMalformed, ""},
		{"trailing comma", hsToken(hs256, `{"sub":"u",}`), VerifierOptions{}, ErrMalformed, ""},
		{"single quotes", hsToken(hs256, `{'sub':'u'}`), VerifierOptions{}, ErrMalformed, ""},
		{"NaN", hsToken(hs256, `{"exp":NaN}`), VerifierOptions{}, ErrMalformed, ""},
		{"unterminated", hsToken(hs256, `{"sub":"u"`), VerifierOptions{}, ErrMalformed, ""},

		// Registered claim types.
		{"exp string", hsToken(hs256, `{"exp":"1767229200"}`), VerifierOptions{}, ErrMalformed, "not a number"},
		{"exp null", hsToken(hs256, `{"exp":null}`), VerifierOptions{}, ErrMalformed, "not a number"},
		{"exp boolean", hsToken(hs256, `{"exp":true}`), VerifierOptions{}, ErrMalformed, "not a number"},
		{"exp negative", hsToken(hs256, `{"exp":-1}`), VerifierOptions{}, ErrMalformed, "negative"},
		{"exp negative zero", hsToken(hs256, `{"exp":-0}`), VerifierOptions{}, ErrMalformed, "negative"},
		{"exp overflow", hsToken(hs256, `{"exp":9223372036854775808}`), VerifierOptions{}, ErrMalformed, "too large"},
		{"exp huge exponent", hsToken(hs256, `{"exp":1e400}`), VerifierOptions{}, ErrMalformed, "too large"},
		{"nbf array", hsToken(hs256, `{"nbf":[1]}`), VerifierOptions{}, ErrMalformed, "not a number"},
		{"iat object", hsToken(hs256, `{"iat":{}}`), VerifierOptions{}, ErrMalformed, "not a number"},
		{"sub number", hsToken(hs256, `{"sub":12345}`), VerifierOptions{}, ErrMalformed, "not a string"},
		{"iss null", hsToken(hs256, `{"iss":null}`), VerifierOptions{}, ErrMalformed, "not a string"},
		{"jti number", hsToken(hs256, `{"jti":1}`), VerifierOptions{}, ErrMalformed, "not a string"},
		{"aud number", hsToken(hs256, `{"aud":1}`), VerifierOptions{Audiences: []string{"x"}}, ErrMalformed, "aud"},
		{"aud mixed array", hsToken(hs256, `{"aud":["x",1]}`), VerifierOptions{Audiences: []string{"x"}}, ErrMalformed, "aud"},

		// Time claims: exp exclusive, nbf inclusive.
		{"expired", hsToken(hs256, `{"exp":1767225599}`), VerifierOptions{}, ErrExpired, "exp"},
		{"exp equals now", hsToken(hs256, `{"exp":1767225600}`), VerifierOptions{}, ErrExpired, ""},
		{"exp fraction before now", hsToken(hs256, `{"exp":1767225599.999}`), VerifierOptions{}, ErrExpired, ""},
		{"expired beyond leeway", hsToken(hs256, `{"exp":1767225540}`), VerifierOptions{Leeway: 60 * time.Second}, ErrExpired, "leeway 1m0s"},
		{"not yet valid", hsToken(hs256, `{"nbf":1767225601}`), VerifierOptions{}, ErrNotYetValid, "nbf"},
		{"nbf fraction after now", hsToken(hs256, `{"nbf":1767225600.000000001}`), VerifierOptions{}, ErrNotYetValid, ""},
		{"nbf beyond leeway", hsToken(hs256, `{"nbf":1767225661}`), VerifierOptions{Leeway: time.Minute}, ErrNotYetValid, ""},
		{"iat in future", hsToken(hs256, `{"iat":1767225601}`), VerifierOptions{}, ErrIssuedInFuture, "iat"},
		{"iat beyond leeway", hsToken(hs256, `{"iat":1767225661}`), VerifierOptions{Leeway: time.Minute}, ErrIssuedInFuture, ""},

		// Issuer, audience, required claims.
		{"issuer missing", valid, VerifierOptions{Issuers: []string{"a"}}, ErrIssuer, "no iss"},
		{"issuer wrong", hsToken(hs256, `{"iss":"b"}`), VerifierOptions{Issuers: []string{"a"}}, ErrIssuer, `"b"`},
		{"aud unexpected", hsToken(hs256, `{"aud":"api"}`), VerifierOptions{}, ErrAudience, "expects none"},
		{"aud missing", valid, VerifierOptions{Audiences: []string{"api"}}, ErrAudience, "no aud"},
		{"aud wrong", hsToken(hs256, `{"aud":["web","app"]}`), VerifierOptions{Audiences: []string{"api"}}, ErrAudience, ""},
		{"aud case differs", hsToken(hs256, `{"aud":"API"}`), VerifierOptions{Audiences: []string{"api"}}, ErrAudience, ""},
		{"required exp", valid, VerifierOptions{RequiredClaims: []string{"exp"}}, ErrMissingClaim, "exp"},
		{"required custom", valid, VerifierOptions{RequiredClaims: []string{"sub", "roles"}}, ErrMissingClaim, "roles"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, tt.opts)
			tok, err := v.Verify(ctx, tt.token)
			pre, perr := v.Precheck(ctx, tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if perr != nil || pre.Raw() != tok.Raw() || pre.Payload() == nil {
					t.Fatalf("Precheck of a valid token: %v", perr)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", tok.Claims)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %q does not wrap %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not say %q", err, tt.msg)
			}
			// Precheck refuses with Verify's own error, or passes a token
			// whose only fault is its signature: the same header and
			// payload, signed, verify.
			if perr != nil {
				if perr.Error() != err.Error() {
					t.Fatalf("Precheck error %q, Verify's %q", perr, err)
				}
				return
			}
			d1, d2 := strings.IndexByte(tt.token, '.'), strings.LastIndexByte(tt.token, '.')
			if _, err := v.Verify(ctx, signRaw(tt.token[:d1], tt.token[d1+1:d2])); err != nil {
				t.Fatalf("Precheck passed a token refused for more than its signature: %v", err)
			}
		})
	}
}

// TestSignatureBeforePayload: a token with a forged signature is refused
// for its signature whatever its payload holds, so that a forger cannot
// make the verifier parse claims nobody signed, nor learn which claim
// check a payload would fail.
func TestSignatureBeforePayload(t *testing.T) {
	key, _ := NewHMACKey(testSecret)
	v, err := NewVerifier(key, VerifierOptions{Clock: fixedClock(t0), Audiences: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	payloads := map[string]string{
		"not an object":     `"sub"`,
		"duplicate member":  `{"aud":"api","aud":"api","sub":"a"}`,
		"too deep":          `{"aud":"api","a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
		"invalid UTF-8":     "{\"aud\":\"api\",\"sub\":\"\xc3\x28\"}",
		"lone surrogate":    `{"aud":"api","sub":"\ud800"}`,
		"exp a string":      `{"aud":"api","exp":"1767229200"}`,
		"unterminated":      `{"aud":"api","sub":"u"`,
		"expired":           `{"aud":"api","exp":1767225599}`,
		"another audience":  `{"aud":"web"}`,
		"issued in future":  `{"aud":"api","iat":1767229200}`,
		"many members":      manyMembers(40, true),
		"valid, for a base": `{"aud":"api","sub":"u"}`,
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			good := hsToken(hs256, payload)
			// Signed, the payload is refused for what it holds.
			if _, err := v.Verify(context.Background(), good); (err == nil) != (name == "valid, for a base") || errors.Is(err, ErrSignature) {
				t.Fatalf("signed: %v", err)
			}
			d := strings.LastIndexByte(good, '.')
			forged := good[:d+1] + flip(good[d+1:])
			_, err := v.Verify(context.Background(), forged)
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("forged signature: %v, want ErrSignature", err)
			}
			for _, claimErr := range []error{ErrMalformed, ErrExpired, ErrAudience, ErrIssuedInFuture} {
				if errors.Is(err, claimErr) {
					t.Fatalf("forged signature: %v, which tells the payload's fault (%v)", err, claimErr)
				}
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func manyMembers(n int, dup bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"m` + strings.Repeat("x", i) + `":1`)
	}
	if dup {
		b.WriteString(`,"m` + strings.Repeat("x", n-3) + `":2`)
	}
	b.WriteString("}")
	return b.String()
}

func TestVerifyAccepts(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		payload string
		opts    VerifierOptions
		check   func(t *testing.T, c *Claims)
	}{
		{"empty claims", `{}`, VerifierOptions{}, nil},
		{"enc and zip claims", `{"enc":"A128GCM","zip":"DEF"}`, VerifierOptions{}, nil}, // JWE names only matter in the header
		{"whitespace and CRLF", "\r\n {\"sub\" : \"u\" ,\r\n \"exp\":1767229200 }\t", VerifierOptions{}, func(t *testing.T, c *Claims) {
			if c.Subject != "u" {
				t.Errorf("sub %q", c.Subject)
			}
		}},
		{"exp one ns after now", `{"exp":1767225600.000000001}`, VerifierOptions{}, nil},
		{"exp within leeway", `{"exp":1767225541}`, VerifierOptions{Leeway: time.Minute}, nil},
		{"nbf equals now", `{"nbf":1767225600}`, VerifierOptions{}, nil},
		{"nbf within leeway", `{"nbf":1767225660}`, VerifierOptions{Leeway: time.Minute}, nil},
		{"iat equals now", `{"iat":1767225600}`, VerifierOptions{}, nil},
		{"iat within leeway", `{"iat":1767225660}`, VerifierOptions{Leeway: time.Minute}, nil},
		{"exp with exponent", `{"exp":1.7672256001E9}`, VerifierOptions{}, func(t *testing.T, c *Claims) {
			if got := c.ExpiresAt.Unix(); got != 1767225600 || c.ExpiresAt.Nanosecond() != 100000000 {
				t.Errorf("exp %v", c.ExpiresAt.Time)
			}
		}},
		{"expired but ignored", `{"exp":1}`, VerifierOptions{IgnoreExpiry: true}, nil},
		{"exp fraction kept", `{"exp":1767229200.123456789}`, VerifierOptions{}, func(t *testing.T, c *Claims) {
			if c.ExpiresAt.Nanosecond() != 123456789 {
				t.Errorf("nsec %d", c.ExpiresAt.Nanosecond())
			}
		}},
		{"far future exp", `{"exp":99999999999}`, VerifierOptions{}, nil},
		{"escaped strings", `{"sub":"\u00e9\ud83d\ude00\n\"","iss":"a\/b"}`, VerifierOptions{Issuers: []string{"a/b"}}, func(t *testing.T, c *Claims) {
			if c.Subject != "é😀\n\"" {
				t.Errorf("sub %q", c.Subject)
			}
		}},
		{"aud string", `{"aud":"api"}`, VerifierOptions{Audiences: []string{"web", "api"}}, func(t *testing.T, c *Claims) {
			if len(c.Audience) != 1 || c.Audience[0] != "api" {
				t.Errorf("aud %q", c.Audience)
			}
		}},
		{"aud array", `{"aud":["web","api"]}`, VerifierOptions{Audiences: []string{"api"}}, nil},
		{"issuer", `{"iss":"https://id.example"}`, VerifierOptions{Issuers: []string{"https://id.example"}}, nil},
		{"required", `{"sub":"u","exp":1767229200,"roles":[]}`, VerifierOptions{RequiredClaims: []string{"exp", "sub", "roles"}}, nil},
		{"nested ok", `{"a":{"b":{"c":[1,2,{"d":null}]}},"b":true,"c":false,"d":-1.5e-3}`, VerifierOptions{}, nil},
		{"many members", manyMembers(40, false), VerifierOptions{}, nil},
		{"unicode names", `{"ñ":1,"n":2}`, VerifierOptions{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, tt.opts)
			tok, err := v.Verify(ctx, hsToken(hs256, tt.payload))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.check != nil {
				tt.check(t, &tok.Claims)
			}
		})
	}
}

func TestVerifyTypeHeader(t *testing.T) {
	ctx := context.Background()
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt"} {
		v := testVerifier(t, VerifierOptions{Type: "at+jwt"})
		if _, err := v.Verify(ctx, hsToken(`{"alg":"HS256","typ":"`+typ+`"}`, `{}`)); err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
	}
}

func TestHeaderIsType(t *testing.T) {
	tests := []struct {
		typ, want string
		ok        bool
	}{
		{"at+jwt", "at+jwt", true},
		{"AT+JWT", "at+jwt", true},
		{"application/at+jwt", "at+jwt", true},
		{"Application/At+Jwt", "at+jwt", true},
		{"at+jwt", "application/at+jwt", true},
		{"JWT", "at+jwt", false},
		{"", "at+jwt", false},
		{"application/", "at+jwt", false},
		{"application/refresh+jwt", "at+jwt", false},
		{"at+jwt ", "at+jwt", false},
		{"xat+jwt", "at+jwt", false},
	}
	for _, tt := range tests {
		h := Header{Type: tt.typ}
		if got := h.IsType(tt.want); got != tt.ok {
			t.Errorf("Header{typ %q}.IsType(%q) = %v, want %v", tt.typ, tt.want, got, tt.ok)
		}
	}
}

func TestVerifierOptionsInvalid(t *testing.T) {
	k := testKey(t)
	for name, opts := range map[string]VerifierOptions{
		"unknown alg":     {Algorithms: []Algorithm{"none"}},
		"negative leeway": {Leeway: -time.Second},
		"negative size":   {MaxSize: -1},
	} {
		if _, err := NewVerifier(k, opts); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := NewVerifier(nil, VerifierOptions{}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("nil key set: %v", err)
	}
	var nilKey *Key
	if _, err := NewVerifier(nilKey, VerifierOptions{}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("nil key: %v", err)
	}
}

func TestKeyIDMismatch(t *testing.T) {
	k := testKey(t).WithID("k1")
	v, err := NewVerifier(k, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, hsToken(`{"alg":"HS256","kid":"k2"}`, `{}`)); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("kid k2: %v", err)
	}
	if _, err := v.Verify(ctx, hsToken(`{"alg":"HS256","kid":"k1"}`, `{}`)); err != nil {
		t.Fatalf("kid k1: %v", err)
	}
}

// A *Key given to a verifier is a single key: without an ID it verifies
// whatever kid a token names; with an ID, only that kid or none.
func TestSingleKeyKeyID(t *testing.T) {
	ctx := context.Background()
	hk := testKey(t)
	ek := keyFor(t, ES256)
	tests := []struct {
		name   string
		key    *Key   // the verifier's key
		signer *Key   // signs the token, with kid as its ID
		kid    string // the kid the token names
		want   error
	}{
		{"HMAC without ID, token without kid", hk, hk, "", nil},
		{"HMAC without ID, token kid", hk, hk, "idp-key-1", nil},
		{"HMAC without ID, thumbprint-like kid", hk, hk, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", nil},
		{"HMAC with ID, same kid", hk.WithID("k1"), hk, "k1", nil},
		{"HMAC with ID, token without kid", hk.WithID("k1"), hk, "", nil},
		{"HMAC with ID, other kid", hk.WithID("k1"), hk, "idp-key-1", ErrKeyNotFound},
		{"HMAC with ID, kid differs in case", hk.WithID("k1"), hk, "K1", ErrKeyNotFound},
		{"ECDSA public without ID, token kid", ek.Public(), ek, "idp-key-1", nil},
		{"ECDSA public with ID, other kid", ek.Public().WithID("a"), ek, "b", ErrKeyNotFound},
		{"any kid still needs the right key", hk, mustHMAC(t, "another secret of thirty-two bytes!"), "idp-key-1", ErrSignature},
		{"any kid still needs an allowed alg", ek.Public(), hk, "idp-key-1", ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer := tt.signer
			if tt.kid != "" {
				signer = signer.WithID(tt.kid)
			}
			alg := signer.Algorithms()[0]
			s, err := NewSigner(signer, alg, SignerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := s.Sign(Claims{Subject: "u"})
			if err != nil {
				t.Fatal(err)
			}
			v, err := NewVerifier(tt.key, VerifierOptions{Clock: fixedClock(t0)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(ctx, tok)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got.Header.KeyID != tt.kid {
					t.Errorf("kid %q, want %q", got.Header.KeyID, tt.kid)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
}

func mustHMAC(t *testing.T, secret string) *Key {
	t.Helper()
	k, err := NewHMACKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDecodeCustomClaims(t *testing.T) {
	v := testVerifier(t, VerifierOptions{})
	tok, err := v.Verify(context.Background(), hsToken(hs256, `{"sub":"u","uid":9007199254740993,"big":18446744073709551615,"roles":["a","b"],"exp":1767229200}`))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := tok.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if got := m["uid"].(interface{ String() string }).String(); got != "9007199254740993" {
		t.Errorf("uid %s", got)
	}
	if got := m["big"].(interface{ String() string }).String(); got != "18446744073709551615" {
		t.Errorf("big %s", got)
	}
	var s struct {
		Claims
		UID   int64    `json:"uid"`
		Roles []string `json:"roles"`
	}
	if err := tok.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.UID != 9007199254740993 || s.Subject != "u" || len(s.Roles) != 2 || s.ExpiresAt.Unix() != 1767229200 {
		t.Errorf("decoded %+v", s)
	}
	raw, ok := tok.Claim("roles")
	if !ok || string(raw) != `["a","b"]` {
		t.Errorf("Claim(roles) = %s, %v", raw, ok)
	}
	if _, ok := tok.Claim("nope"); ok {
		t.Error("Claim(nope) found")
	}
}

// Tokens of two headers, verified in turn (two keys during a rotation,
// access and refresh tokens of different typ), are both served by the
// header cache: switching between them allocates nothing.
func TestHeaderCacheAlternating(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	v := testVerifier(t, VerifierOptions{})
	ctx := context.Background()
	a := hsToken(hs256, `{"sub":"a"}`)
	b := hsToken(`{"alg":"HS256","typ":"at+jwt"}`, `{"sub":"b"}`)
	for _, tok := range []string{a, b} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if m := v.hcache.Load(); m == nil || len(*m) != 2 {
		t.Fatal("the two headers are not cached")
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, tok := range []string{a, b} {
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
	}); n > 2 {
		t.Errorf("two tokens of alternating headers: %v allocations, want 2 (one Token each)", n)
	}
}

func TestHeaderCacheNotPoisoned(t *testing.T) {
	// A header seen with a bad signature must not enter the cache; the same
	// header with a good signature must still be parsed and checked.
	v := testVerifier(t, VerifierOptions{})
	ctx := context.Background()
	good := hsToken(hs256, `{}`)
	bad := good[:len(good)-2] + "AA"
	if _, err := v.Verify(ctx, bad); err == nil {
		t.Fatal("bad signature accepted")
	}
	if m := v.hcache.Load(); m != nil && len(*m) != 0 {
		t.Fatal("cache filled by a token that failed")
	}
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(ctx, good); err != nil {
			t.Fatal(err)
		}
	}
	if m := v.hcache.Load(); m == nil || len(*m) != 1 {
		t.Fatal("verified header not cached")
	}
	// Cached or not, expired claims are still refused.
	if _, err := v.Verify(ctx, hsToken(hs256, `{"exp":1}`)); !errors.Is(err, ErrExpired) {
		t.Fatal(err)
	}
}

func TestCaptureClaims(t *testing.T) {
	v := testVerifier(t, VerifierOptions{CaptureClaims: []string{"type", "fresh", "csrf"}})
	tok, err := v.Verify(context.Background(), hsToken(hs256, `{"sub":"u","type":"access","fresh":1767225700.5,"roles":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"type": `"access"`, "fresh": "1767225700.5", "roles": `["a"]`, "csrf": "", "nope": ""} {
		got, ok := tok.RawClaim(name)
		if got != want || ok != (want != "") {
			t.Errorf("RawClaim(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for i, want := range []string{`"access"`, "1767225700.5", ""} { // type, fresh, csrf (absent)
		got, ok := tok.CapturedClaim(i)
		if got != want || ok != (want != "") {
			t.Errorf("CapturedClaim(%d) = %q, %v; want %q", i, got, ok, want)
		}
	}
	for _, i := range []int{-1, 3, MaxCapture} {
		if got, ok := tok.CapturedClaim(i); ok {
			t.Errorf("CapturedClaim(%d) = %q, true for an index out of range", i, got)
		}
	}
	if _, ok := new(Token).CapturedClaim(0); ok {
		t.Error("CapturedClaim on a Token no Verifier made reported a claim")
	}
	if _, err := NewVerifier(testKey(t), VerifierOptions{CaptureClaims: make([]string, MaxCapture+1)}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("too many captured claims: %v", err)
	}
}

func TestVerifyIntoBuffer(t *testing.T) {
	v := testVerifier(t, VerifierOptions{CaptureClaims: []string{"type"}})
	payload := `{"sub":"a","type":"x"}`
	for _, size := range []int{0, len(payload) - 1, len(payload), 512} {
		var tok Token
		buf := make([]byte, size)
		if err := v.VerifyIntoBuffer(context.Background(), hsToken(hs256, payload), &tok, buf); err != nil {
			t.Fatal(err)
		}
		if string(tok.Payload()) != payload || tok.Claims.Subject != "a" {
			t.Fatalf("buffer of %d: payload %q", size, tok.Payload())
		}
		inBuf := size >= len(payload) && string(buf[:len(payload)]) == payload
		if inBuf != (size >= len(payload)) {
			t.Errorf("buffer of %d bytes: payload kept in it = %v", size, inBuf)
		}
	}
}

func TestVerifyInto(t *testing.T) {
	v := testVerifier(t, VerifierOptions{CaptureClaims: []string{"type"}})
	var tok Token
	if err := v.VerifyInto(context.Background(), hsToken(hs256, `{"sub":"a","exp":1767229200,"type":"x"}`), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Subject != "a" || tok.Claims.ExpiresAt.Unix() != 1767229200 {
		t.Fatalf("%+v", tok.Claims)
	}
	// Reusing the Token leaves nothing of the previous result behind.
	if err := v.VerifyInto(context.Background(), hsToken(hs256, `{"iss":"b"}`), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Subject != "" || tok.Claims.ExpiresAt != nil || tok.Claims.Issuer != "b" {
		t.Fatalf("stale claims: %+v", tok.Claims)
	}
	if raw, ok := tok.RawClaim("type"); ok {
		t.Fatalf("stale captured claim %q", raw)
	}
	if err := v.VerifyInto(context.Background(), "x.y.z", &tok); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad token: %v", err)
	}
}

func TestPrecheck(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	hmacOnly := testKey(t) // does not allow ES256: Precheck skips it
	key := newES256(t)
	other := newES256(t)
	v, err := NewVerifier(&keyList{keys: []*Key{hmacOnly, key}}, VerifierOptions{
		Clock: fixedClock(now), SignatureCache: 8, CaptureClaims: []string{"htm"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(k *Key, claims string) string {
		s, err := NewSigner(k, ES256, SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign([]byte(claims))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := fmt.Sprintf(`{"jti":"a","iat":%d,"htm":"GET"}`, now.Unix())
	forged := sign(other, claims) // by a key the set does not hold

	pre, err := v.Precheck(ctx, forged)
	if err != nil {
		t.Fatalf("Precheck of a well-formed token: %v", err)
	}
	if pre.Key() != key || pre.Claims.ID != "a" || !pre.Claims.IssuedAt.Equal(now) {
		t.Fatalf("Precheck: key %p (want %p), claims %+v", pre.Key(), key, pre.Claims)
	}
	if htm, ok := pre.RawClaim("htm"); !ok || htm != `"GET"` {
		t.Fatalf("captured htm = %q, %v", htm, ok)
	}
	if _, err := v.Verify(ctx, forged); !errors.Is(err, ErrSignature) {
		t.Fatalf("Verify of the forged token: %v, want ErrSignature", err)
	}
	// Neither cache learns from Precheck: only Verify fills them.
	if m := v.hcache.Load(); m != nil && len(*m) != 0 {
		t.Fatal("Precheck filled the header cache")
	}
	if n := sigCacheLen(v); n != 0 {
		t.Fatalf("Precheck filled the signature cache (%d entries)", n)
	}

	// A genuine token: Precheck and Verify read the same values.
	good := sign(key, claims)
	pre, err = v.Precheck(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Verify(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Key() != tok.Key() || pre.Claims.ID != tok.Claims.ID || string(pre.Payload()) != string(tok.Payload()) || pre.Header.Raw() != tok.Header.Raw() {
		t.Fatalf("Precheck and Verify differ: %+v / %+v", pre.Claims, tok.Claims)
	}

	// Claims are checked: an expired token fails Precheck as Verify does.
	expired := sign(key, fmt.Sprintf(`{"exp":%d}`, now.Unix()))
	if _, err := v.Precheck(ctx, expired); !errors.Is(err, ErrExpired) {
		t.Fatalf("Precheck of an expired token: %v, want ErrExpired", err)
	}
	// A key set with no key for the alg: Verify's error.
	v2, err := NewVerifier(hmacOnly, VerifierOptions{Clock: fixedClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	_, perr := v2.Precheck(ctx, good)
	_, verr := v2.Verify(ctx, good)
	if !errors.Is(perr, ErrAlgorithm) || perr.Error() != verr.Error() {
		t.Fatalf("no key for ES256: Precheck %v, Verify %v", perr, verr)
	}
}

// TestClaimNamesMatchExactly checks the claims scan's name matching:
// names that share a length and the bytes the fingerprint reads, a name
// both required and captured, a name captured twice, the empty name and
// names that differ only in case.
func TestClaimNamesMatchExactly(t *testing.T) {
	tests := []struct {
		name     string
		required []string
		capture  []string
		payload  string
		missing  []string // the required claim reported missing, if any (at most one)
		captured []string // CapturedClaim(i) for each i of capture
	}{
		{"same fingerprint, other name", []string{"axbyc"}, nil, `{"azbwc":1}`, []string{"axbyc"}, nil},
		{"same fingerprint, both present", []string{"axbyc"}, []string{"azbwc", "axbyc"}, `{"azbwc":1,"axbyc":2}`, nil, []string{"1", "2"}},
		{"required and captured", []string{"tenant"}, []string{"tenant"}, `{"tenant":"t1"}`, nil, []string{`"t1"`}},
		{"captured twice", nil, []string{"role", "x", "role"}, `{"role":"r"}`, nil, []string{`"r"`, "", `"r"`}},
		{"empty name", []string{""}, []string{""}, `{"":true}`, nil, []string{"true"}},
		{"empty name missing", []string{""}, nil, `{"a":true}`, []string{""}, nil},
		{"case differs", []string{"Tenant"}, []string{"TENANT"}, `{"tenant":1}`, []string{"Tenant"}, nil},
		{"registered names captured", []string{"sub", "jti"}, []string{"sub", "iat"}, `{"sub":"u","jti":"j","iat":1767225600}`, nil, []string{`"u"`, "1767225600"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, VerifierOptions{RequiredClaims: tt.required, CaptureClaims: tt.capture})
			tok, err := v.Verify(context.Background(), hsToken(hs256, tt.payload))
			if len(tt.missing) > 0 {
				var ce *ClaimError
				if !errors.As(err, &ce) || ce.Claim != tt.missing[0] || ce.Reason != ClaimMissing {
					t.Fatalf("err = %v, want %q missing", err, tt.missing[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.captured {
				if got, ok := tok.CapturedClaim(i); got != w || ok != (w != "") {
					t.Errorf("CapturedClaim(%d) = %q, %v; want %q", i, got, ok, w)
				}
			}
		})
	}
}
