package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"testing"
	"unsafe"

	cjwt "github.com/cristalhq/jwt/v4"
	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/jwt"
)

// The custom-claims benchmarks verify HS256 tokens whose payload is the
// fixed claims set with its roles array grown to a target size, and decode
// the custom claims (type, fresh, csrf, roles) into a struct, as an
// application reading its own claims does.
//
//	BenchmarkClaims/size=S/impl=I     serial, one token
//	BenchmarkParallel/impl=I/run=R    serial and b.RunParallel, size 0.3KB
//	BenchmarkGarbage/kind=K/impl=I    refusing tokens that are not JWS

// claimSizes are the payload sizes of BenchmarkClaims, by name.
var claimSizes = []struct {
	name  string
	bytes int
}{{"0.3KB", 300}, {"2KB", 2 << 10}, {"7KB", 7 << 10}}

// sizedPayload returns the fixed claims set with roles added until the
// payload is at least n bytes, and the number of roles.
func sizedPayload(n int) (string, int) {
	roles := append([]string(nil), claimRoles...)
	build := func() string {
		q := make([]string, len(roles))
		for i, r := range roles {
			q[i] = `"` + r + `"`
		}
		return strings.Replace(payloadJSON, `["admin","user"]`, "["+strings.Join(q, ",")+"]", 1)
	}
	p := build()
	for len(p) < n {
		roles = append(roles, fmt.Sprintf("org-%04d:projects:reader", len(roles)))
		p = build()
	}
	return p, len(roles)
}

// hs256Token signs payload with the standard library under the fixture's
// HS256 header (makeToken), with key.
func hs256Token(key []byte, payload string) string {
	tok, _ := (&algCase{name: "HS256", hmacKey: key}).makeToken(payload) // HMAC signing cannot fail
	return tok
}

// claimsImpl prepares one implementation's verification of token: the
// returned function verifies it and returns the decoded custom claims
// (or nil for implementations that decode none).
type claimsImpl struct {
	name    string
	prepare func(key []byte, token string) (func() (*appClaims, error), error)
}

// claimsImpls are the implementations of the custom-claims benchmarks.
func claimsImpls() []claimsImpl {
	return []claimsImpl{
		{"jwtgate", jwtgateClaimsVerifier(false)},
		{"jwtgate-decode", jwtgateClaimsVerifier(true)},
		{"jwtgate-pooled", jwtgatePooledVerifier},
		{"jwtgate-pooled-new", jwtgatePooledNew},
		{"cristalhq", cristalhqClaimsImpl},
		{"golang-jwt", golangJWTClaimsImpl},
		{"floor", pooledFloor},
	}
}

func jwtgateClaimsVerifier(decode bool) func(key []byte, token string) (func() (*appClaims, error), error) {
	return func(key []byte, token string) (func() (*appClaims, error), error) {
		v, err := newClaimsVerifier(key)
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		return func() (*appClaims, error) {
			t, err := v.Verify(ctx, token)
			if err != nil {
				return nil, err
			}
			if t.Claims.Subject != wantSub {
				return nil, errors.New("jwtgate: wrong sub")
			}
			if !decode {
				return nil, nil
			}
			app := new(appClaims)
			if err := t.Decode(app); err != nil {
				return nil, err
			}
			return app, nil
		}, nil
	}
}

// newClaimsVerifier returns jwtgate's verifier of the benchmarks' tokens.
func newClaimsVerifier(key []byte) (*jwt.Verifier, error) {
	k, err := jwt.NewHMACKey(key, jwt.HS256)
	if err != nil {
		return nil, err
	}
	return jwt.NewVerifier(k, jwt.VerifierOptions{Algorithms: []jwt.Algorithm{jwt.HS256}, Clock: fixedNow, MaxSize: 16 << 10})
}

// jwtgatePooledVerifier verifies with VerifyIntoBuffer into Tokens and
// payload buffers kept in a sync.Pool, as a caller that does not keep the
// Token past its use can: registered claims only, no allocation.
func jwtgatePooledVerifier(key []byte, token string) (func() (*appClaims, error), error) {
	v, err := newClaimsVerifier(key)
	if err != nil {
		return nil, err
	}
	type room struct {
		t   jwt.Token
		buf [16 << 10]byte // the largest payload MaxSize lets through
	}
	pool := sync.Pool{New: func() any { return new(room) }}
	ctx := context.Background()
	return func() (*appClaims, error) {
		r := pool.Get().(*room)
		defer pool.Put(r)
		if err := v.VerifyIntoBuffer(ctx, token, &r.t, r.buf[:]); err != nil {
			return nil, err
		}
		if r.t.Claims.Subject != wantSub {
			return nil, errors.New("jwtgate: wrong sub")
		}
		return nil, nil
	}, nil
}

// registeredCopy is the smallest object a verification that hands its
// caller a new token with the registered claims could return: the claims
// (jwt.Claims, 96 bytes), the three dates they point to (72), the raw
// token, and the key and verifier it came from (32), and the text of the
// claims' strings (56 bytes, enough for this token's sub and jti): 256
// bytes, one size class.
type registeredCopy struct {
	claims jwt.Claims
	dates  [3]jwt.NumericDate
	raw    string
	key    *jwt.Key
	v      *jwt.Verifier
	text   [56]byte
}

// keep returns s in c.text after the n bytes already used there, or a
// copy of its own when it does not fit, and the bytes now used.
func (c *registeredCopy) keep(s string, n int) (string, int) {
	if len(s) > len(c.text)-n {
		return strings.Clone(s), n
	}
	copy(c.text[n:], s)
	return unsafe.String(&c.text[n], len(s)), n + len(s)
}

// jwtgatePooledNew is jwtgatePooledVerifier plus the one allocation any
// API that returns a new token must make: the registered claims copied
// into a new registeredCopy (kept in the pooled room, so that it lives on
// the heap as a returned token would). It is the least Verify could cost
// with a Token reduced to what its registered claims need.
//
// The benchmark token has no iss or aud; its sub and jti fit in text.
func jwtgatePooledNew(key []byte, token string) (func() (*appClaims, error), error) {
	v, err := newClaimsVerifier(key)
	if err != nil {
		return nil, err
	}
	type room struct {
		t    jwt.Token
		kept *registeredCopy
		buf  [16 << 10]byte
	}
	pool := sync.Pool{New: func() any { return new(room) }}
	ctx := context.Background()
	return func() (*appClaims, error) {
		r := pool.Get().(*room)
		defer pool.Put(r)
		if err := v.VerifyIntoBuffer(ctx, token, &r.t, r.buf[:]); err != nil {
			return nil, err
		}
		if len(r.t.Claims.Audience) > 0 {
			return nil, errors.New("jwtgate-pooled-new: copies no aud")
		}
		c := &registeredCopy{claims: r.t.Claims, raw: token, key: r.t.Key(), v: v}
		n := 0
		c.claims.Issuer, n = c.keep(c.claims.Issuer, n)
		c.claims.Subject, n = c.keep(c.claims.Subject, n)
		c.claims.ID, _ = c.keep(c.claims.ID, n)
		for i, d := range []*jwt.NumericDate{r.t.Claims.ExpiresAt, r.t.Claims.NotBefore, r.t.Claims.IssuedAt} {
			if d != nil {
				c.dates[i] = *d
			}
		}
		c.claims.ExpiresAt, c.claims.NotBefore, c.claims.IssuedAt = &c.dates[0], &c.dates[1], &c.dates[2]
		r.kept = c
		if c.claims.Subject != wantSub {
			return nil, errors.New("jwtgate: wrong sub")
		}
		return nil, nil
	}, nil
}

func cristalhqClaimsImpl(key []byte, token string) (func() (*appClaims, error), error) {
	v, err := cjwt.NewVerifierHS(cjwt.HS256, key)
	if err != nil {
		return nil, err
	}
	now := fixedNow()
	tok := []byte(token)
	return func() (*appClaims, error) {
		claims := new(cristalhqClaims)
		if err := cjwt.ParseClaims(tok, v, claims); err != nil {
			return nil, err
		}
		if !claims.IsValidAt(now) || claims.Subject != wantSub {
			return nil, errors.New("cristalhq: token not valid at this time")
		}
		return &claims.appClaims, nil
	}, nil
}

func golangJWTClaimsImpl(key []byte, token string) (func() (*appClaims, error), error) {
	p := gjwt.NewParser(gjwt.WithValidMethods([]string{"HS256"}), gjwt.WithTimeFunc(fixedNow), gjwt.WithIssuedAt())
	keyFunc := func(*gjwt.Token) (any, error) { return key, nil }
	return func() (*appClaims, error) {
		claims := new(golangJWTClaims)
		if _, err := p.ParseWithClaims(token, claims, keyFunc); err != nil {
			return nil, err
		}
		if claims.Subject != wantSub {
			return nil, errors.New("golang-jwt: wrong sub")
		}
		return &claims.appClaims, nil
	}, nil
}

// pooledFloor is the HMAC floor as a server would run it: pre-keyed HMAC
// states in a sync.Pool, the signature compared in constant time, and
// nothing else (no claims).
func pooledFloor(key []byte, token string) (func() (*appClaims, error), error) {
	in, sig, err := splitSigned(token)
	if err != nil {
		return nil, err
	}
	pool := sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	return func() (*appClaims, error) {
		m := pool.Get().(hash.Hash)
		m.Reset()
		m.Write(in)
		var buf [32]byte
		ok := hmac.Equal(m.Sum(buf[:0]), sig)
		pool.Put(m)
		if !ok {
			return nil, errFloorSignature
		}
		return nil, nil
	}, nil
}

// prepareClaims sets up im for token and proves, before any timing, that
// it accepts it with the expected custom claims (nroles roles) and refuses
// the token with its signature's last character changed.
func prepareClaims(tb testing.TB, im claimsImpl, key []byte, token string, nroles int) func() (*appClaims, error) {
	tb.Helper()
	f, err := im.prepare(key, token)
	if err != nil {
		tb.Fatal(err)
	}
	for range 2 {
		app, err := f()
		if err != nil {
			tb.Fatalf("%s: valid token refused: %v", im.name, err)
		}
		decodes := im.name != "jwtgate" && !strings.HasPrefix(im.name, "jwtgate-pooled") && im.name != "floor"
		if decodes && (app == nil || app.Type != claimType || app.CSRF != claimCSRF || len(app.Roles) != nroles) {
			tb.Fatalf("%s: custom claims %+v, want %d roles", im.name, app, nroles)
		}
	}
	last := token[len(token)-1]
	tampered := token[:len(token)-1] + map[bool]string{true: "B", false: "A"}[last == 'A']
	bad, err := im.prepare(key, tampered)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := bad(); err == nil {
		tb.Fatalf("%s: tampered token accepted", im.name)
	}
	return f
}

// TestClaimsSetup runs the custom-claims benchmarks' setup checks.
func TestClaimsSetup(t *testing.T) {
	key := mustFixture(t)["HS256"].hmacKey
	for _, size := range claimSizes {
		payload, nroles := sizedPayload(size.bytes)
		tok := hs256Token(key, payload)
		for _, im := range claimsImpls() {
			t.Run("size="+size.name+"/impl="+im.name, func(t *testing.T) {
				prepareClaims(t, im, key, tok, nroles)
			})
		}
	}
	for _, g := range garbage() {
		for _, im := range garbageImpls() {
			if err := im.prepare(key, g.token)(); err == nil {
				t.Errorf("%s accepted the %s garbage", im.name, g.name)
			}
		}
	}
}

func BenchmarkClaims(b *testing.B) {
	key := mustFixture(b)["HS256"].hmacKey
	for _, size := range claimSizes {
		payload, nroles := sizedPayload(size.bytes)
		tok := hs256Token(key, payload)
		b.Run("size="+size.name, func(b *testing.B) {
			for _, im := range claimsImpls() {
				b.Run("impl="+im.name, func(b *testing.B) {
					f := prepareClaims(b, im, key, tok, nroles)
					b.ReportAllocs()
					for b.Loop() {
						if _, err := f(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkParallel runs each implementation serially and then with
// b.RunParallel (GOMAXPROCS goroutines) on the 0.3KB token: the scaling
// is the serial ns/op over the parallel ns/op.
func BenchmarkParallel(b *testing.B) {
	key := mustFixture(b)["HS256"].hmacKey
	payload, nroles := sizedPayload(claimSizes[0].bytes)
	tok := hs256Token(key, payload)
	for _, im := range claimsImpls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			f := prepareClaims(b, im, key, tok, nroles)
			b.Run("run=serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("run=parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := f(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// garbage returns the inputs of BenchmarkGarbage: 300 bytes of base64url
// with no dot, three segments of random base64url, a header segment that
// is base64url but not JSON, and a valid token's header and payload with
// a signature of the wrong length.
func garbage() []struct{ name, token string } {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	seq := func(n int, seed uint32) string {
		b := make([]byte, n)
		for i := range b {
			seed = seed*1664525 + 1013904223
			b[i] = alphabet[seed>>26]
		}
		return string(b)
	}
	valid := hs256Token([]byte("0123456789abcdef0123456789abcdef"), payloadJSON)
	return []struct{ name, token string }{
		{"no-dots", seq(300, 1)},
		{"random-segments", seq(36, 2) + "." + seq(220, 3) + "." + seq(43, 4)},
		{"header-not-json", base64.RawURLEncoding.EncodeToString([]byte("not json at all")) + "." + seq(220, 3) + "." + seq(43, 4)},
		{"short-signature", valid[:strings.LastIndexByte(valid, '.')+1] + seq(20, 5)},
	}
}

// garbageImpl refuses garbage: prepare returns the refusal of one input,
// given to the library in its native type (converted outside the timing).
type garbageImpl struct {
	name    string
	prepare func(key []byte, token string) func() error
}

func garbageImpls() []garbageImpl {
	return []garbageImpl{
		{"jwtgate", func(key []byte, tok string) func() error {
			k, _ := jwt.NewHMACKey(key, jwt.HS256)
			v, _ := jwt.NewVerifier(k, jwt.VerifierOptions{Algorithms: []jwt.Algorithm{jwt.HS256}, Clock: fixedNow})
			ctx := context.Background()
			return func() error { _, err := v.Verify(ctx, tok); return err }
		}},
		{"cristalhq", func(key []byte, tok string) func() error {
			v, _ := cjwt.NewVerifierHS(cjwt.HS256, key)
			raw := []byte(tok)
			return func() error {
				var claims cristalhqClaims
				return cjwt.ParseClaims(raw, v, &claims)
			}
		}},
		{"golang-jwt", func(key []byte, tok string) func() error {
			p := gjwt.NewParser(gjwt.WithValidMethods([]string{"HS256"}), gjwt.WithTimeFunc(fixedNow))
			keyFunc := func(*gjwt.Token) (any, error) { return key, nil }
			return func() error {
				_, err := p.ParseWithClaims(tok, new(golangJWTClaims), keyFunc)
				return err
			}
		}},
	}
}

func BenchmarkGarbage(b *testing.B) {
	key := mustFixture(b)["HS256"].hmacKey
	for _, g := range garbage() {
		b.Run("kind="+g.name, func(b *testing.B) {
			for _, im := range garbageImpls() {
				b.Run("impl="+im.name, func(b *testing.B) {
					refuse := im.prepare(key, g.token)
					b.ReportAllocs()
					for b.Loop() {
						if refuse() == nil {
							b.Fatal("garbage accepted")
						}
					}
				})
			}
		})
	}
}
