package jwk_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// The Ed25519 key of RFC 8037 appendix A, as a private JWK, a public JWK Set
// and PKCS #8 PEM, and the token of its appendix A.4.
const (
	privateJWK = `{"kty":"OKP","crv":"Ed25519",
		"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	publicJWKS = `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed1",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	privatePEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
`
	rfc8037Token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

func ExampleParseKey() {
	key, err := jwk.ParseKey([]byte(privateJWK))
	if err != nil {
		log.Fatal(err)
	}
	tp, _ := key.ThumbprintBase64(crypto.SHA256)
	fmt.Println(key.KeyType(), key.Curve(), key.IsPrivate())
	fmt.Println("thumbprint:", tp)
	pub, _ := key.MarshalJSON() // public members only
	fmt.Println(string(pub))
	// Output:
	// OKP Ed25519 true
	// thumbprint: kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
	// {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
}

func ExampleParseSet() {
	set, err := jwk.ParseSet([]byte(publicJWKS))
	if err != nil {
		log.Fatal(err)
	}
	// A Set is a jwt.KeySet. This token has no kid, so the set offers every
	// key that allows EdDSA.
	v, err := jwt.NewVerifier(set, jwt.VerifierOptions{})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := v.VerifySignature(context.Background(), rfc8037Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, verified by key %q\n", tok.Payload(), tok.Key().ID())

	// A token naming an unknown kid finds no key.
	_, err = set.LookupKeys(context.Background(), &jwt.Header{Alg: jwt.EdDSA, KeyID: "ed2"})
	fmt.Println(errors.Is(err, jwt.ErrKeyNotFound))
	// Output:
	// Example of Ed25519 signing, verified by key "ed1"
	// true
}

func ExampleNewSet() {
	key, err := jwk.ParseKey([]byte(privateJWK))
	if err != nil {
		log.Fatal(err)
	}
	signing, err := key.SigningKey()
	if err != nil {
		log.Fatal(err)
	}
	// The key has no ID: the set gives it its thumbprint, and publishes
	// only its public half.
	set, err := jwk.NewSet(signing)
	if err != nil {
		log.Fatal(err)
	}
	out, _ := set.MarshalJSON()
	fmt.Println(string(out))
	// Output:
	// {"keys":[{"kty":"OKP","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
}

func ExampleParsePEM() {
	key, err := jwk.ParsePEM([]byte(privatePEM))
	if err != nil {
		log.Fatal(err)
	}
	tp, _ := key.ThumbprintBase64(0)
	fmt.Println(key.KeyType(), key.Curve(), tp)

	signing, _ := key.SigningKey()
	pub, _ := jwk.MarshalPublicPEM(signing)
	fmt.Print(string(pub))
	// Output:
	// OKP Ed25519 kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
	// -----BEGIN PUBLIC KEY-----
	// MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
	// -----END PUBLIC KEY-----
}

func ExampleLoad() {
	// Load takes a PEM key, a certificate, a JWK or a JWK Set.
	set, err := jwk.Load([]byte(privatePEM))
	if err != nil {
		log.Fatal(err)
	}
	signing, err := set.SigningKey("") // the only private key
	if err != nil {
		log.Fatal(err)
	}
	signer, err := jwt.NewSigner(signing, jwt.EdDSA, jwt.SignerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	token, err := signer.Sign(jwt.Claims{Subject: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	v, _ := jwt.NewVerifier(set, jwt.VerifierOptions{})
	tok, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Claims.Subject, tok.Header.KeyID)
	// Output:
	// alice kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
}

func ExampleKey_VerificationKey() {
	// A key for encryption never verifies signatures.
	key, err := jwk.ParseKey([]byte(`{"kty":"OKP","crv":"Ed25519","use":"enc",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	if err != nil {
		log.Fatal(err)
	}
	_, err = key.VerificationKey()
	fmt.Println(errors.Is(err, jwk.ErrKeyUse))
	fmt.Println(err)
	// Output:
	// true
	// jwk: key use not allowed: jwt: invalid key: the key has use "enc", not "sig"
}

func ExampleParseKey_refused() {
	for _, data := range []string{
		`{"kty":"EC","crv":"P-256","alg":"ES384",
		  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
		  "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`,
		`{"kty":"oct","k":"c2hvcnQ"}`,
		`{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`,
		`{"kty":"oct","kty":"RSA"}`,
	} {
		_, err := jwk.ParseKey([]byte(data))
		fmt.Println(err)
	}
	// Output:
	// jwk: invalid key: alg "ES384" needs curve P-384, the key is on P-256
	// jwk: invalid key: jwt: invalid key: HMAC secret is 5 bytes, at least 32 are required
	// jwk: unsupported key: OKP curve "X25519": only Ed25519 keys sign JWS here
	// jwk: invalid key: invalid JSON at offset 18: duplicate member "kty"
}

func ExampleGenerate() {
	key, err := jwk.Generate(jwt.ES384, 0)
	if err != nil {
		log.Fatal(err)
	}
	key, _ = jwk.EnsureKeyID(key) // kid = RFC 7638 thumbprint
	j, _ := jwk.NewKey(key)
	fmt.Println(key.Algorithms(), key.CanSign(), j.KeyType(), j.Curve(), len(key.ID()))
	// Output:
	// [ES384] true EC P-384 43
}

func ExampleKeyID() {
	key, err := jwk.ParseKey([]byte(privateJWK))
	if err != nil {
		log.Fatal(err)
	}
	vk, _ := key.VerificationKey()
	id, _ := jwk.KeyID(vk) // no kid: the thumbprint
	fmt.Println(id)
	id, _ = jwk.KeyID(vk.WithID("2024-01"))
	fmt.Println(id)
	// Output:
	// kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
	// 2024-01
}
