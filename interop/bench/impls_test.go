package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	cjwt "github.com/cristalhq/jwt/v4"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gjwt "github.com/golang-jwt/jwt/v5"
	kjwt "github.com/kataras/jwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
	xjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// verifyFunc verifies one prepared token: signature, then exp, nbf and iat
// at the fixed clock, decoding the claims into the library's usual type.
// It returns the sub claim.
type verifyFunc func() (sub string, err error)

// impl is one benchmarked implementation.
//
// Tokens are handed to each library in its native input type (string or
// []byte), converted once outside the timed loop.
type impl struct {
	name string

	// sigOnly marks an implementation that checks the signature only (the
	// floor). Its verify returns an empty subject, and it is only required
	// to reject a tampered signature, not bad claims.
	sigOnly bool

	// verifier prepares verification of token for the algorithm of c.
	// Everything a real application would set up once (parsers, options,
	// key objects) is done here, outside the timed loop. It returns an
	// error wrapping errUnsupported for an algorithm the library lacks.
	verifier func(c *algCase, token string) (verifyFunc, error)

	// signer prepares signing the fixed claims for the algorithm of c.
	// sign is the timed operation; check reports whether the output of
	// the last sign call is correct.
	signer func(c *algCase) (sign, check func() error, err error)
}

// errUnsupported marks an algorithm an implementation cannot do; the
// benchmark for it is skipped. (Every peer below supports all four
// benchmarked algorithms, so no combination is skipped today.)
var errUnsupported = errors.New("algorithm not supported")

// implList returns the benchmarked implementations in output order.
//
// ---------------------------------------------------------------------
// JWTGATE: impl=jwtgate is registered here, first in the list; its
// implementation lives in jwtgate_test.go. Add further implementations
// to this list.
// ---------------------------------------------------------------------
func implList() []impl {
	return []impl{
		jwtgateImpl(),
		jwtgateDecodeImpl(),
		jwtgateRawImpl(),
		golangJWTMapImpl(),
		golangJWTStructImpl(),
		jwxImpl(),
		goJoseImpl(),
		cristalhqImpl(),
		katarasImpl(),
		floorImpl(),
	}
}

// ---- github.com/golang-jwt/jwt/v5 ----

func golangJWTMethod(alg string) (gjwt.SigningMethod, error) {
	switch alg {
	case "HS256":
		return gjwt.SigningMethodHS256, nil
	case "RS256":
		return gjwt.SigningMethodRS256, nil
	case "ES256":
		return gjwt.SigningMethodES256, nil
	case "EdDSA":
		return gjwt.SigningMethodEdDSA, nil
	}
	return nil, fmt.Errorf("golang-jwt %s: %w", alg, errUnsupported)
}

// golangJWTParser checks the signature with exactly c's algorithm, and exp
// and nbf (always, when present) and iat (WithIssuedAt) at the fixed clock.
func golangJWTParser(c *algCase) (*gjwt.Parser, gjwt.Keyfunc) {
	p := gjwt.NewParser(
		gjwt.WithValidMethods([]string{c.name}),
		gjwt.WithTimeFunc(fixedNow),
		gjwt.WithIssuedAt(),
	)
	key := c.verifyKey()
	return p, func(*gjwt.Token) (any, error) { return key, nil }
}

// golangJWTMapImpl uses jwt.MapClaims.
func golangJWTMapImpl() impl {
	return impl{
		name: "golang-jwt-map",
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			if _, err := golangJWTMethod(c.name); err != nil {
				return nil, err
			}
			p, keyFunc := golangJWTParser(c)
			return func() (string, error) {
				t, err := p.Parse(token, keyFunc)
				if err != nil {
					return "", err
				}
				return t.Claims.GetSubject()
			}, nil
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			m, err := golangJWTMethod(c.name)
			if err != nil {
				return nil, nil, err
			}
			var claims gjwt.MapClaims
			if err := json.Unmarshal([]byte(payloadJSON), &claims); err != nil {
				return nil, nil, err
			}
			key := c.signingKey()
			var out string
			sign := func() (err error) {
				out, err = gjwt.NewWithClaims(m, claims).SignedString(key)
				return err
			}
			return sign, func() error { return c.checkToken(out) }, nil
		},
	}
}

// golangJWTClaims is the typed claims struct for golang-jwt.
type golangJWTClaims struct {
	gjwt.RegisteredClaims
	appClaims
}

// golangJWTStructImpl uses a struct embedding jwt.RegisteredClaims.
func golangJWTStructImpl() impl {
	return impl{
		name: "golang-jwt-struct",
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			if _, err := golangJWTMethod(c.name); err != nil {
				return nil, err
			}
			p, keyFunc := golangJWTParser(c)
			return func() (string, error) {
				claims := new(golangJWTClaims)
				if _, err := p.ParseWithClaims(token, claims, keyFunc); err != nil {
					return "", err
				}
				return claims.Subject, nil
			}, nil
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			m, err := golangJWTMethod(c.name)
			if err != nil {
				return nil, nil, err
			}
			claims := &golangJWTClaims{
				RegisteredClaims: gjwt.RegisteredClaims{
					Subject:   wantSub,
					IssuedAt:  gjwt.NewNumericDate(time.Unix(claimIat, 0)),
					NotBefore: gjwt.NewNumericDate(time.Unix(claimNbf, 0)),
					ExpiresAt: gjwt.NewNumericDate(time.Unix(claimExp, 0)),
					ID:        claimJti,
				},
				appClaims: newAppClaims(),
			}
			key := c.signingKey()
			var out string
			sign := func() (err error) {
				out, err = gjwt.NewWithClaims(m, claims).SignedString(key)
				return err
			}
			return sign, func() error { return c.checkToken(out) }, nil
		},
	}
}

// ---- github.com/lestrrat-go/jwx/v3 ----

func jwxAlg(alg string) (jwa.SignatureAlgorithm, error) {
	switch alg {
	case "HS256":
		return jwa.HS256(), nil
	case "RS256":
		return jwa.RS256(), nil
	case "ES256":
		return jwa.ES256(), nil
	case "EdDSA":
		return jwa.EdDSA(), nil
	}
	return jwa.SignatureAlgorithm{}, fmt.Errorf("jwx %s: %w", alg, errUnsupported)
}

// jwxImpl parses into the library's jwt.Token; jwt.Parse validates exp,
// nbf and iat by default, here at the fixed clock.
func jwxImpl() impl {
	return impl{
		name: "jwx",
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			alg, err := jwxAlg(c.name)
			if err != nil {
				return nil, err
			}
			opts := []xjwt.ParseOption{
				xjwt.WithKey(alg, c.verifyKey()),
				xjwt.WithClock(xjwt.ClockFunc(fixedNow)),
			}
			tok := []byte(token)
			return func() (string, error) {
				t, err := xjwt.Parse(tok, opts...)
				if err != nil {
					return "", err
				}
				sub, ok := t.Subject()
				if !ok {
					return "", errors.New("jwx: no sub claim")
				}
				return sub, nil
			}, nil
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			alg, err := jwxAlg(c.name)
			if err != nil {
				return nil, nil, err
			}
			app := newAppClaims()
			t, err := xjwt.NewBuilder().
				Subject(wantSub).
				IssuedAt(time.Unix(claimIat, 0)).
				NotBefore(time.Unix(claimNbf, 0)).
				Expiration(time.Unix(claimExp, 0)).
				JwtID(claimJti).
				Claim("type", app.Type).
				Claim("fresh", app.Fresh).
				Claim("csrf", app.CSRF).
				Claim("roles", app.Roles).
				Build()
			if err != nil {
				return nil, nil, err
			}
			opt := xjwt.WithKey(alg, c.signingKey())
			var out []byte
			sign := func() (err error) {
				out, err = xjwt.Sign(t, opt)
				return err
			}
			return sign, func() error { return c.checkToken(string(out)) }, nil
		},
	}
}

// ---- github.com/go-jose/go-jose/v4 ----

func goJoseAlg(alg string) (jose.SignatureAlgorithm, error) {
	switch alg {
	case "HS256":
		return jose.HS256, nil
	case "RS256":
		return jose.RS256, nil
	case "ES256":
		return jose.ES256, nil
	case "EdDSA":
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("go-jose %s: %w", alg, errUnsupported)
}

// goJoseImpl decodes into jwt.Claims plus the private claims struct (the
// library's multiple-destination pattern) and validates with
// Claims.ValidateWithLeeway at the fixed clock with no leeway; that checks
// exp, nbf and iat.
func goJoseImpl() impl {
	return impl{
		name: "go-jose",
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			alg, err := goJoseAlg(c.name)
			if err != nil {
				return nil, err
			}
			algs := []jose.SignatureAlgorithm{alg}
			key := c.verifyKey()
			expected := josejwt.Expected{Time: fixedNow()}
			return func() (string, error) {
				t, err := josejwt.ParseSigned(token, algs)
				if err != nil {
					return "", err
				}
				var reg josejwt.Claims
				var app appClaims
				if err := t.Claims(key, &reg, &app); err != nil {
					return "", err
				}
				if err := reg.ValidateWithLeeway(expected, 0); err != nil {
					return "", err
				}
				return reg.Subject, nil
			}, nil
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			alg, err := goJoseAlg(c.name)
			if err != nil {
				return nil, nil, err
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: c.signingKey()},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				return nil, nil, err
			}
			reg := josejwt.Claims{
				Subject:   wantSub,
				IssuedAt:  josejwt.NewNumericDate(time.Unix(claimIat, 0)),
				NotBefore: josejwt.NewNumericDate(time.Unix(claimNbf, 0)),
				Expiry:    josejwt.NewNumericDate(time.Unix(claimExp, 0)),
				ID:        claimJti,
			}
			app := newAppClaims()
			var out string
			sign := func() (err error) {
				out, err = josejwt.Signed(signer).Claims(&reg).Claims(&app).Serialize()
				return err
			}
			return sign, func() error { return c.checkToken(out) }, nil
		},
	}
}

// ---- github.com/cristalhq/jwt/v4 ----

// cristalhqClaims is the typed claims struct for cristalhq/jwt.
type cristalhqClaims struct {
	cjwt.RegisteredClaims
	appClaims
}

func cristalhqVerifier(c *algCase) (cjwt.Verifier, error) {
	switch c.name {
	case "HS256":
		return cjwt.NewVerifierHS(cjwt.HS256, c.hmacKey)
	case "RS256":
		return cjwt.NewVerifierRS(cjwt.RS256, &c.rsaKey.PublicKey)
	case "ES256":
		return cjwt.NewVerifierES(cjwt.ES256, &c.ecKey.PublicKey)
	case "EdDSA":
		return cjwt.NewVerifierEdDSA(c.edKey.Public().(ed25519.PublicKey))
	}
	return nil, fmt.Errorf("cristalhq %s: %w", c.name, errUnsupported)
}

func cristalhqSigner(c *algCase) (cjwt.Signer, error) {
	switch c.name {
	case "HS256":
		return cjwt.NewSignerHS(cjwt.HS256, c.hmacKey)
	case "RS256":
		return cjwt.NewSignerRS(cjwt.RS256, c.rsaKey)
	case "ES256":
		return cjwt.NewSignerES(cjwt.ES256, c.ecKey)
	case "EdDSA":
		return cjwt.NewSignerEdDSA(c.edKey)
	}
	return nil, fmt.Errorf("cristalhq %s: %w", c.name, errUnsupported)
}

// cristalhqImpl verifies the signature with jwt.ParseClaims (which also
// checks the header alg against the verifier's) and the time claims with
// RegisteredClaims.IsValidAt at the fixed clock (exp, nbf and iat).
func cristalhqImpl() impl {
	return impl{
		name: "cristalhq",
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			v, err := cristalhqVerifier(c)
			if err != nil {
				return nil, err
			}
			now := fixedNow()
			tok := []byte(token)
			return func() (string, error) {
				var claims cristalhqClaims
				if err := cjwt.ParseClaims(tok, v, &claims); err != nil {
					return "", err
				}
				if !claims.IsValidAt(now) {
					return "", errors.New("cristalhq: token not valid at this time")
				}
				return claims.Subject, nil
			}, nil
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			s, err := cristalhqSigner(c)
			if err != nil {
				return nil, nil, err
			}
			builder := cjwt.NewBuilder(s)
			claims := &cristalhqClaims{
				RegisteredClaims: cjwt.RegisteredClaims{
					Subject:   wantSub,
					IssuedAt:  cjwt.NewNumericDate(time.Unix(claimIat, 0)),
					NotBefore: cjwt.NewNumericDate(time.Unix(claimNbf, 0)),
					ExpiresAt: cjwt.NewNumericDate(time.Unix(claimExp, 0)),
					ID:        claimJti,
				},
				appClaims: newAppClaims(),
			}
			var out *cjwt.Token
			sign := func() (err error) {
				out, err = builder.Build(claims)
				return err
			}
			check := func() error {
				if out == nil {
					return errors.New("cristalhq: no token")
				}
				return c.checkToken(out.String())
			}
			return sign, check, nil
		},
	}
}

// ---- github.com/kataras/jwt ----

// kataras/jwt validates exp, nbf and iat inside jwt.Verify against its
// package-level Clock variable, which is its only clock hook. Pointing it
// at the fixed clock affects only this test binary.
func init() { kjwt.Clock = fixedNow }

func katarasAlg(alg string) (kjwt.Alg, error) {
	switch alg {
	case "HS256":
		return kjwt.HS256, nil
	case "RS256":
		return kjwt.RS256, nil
	case "ES256":
		return kjwt.ES256, nil
	case "EdDSA":
		return kjwt.EdDSA, nil
	}
	return nil, fmt.Errorf("kataras %s: %w", alg, errUnsupported)
}

// katarasImpl decodes the private claims with VerifiedToken.Claims; the
// registered ones are decoded and validated by jwt.Verify itself
// (VerifiedToken.StandardClaims). It signs the way its README shows:
// custom claims plus a jwt.Claims sign option for the registered ones.
func katarasImpl() impl {
	return impl{
		name: "kataras",
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			alg, err := katarasAlg(c.name)
			if err != nil {
				return nil, err
			}
			key := c.verifyKey()
			tok := []byte(token)
			return func() (string, error) {
				vt, err := kjwt.Verify(alg, key, tok)
				if err != nil {
					return "", err
				}
				var app appClaims
				if err := vt.Claims(&app); err != nil {
					return "", err
				}
				return vt.StandardClaims.Subject, nil
			}, nil
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			alg, err := katarasAlg(c.name)
			if err != nil {
				return nil, nil, err
			}
			key := c.signingKey()
			app := newAppClaims()
			std := []kjwt.SignOption{kjwt.Claims{
				Subject:   wantSub,
				IssuedAt:  claimIat,
				NotBefore: claimNbf,
				Expiry:    claimExp,
				ID:        claimJti,
			}}
			var out []byte
			sign := func() (err error) {
				out, err = kjwt.Sign(alg, key, &app, std...)
				return err
			}
			return sign, func() error { return c.checkToken(string(out)) }, nil
		},
	}
}

// ---- floor: bare standard-library crypto ----

var errFloorSignature = errors.New("floor: signature does not verify")

// splitSigned returns the signing input (header.payload) and the decoded
// signature of a compact JWS.
func splitSigned(token string) (input, sig []byte, err error) {
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return nil, nil, errors.New("floor: no signature segment")
	}
	sig, err = base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		return nil, nil, err
	}
	return []byte(token[:dot]), sig, nil
}

// floorImpl is the cost of the cryptography alone over the token's
// signing input, prepared outside the loop: no parsing, no base64, no JSON,
// no claims.
//
// For HS256 the 32-byte MAC buffer is declared once outside the loop:
// a [32]byte declared inside it escapes to the heap because Sum is called
// through the hash.Hash interface (1 alloc/op), which would charge the
// floor an allocation no library needs to make.
func floorImpl() impl {
	return impl{
		name:    "floor",
		sigOnly: true,
		verifier: func(c *algCase, token string) (verifyFunc, error) {
			in, sig, err := splitSigned(token)
			if err != nil {
				return nil, err
			}
			switch c.name {
			case "HS256":
				mac := hmac.New(sha256.New, c.hmacKey)
				var buf [32]byte
				return func() (string, error) {
					mac.Reset()
					mac.Write(in)
					if !hmac.Equal(mac.Sum(buf[:0]), sig) {
						return "", errFloorSignature
					}
					return "", nil
				}, nil
			case "RS256":
				pub := &c.rsaKey.PublicKey
				return func() (string, error) {
					h := sha256.Sum256(in)
					return "", rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
				}, nil
			case "ES256":
				pub := &c.ecKey.PublicKey
				der, err := rawToDER(sig)
				if err != nil {
					return nil, err
				}
				return func() (string, error) {
					h := sha256.Sum256(in)
					if !ecdsa.VerifyASN1(pub, h[:], der) {
						return "", errFloorSignature
					}
					return "", nil
				}, nil
			case "EdDSA":
				pub := c.edKey.Public().(ed25519.PublicKey)
				return func() (string, error) {
					if !ed25519.Verify(pub, in, sig) {
						return "", errFloorSignature
					}
					return "", nil
				}, nil
			}
			return nil, fmt.Errorf("floor %s: %w", c.name, errUnsupported)
		},
		signer: func(c *algCase) (func() error, func() error, error) {
			in, _, err := splitSigned(c.token)
			if err != nil {
				return nil, nil, err
			}
			var out []byte
			// check verifies the last signature with the standard library.
			check := func() error { return c.jwsVerify(in, out) }
			switch c.name {
			case "HS256":
				mac := hmac.New(sha256.New, c.hmacKey)
				var buf [32]byte
				return func() error {
					mac.Reset()
					mac.Write(in)
					out = mac.Sum(buf[:0])
					return nil
				}, check, nil
			case "RS256":
				priv := c.rsaKey
				return func() (err error) {
					h := sha256.Sum256(in)
					out, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
					return err
				}, check, nil
			case "ES256":
				priv := c.ecKey
				var der []byte
				sign := func() (err error) {
					h := sha256.Sum256(in)
					der, err = ecdsa.SignASN1(rand.Reader, priv, h[:])
					return err
				}
				// ES256 produces DER here; convert it for the JWS-form check.
				check := func() error {
					raw, err := derToRaw(der, 32)
					if err != nil {
						return err
					}
					return c.jwsVerify(in, raw)
				}
				return sign, check, nil
			case "EdDSA":
				priv := c.edKey
				return func() error {
					out = ed25519.Sign(priv, in)
					return nil
				}, check, nil
			}
			return nil, nil, fmt.Errorf("floor %s: %w", c.name, errUnsupported)
		},
	}
}
