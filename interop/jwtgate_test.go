package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// Differential tests between jwtgate and the independent implementations of
// impls(): for every algorithm, tokens they sign must verify with jwtgate
// with the same claims, tokens jwtgate signs must verify with them, and
// both sides must refuse the same bad tokens for the same reason.

const (
	testIssuer = "https://issuer.example"
	testKID    = "kid-1"
)

// otherKeys holds a second key pair per algorithm, for "signed with another
// key" cases.
var otherKeys sync.Map // alg -> *KeyPair

func otherKey(t *testing.T, alg string) *KeyPair {
	t.Helper()
	if k, ok := otherKeys.Load(alg); ok {
		return k.(*KeyPair)
	}
	k, err := NewKeyPair(alg)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := otherKeys.LoadOrStore(alg, k)
	return actual.(*KeyPair)
}

// substitute maps an algorithm to another one that the same key material
// can sign with, for algorithm-substitution cases. A key is bound to its
// algorithm, so a token under the substitute must be refused. HS256 has
// none that jwtgate would sign with (its 32-byte secret is too short for
// HS384 and HS512); ECDSA and EdDSA keys serve one algorithm each.
var substitute = map[string]string{
	"HS384": "HS256", "HS512": "HS256",
	"RS256": "PS256", "RS384": "PS384", "RS512": "PS512",
	"PS256": "RS256", "PS384": "RS384", "PS512": "RS512",
}

// claimsJSON returns sampleClaims with changes applied, as JSON.
func claimsJSON(change func(c map[string]any)) string {
	c := sampleClaims()
	if change != nil {
		change(c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func set(name string, v any) func(map[string]any) {
	return func(c map[string]any) { c[name] = v }
}

// appClaims is an application's claims type: jwtgate's registered claims
// embedded beside custom ones, matching sampleClaims.
type appClaims struct {
	jwt.Claims
	Type  string            `json:"type"`
	Fresh bool              `json:"fresh"`
	CSRF  string            `json:"csrf"`
	Roles []string          `json:"roles"`
	N     int64             `json:"n"`
	Obj   map[string]string `json:"obj"`
}

// signAs says how jwtgate signs a case's claims.
type signAs int

const (
	asMap    signAs = iota // a map[string]any with json.Number values
	asStruct               // an appClaims value (encoding/json, embedded Claims)
	asClaims               // a jwt.Claims value (jwtgate's own encoder)
)

// interopCase is one token of the differential table.
type interopCase struct {
	name   string
	claims string         // the claims set to sign, as JSON
	header map[string]any // header members the signer adds
	signAs signAs         // how jwtgate signs the claims
	other  bool           // signed with another key of the same algorithm
	subst  bool           // signed under substitute[alg] with the same key material
	tamper bool           // the payload is changed after signing

	fracDates    bool // needs fractional NumericDates to survive
	needsIssuer  bool // a refusal that needs the verifier to check iss
	jwtgateIsVer bool // meaningful only when jwtgate verifies

	want error  // jwtgate's error (errors.Is); nil: accepted
	kind string // the refusal kind an external tool reports
}

func interopCases() []interopCase {
	now := testNow.Unix()
	unicode := fmt.Sprintf(`{"iss":%q,"sub":"us\u00e9r \"quoted\" back\\slash \/ \u2028\t\u0001 \ud83d\ude00 😀",`+
		`"aud":"api","exp":%d,"nbf":%d,"iat":%d,"jti":"jti-ü-日本",`+
		`"name":"Zoë 日本語","html":"<a href=\"x\">&amp;</a>","empty":"","nul":null}`,
		testIssuer, now+60, now, now)
	numbers := fmt.Sprintf(`{"iss":%q,"sub":"numbers","aud":["api"],"exp":%d,"nbf":%d,"iat":%d,`+
		`"uid":9007199254740993,"big":123456789012345678901234567890,"neg":-42,`+
		`"small":1e-7,"pi":3.141592653589793,"zero":0,"hundred":1E+2,"max":18446744073709551615}`,
		testIssuer, now+3600, now-60, now-60)
	fractions := fmt.Sprintf(`{"iss":%q,"sub":"fractions","aud":"api","exp":%d.5,"nbf":%d.75,"iat":%d.125,"jti":"frac"}`,
		testIssuer, now+3600, now-61, now-61)
	// The same kind of dates spelled with exponents and trailing zeros: the
	// Go peers and jwtgate's map signing write json.Number values verbatim.
	e := strconv.FormatInt(now+3600, 10) + "5"
	spellings := fmt.Sprintf(`{"iss":%q,"sub":"date spellings","aud":"api","exp":%s,"nbf":%s,"iat":%s,"jti":"spell"}`,
		testIssuer, e[:1]+"."+e[1:]+"E+"+strconv.Itoa(len(e)-2),
		strconv.FormatInt(now-61, 10)+"0e-1", strconv.FormatInt(now-61, 10)+".000")
	registered := fmt.Sprintf(`{"iss":%q,"sub":"registered only","aud":["api","web"],"exp":%d,"nbf":%d,"iat":%d,"jti":"r-1"}`,
		testIssuer, now+1, now, now)
	return []interopCase{
		{name: "sample claims", claims: claimsJSON(nil)},
		{name: "sample claims as a struct", claims: claimsJSON(nil), signAs: asStruct},
		{name: "registered claims only", claims: registered, signAs: asClaims},
		{name: "single audience and unicode", claims: unicode},
		{name: "numbers", claims: numbers},
		{name: "fractional dates", claims: fractions, fracDates: true},
		{name: "date spellings", claims: spellings, fracDates: true},
		{name: "kid matches", claims: claimsJSON(nil), header: map[string]any{"kid": testKID}, jwtgateIsVer: true},

		{name: "another key", claims: claimsJSON(nil), other: true, want: jwt.ErrSignature, kind: "signature"},
		{name: "payload tampered", claims: claimsJSON(nil), tamper: true, want: jwt.ErrSignature, kind: "signature"},
		{name: "algorithm substituted", claims: claimsJSON(nil), subst: true, want: jwt.ErrAlgorithm, kind: "algorithm"},
		{name: "expired", claims: claimsJSON(set("exp", float64(now-1))), want: jwt.ErrExpired, kind: "expired"},
		{name: "expires now", claims: claimsJSON(set("exp", float64(now))), want: jwt.ErrExpired, kind: "expired"},
		{name: "not yet valid", claims: claimsJSON(set("nbf", float64(now+60))), want: jwt.ErrNotYetValid, kind: "not_yet_valid"},
		{name: "issued in the future", claims: claimsJSON(set("iat", float64(now+60))), want: jwt.ErrIssuedInFuture, kind: "issued_in_future"},
		{name: "wrong audience", claims: claimsJSON(set("aud", []any{"other"})), want: jwt.ErrAudience, kind: "audience"},
		{name: "wrong issuer", claims: claimsJSON(set("iss", "https://evil.example")), needsIssuer: true, want: jwt.ErrIssuer, kind: "issuer"},
		{name: "kid differs", claims: claimsJSON(nil), header: map[string]any{"kid": "kid-2"}, jwtgateIsVer: true, want: jwt.ErrKeyNotFound},

		// jwtgate compares NumericDates exactly, fractions included, where
		// golang-jwt, jwx and PyJWT truncate exp and nbf to whole seconds
		// first: they refuse an exp half a second after now and accept an
		// nbf half a second after now (golang-jwt and jwx also accept such
		// an iat). These run only with jwtgate verifying, on tokens the
		// others signed.
		{name: "expires in half a second", claims: claimsJSON(set("exp", float64(now)+0.5)), fracDates: true, jwtgateIsVer: true},
		{name: "valid in half a second", claims: claimsJSON(set("nbf", float64(now)+0.5)), fracDates: true, jwtgateIsVer: true, want: jwt.ErrNotYetValid},
		{name: "issued in half a second", claims: claimsJSON(set("iat", float64(now)+0.5)), fracDates: true, jwtgateIsVer: true, want: jwt.ErrIssuedInFuture},
	}
}

// casesFor returns the cases of interopCases that apply to im and alg when
// jwtgate is the verifier (toJwtgate) or the signer.
func casesFor(im impl, alg string, toJwtgate bool) []interopCase {
	var out []interopCase
	for _, c := range interopCases() {
		switch {
		case c.subst && substitute[alg] == "",
			c.fracDates && !im.fracDates,
			c.jwtgateIsVer && !toJwtgate,
			len(c.header) > 0 && toJwtgate && !im.setsHeader,
			c.needsIssuer && !toJwtgate && !im.checksIssuer:
			continue
		}
		out = append(out, c)
	}
	return out
}

// signingKey returns the key pair and algorithm a case is signed with.
func (c interopCase) signingKey(t *testing.T, alg string) (*KeyPair, string) {
	k := testKey(t, alg)
	if c.other {
		k = otherKey(t, alg)
	}
	if c.subst {
		return k, substitute[alg]
	}
	return k, alg
}

// jwtgateVerifier is the verifier of the ...ToJwtgate tests: k's
// verification key with ID testKID, allowing only alg, at testNow, for the
// audience "api" and the issuer testIssuer.
func jwtgateVerifier(t *testing.T, k *KeyPair) *jwt.Verifier {
	t.Helper()
	key, err := k.JwtgateVerificationKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.NewVerifier(key.WithID(testKID), jwt.VerifierOptions{
		Clock:     func() time.Time { return testNow },
		Audiences: []string{"api"},
		Issuers:   []string{testIssuer},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestImplsToJwtgate: each implementation signs, jwtgate verifies.
func TestImplsToJwtgate(t *testing.T) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			im.require(t)
			for _, alg := range Algorithms() {
				t.Run(alg, func(t *testing.T) {
					t.Parallel()
					cases := casesFor(im, alg, true)
					reqs := make([]signReq, len(cases))
					for i, c := range cases {
						k, a := c.signingKey(t, alg)
						reqs[i] = signReq{key: k, alg: a, claims: json.RawMessage(c.claims), header: c.header}
					}
					tokens := im.sign(t, reqs)
					v := jwtgateVerifier(t, testKey(t, alg))
					for i, c := range cases {
						token := tokens[i]
						if c.tamper {
							token = tamperPayload(t, token)
						}
						tok, err := v.Verify(context.Background(), token)
						if c.want != nil {
							if !errors.Is(err, c.want) {
								t.Errorf("%s: jwtgate error = %v, want %v\ntoken: %s", c.name, err, c.want, token)
							}
							continue
						}
						if err != nil {
							t.Errorf("%s: jwtgate refused the token: %v\ntoken: %s", c.name, err, token)
							continue
						}
						checkJwtgateToken(t, c, alg, tok, !im.exactSign)
					}
				})
			}
		})
	}
}

// checkJwtgateToken checks what jwtgate made of a token signed by another
// implementation against the claims that were signed.
func checkJwtgateToken(t *testing.T, c interopCase, alg string, tok *jwt.Token, floats bool) {
	t.Helper()
	want := decodeObject(t, []byte(c.claims))
	if tok.Header.Alg != jwt.Algorithm(alg) {
		t.Errorf("%s: header alg = %q, want %q", c.name, tok.Header.Alg, alg)
	}
	if kid, _ := c.header["kid"].(string); tok.Header.KeyID != kid {
		t.Errorf("%s: header kid = %q, want %q", c.name, tok.Header.KeyID, kid)
	}
	var got map[string]any
	if err := tok.Decode(&got); err != nil {
		t.Fatalf("%s: Decode into a map: %v", c.name, err)
	}
	for _, d := range diffMeaning(got, want, floats) {
		t.Errorf("%s: Decode: %s", c.name, d)
	}
	for _, d := range diffClaims(tok.Claims, registeredClaims(t, want)) {
		t.Errorf("%s: Token.Claims: %s", c.name, d)
	}
	// The registered claims decoded by encoding/json through the embedded
	// Claims must agree with the verifier's own parse of them.
	var s struct{ jwt.Claims }
	if err := tok.Decode(&s); err != nil {
		t.Fatalf("%s: Decode into a struct: %v", c.name, err)
	}
	for _, d := range diffClaims(s.Claims, tok.Claims) {
		t.Errorf("%s: Decode into embedded Claims vs Token.Claims: %s", c.name, d)
	}
}

// signJwtgate signs a case with jwtgate, with key ID testKID.
func signJwtgate(t *testing.T, c interopCase, alg string) string {
	t.Helper()
	k, a := c.signingKey(t, alg)
	key, err := k.WithAlg(a).JwtgateSigningKey()
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	s, err := jwt.NewSigner(key.WithID(testKID), jwt.Algorithm(a), jwt.SignerOptions{})
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	var claims any
	switch c.signAs {
	case asMap:
		claims = decodeObject(t, []byte(c.claims))
	case asStruct:
		var ac appClaims
		if err := json.Unmarshal([]byte(c.claims), &ac); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		claims = ac
	case asClaims:
		var rc jwt.Claims
		if err := json.Unmarshal([]byte(c.claims), &rc); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		claims = rc
	}
	token, err := s.Sign(claims)
	if err != nil {
		t.Fatalf("%s: jwtgate sign: %v", c.name, err)
	}
	if c.tamper {
		token = tamperPayload(t, token)
	}
	return token
}

// TestJwtgateToImpls: jwtgate signs, each implementation verifies.
func TestJwtgateToImpls(t *testing.T) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			im.require(t)
			for _, alg := range Algorithms() {
				t.Run(alg, func(t *testing.T) {
					t.Parallel()
					cases := casesFor(im, alg, false)
					reqs := make([]verifyReq, len(cases))
					for i, c := range cases {
						reqs[i] = verifyReq{key: testKey(t, alg), alg: alg, token: signJwtgate(t, c, alg), audience: "api"}
						if im.checksIssuer {
							reqs[i].issuer = testIssuer
						}
					}
					for i, res := range im.verify(t, reqs) {
						c := cases[i]
						if c.want != nil {
							switch {
							case res.err == nil:
								t.Errorf("%s: %s accepted the token\ntoken: %s", c.name, im.name, reqs[i].token)
							case res.kind != "" && res.kind != c.kind:
								t.Errorf("%s: %s refused it as %s (%v), want %s", c.name, im.name, res.kind, res.err, c.kind)
							}
							continue
						}
						if res.err != nil {
							t.Errorf("%s: %s refused the token: %v\ntoken: %s", c.name, im.name, res.err, reqs[i].token)
							continue
						}
						for _, d := range diffMeaning(res.claims, decodeObject(t, []byte(c.claims)), !im.exactVerify) {
							t.Errorf("%s: %s claims: %s", c.name, im.name, d)
						}
						if res.header != nil {
							wantHeader := map[string]any{"alg": alg, "typ": "JWT", "kid": testKID}
							if d := diffMeaning(res.header, wantHeader, false); len(d) > 0 {
								t.Errorf("%s: %s header: %s", c.name, im.name, strings.Join(d, "; "))
							}
						}
					}
				})
			}
		})
	}
}
