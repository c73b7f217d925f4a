package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// Sign and verify an HS256 token with a shared secret.
func Example() {
	key, err := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	if err != nil {
		panic(err)
	}
	signer, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		panic(err)
	}
	now := time.Unix(1767225600, 0)
	token, err := signer.Sign(jwt.Claims{
		Subject:   "user-12345",
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
	})
	if err != nil {
		panic(err)
	}

	verifier, err := jwt.NewVerifier(key, jwt.VerifierOptions{
		RequiredClaims: []string{"exp"},
		Clock:          func() time.Time { return now.Add(time.Minute) },
	})
	if err != nil {
		panic(err)
	}
	tok, err := verifier.Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Claims.Subject, tok.Claims.ExpiresAt.UTC().Format(time.RFC3339))
	// Output: user-12345 2026-01-01T00:15:00Z
}

// Custom claims are decoded only when asked, into the caller's own type.
func ExampleToken_Decode() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	signer, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	token, _ := signer.Sign(map[string]any{"sub": "u1", "roles": []string{"admin"}, "uid": uint64(1) << 60})

	tok, err := jwt.Verify(context.Background(), token, key)
	if err != nil {
		panic(err)
	}
	var claims struct {
		jwt.Claims
		Roles []string `json:"roles"`
		UID   uint64   `json:"uid"`
	}
	if err := tok.Decode(&claims); err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.Roles, claims.UID)
	// Output: u1 [admin] 1152921504606846976
}

// An asymmetric key signs; its public half verifies. The key decides the
// algorithm: a P-256 key can only do ES256.
func ExampleNewPrivateKey() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, err := jwt.NewPrivateKey(priv)
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Algorithms())

	signer, _ := jwt.NewSigner(key.WithID("2026-01"), jwt.ES256, jwt.SignerOptions{})
	token, _ := signer.Sign(jwt.Claims{Subject: "svc"})
	tok, err := jwt.Verify(context.Background(), token, key.Public())
	fmt.Println(tok.Header.Alg, tok.Header.KeyID, err)
	// Output:
	// [ES256]
	// ES256 2026-01 <nil>
}

// Errors wrap sentinels: test them with errors.Is.
func ExampleVerifier_Verify_errors() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	signer, _ := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	token, _ := signer.Sign(jwt.Claims{ExpiresAt: jwt.NewNumericDate(time.Unix(1767225600, 0))})

	v, _ := jwt.NewVerifier(key, jwt.VerifierOptions{Clock: func() time.Time { return time.Unix(1767225600, 0) }})
	_, err := v.Verify(context.Background(), token)
	fmt.Println(errors.Is(err, jwt.ErrExpired))
	fmt.Println(err)

	_, err = v.Verify(context.Background(), "eyJhbGciOiJub25lIn0.e30.")
	fmt.Println(errors.Is(err, jwt.ErrAlgorithm))
	// Output:
	// true
	// jwt: token expired: exp 2026-01-01T00:00:00Z, now 2026-01-01T00:00:00Z, leeway 0s
	// true
}

// A refused claim is a *jwt.ClaimError: errors.As names the claim and the
// reason, errors.Is still finds the sentinel.
func ExampleClaimError() {
	key, err := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	if err != nil {
		panic(err)
	}
	signer, err := jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	if err != nil {
		panic(err)
	}
	token, err := signer.Sign(jwt.Claims{Subject: "user-12345"})
	if err != nil {
		panic(err)
	}
	verifier, err := jwt.NewVerifier(key, jwt.VerifierOptions{RequiredClaims: []string{"exp"}})
	if err != nil {
		panic(err)
	}
	_, err = verifier.Verify(context.Background(), token)
	var ce *jwt.ClaimError
	if errors.As(err, &ce) {
		fmt.Println(ce.Claim, ce.Reason, errors.Is(err, jwt.ErrMissingClaim))
	}
	// Output: exp missing true
}
