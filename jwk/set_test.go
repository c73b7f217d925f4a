package jwk

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// jwks joins JWKs into a JWK Set.
func jwks(keys ...[]byte) []byte {
	return []byte(`{"keys":[` + string(bytes.Join(keys, []byte(","))) + `]}`)
}

func TestParseSetErrors(t *testing.T) {
	rsaPub := publicOf(jwkOf(t, fixRSA))
	ecPub := publicOf(jwkOf(t, fixP256))
	oct := jwkOf(t, fixOct32)
	oct64 := jwkOf(t, fixOct64)
	tooMany := make([][]byte, MaxSetKeys+1)
	for i := range tooMany {
		tooMany[i] = []byte(`{"kty":"unknown"}`)
	}
	for _, c := range []struct {
		name string
		data []byte
		want []error
	}{
		{"not JSON", []byte(`keys`), []error{ErrInvalidSet}},
		{"array", []byte(`[]`), []error{ErrInvalidSet}},
		{"missing keys", []byte(`{"kyes":[]}`), []error{ErrInvalidSet}},
		{"keys null", []byte(`{"keys":null}`), []error{ErrInvalidSet}},
		{"keys object", []byte(`{"keys":{}}`), []error{ErrInvalidSet}},
		{"key not an object", []byte(`{"keys":["RSA"]}`), []error{ErrInvalidSet}},
		{"key array", []byte(`{"keys":[[]]}`), []error{ErrInvalidSet}},
		{"duplicate keys member", []byte(`{"keys":[],"keys":[]}`), []error{ErrInvalidSet}},
		{"trailing data", []byte(`{"keys":[]}]`), []error{ErrInvalidSet}},
		{"kty missing", jwks(with(t, ecPub, "kty", del{})), []error{ErrInvalidSet, ErrInvalidKey}},
		{"kty number", jwks(with(t, ecPub, "kty", 2)), []error{ErrInvalidSet, ErrInvalidKey}},
		{"malformed key of a known type", jwks(with(t, ecPub), with(t, rsaPub, "e", "AAEAAQ")), []error{ErrInvalidSet, ErrInvalidKey}},
		{"weak key of a known type", jwks(with(t, rsaPub, "n", b64(unb64(t, rsaPub["n"])[:128]))), []error{ErrInvalidSet, ErrInvalidKey}},
		{"duplicate kid", jwks(with(t, ecPub, "kid", "a"), with(t, rsaPub, "kid", "a")), []error{ErrInvalidSet}},
		{"duplicate kid, same key", jwks(with(t, ecPub, "kid", "a"), with(t, ecPub, "kid", "a")), []error{ErrInvalidSet}},
		{"oct and RSA", jwks(with(t, rsaPub), with(t, oct)), []error{ErrInvalidSet}},
		{"EC and oct", jwks(with(t, oct64, "kid", "s"), with(t, ecPub, "kid", "e")), []error{ErrInvalidSet}},
		{"too many keys", jwks(tooMany...), []error{ErrInvalidSet, ErrTooLarge}},
		{"too large", append([]byte(`{"keys":[],"pad":"`), append(bytes.Repeat([]byte("a"), MaxSetSize), `"}`...)...), []error{ErrInvalidSet, ErrTooLarge}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSet(c.data)
			if err == nil {
				t.Fatal("ParseSet succeeded")
			}
			t.Log(err)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
		})
	}
}

func TestSetUnknownKeyType(t *testing.T) {
	ecPub := publicOf(jwkOf(t, fixP256))
	data := jwks(
		[]byte(`{"kty":"XYZ","kid":"a","whatever":[1,2]}`),
		with(t, ecPub, "kid", "e"),
		[]byte(`{"kty":"ec","kid":"e"}`), // kty is case-sensitive: unknown
	)
	s, err := ParseSet(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 || s.Ignored() != 2 {
		t.Errorf("Len %d, Ignored %d; want 1, 2", s.Len(), s.Ignored())
	}
	// Well-formed keys of a kind this package does not support are
	// ignored too (RFC 7517 section 5), in public sets as well.
	unsupported := jwks(
		with(t, ecPub, "kid", "e"),
		with(t, ecPub, "crv", "secp256k1", "kid", "k"),
		[]byte(`{"kty":"OKP","crv":"X25519","kid":"x","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`),
	)
	for _, parse := range []func([]byte) (*Set, error){ParseSet, ParsePublicSet} {
		s, err := parse(unsupported)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != 1 || s.Ignored() != 2 {
			t.Errorf("unsupported keys: Len %d, Ignored %d; want 1, 2", s.Len(), s.Ignored())
		}
		if _, err := s.LookupKeys(t.Context(), &jwt.Header{Alg: jwt.ES256, KeyID: "x"}); !errors.Is(err, jwt.ErrKeyNotFound) {
			t.Errorf("lookup of an ignored key: %v", err)
		}
	}
	// A set of unknown keys only is an empty set, which finds nothing.
	s, err = ParseSet(jwks([]byte(`{"kty":"XYZ"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || s.IsSymmetric() {
		t.Error("empty set")
	}
	if _, err := s.LookupKeys(t.Context(), &jwt.Header{Alg: jwt.ES256}); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Errorf("lookup in an empty set: %v", err)
	}
	if b, _ := s.MarshalJSON(); string(b) != `{"keys":[]}` {
		t.Errorf("empty set marshals as %s", b)
	}
}

func TestSetLookup(t *testing.T) {
	ctx := context.Background()
	rsaPriv := jwkOf(t, fixRSA)
	rsa2 := publicOf(jwkOf(t, fixRSA2))
	ec := jwkOf(t, fixP256)
	p521 := publicOf(jwkOf(t, fixP521))
	ed := publicOf(jwkOf(t, fixEd25519))
	data := jwks(
		with(t, rsaPriv, "kid", "rsa1"),              // RS* and PS*
		with(t, rsa2, "kid", "rsa2", "alg", "PS256"), // PS256 only
		with(t, ec, "kid", "ec"),                     // ES256
		with(t, p521, "kid", "enc", "use", "enc"),    // never verifies
		with(t, ed), // no kid
	)
	s, err := ParseSet(data)
	if err != nil {
		t.Fatal(err)
	}
	edKey, _ := ParseKey(with(t, ed))
	edID, _ := edKey.ThumbprintBase64(crypto.SHA256)
	ids := func(ks []*jwt.Key) []string {
		var out []string
		for _, k := range ks {
			out = append(out, k.ID())
		}
		return out
	}
	for _, c := range []struct {
		kid  string
		alg  jwt.Algorithm
		want []string
		err  error
	}{
		{"rsa1", jwt.RS256, []string{"rsa1"}, nil},
		{"rsa1", jwt.ES256, []string{"rsa1"}, nil}, // the verifier filters by alg
		{"rsa2", jwt.PS256, []string{"rsa2"}, nil},
		{"ec", jwt.ES256, []string{"ec"}, nil},
		{edID, jwt.EdDSA, []string{edID}, nil},
		{"", jwt.PS256, []string{"rsa1", "rsa2"}, nil},
		{"", jwt.RS256, []string{"rsa1"}, nil},
		{"", jwt.ES256, []string{"ec"}, nil},
		{"", jwt.EdDSA, []string{edID}, nil},
		{"", jwt.ES512, nil, jwt.ErrKeyNotFound}, // only the enc key is P-521
		{"", jwt.HS256, nil, jwt.ErrKeyNotFound},
		{"enc", jwt.ES512, nil, jwt.ErrKeyNotFound},
		{"nope", jwt.RS256, nil, jwt.ErrKeyNotFound},
		{strings.Repeat("x", 1000), jwt.RS256, nil, jwt.ErrKeyNotFound},
	} {
		t.Run(fmt.Sprintf("%.20s/%s", c.kid, c.alg), func(t *testing.T) {
			ks, err := s.LookupKeys(ctx, &jwt.Header{KeyID: c.kid, Alg: c.alg})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				if len(err.Error()) > 300 {
					t.Errorf("error message of %d bytes", len(err.Error()))
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(ks); !slices.Equal(got, c.want) {
				t.Errorf("keys %v, want %v", got, c.want)
			}
			for _, k := range ks {
				if k.CanSign() {
					t.Error("lookup returned a private key")
				}
			}
		})
	}
	if _, err := s.LookupKeys(ctx, nil); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Errorf("nil header: %v", err)
	}
	var nilSet *Set
	if _, err := nilSet.LookupKeys(ctx, &jwt.Header{Alg: jwt.RS256}); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Errorf("nil set: %v", err)
	}
	if k, ok := s.Key("rsa2"); !ok || k.Algorithm() != "PS256" {
		t.Error("Key(rsa2)")
	}
	if k, ok := s.Key(edID); !ok || k.KeyID() != "" {
		t.Error("Key(thumbprint)")
	}
	if _, ok := s.Key("nope"); ok {
		t.Error("Key(nope)")
	}
}

func TestSetLookupAllocations(t *testing.T) {
	s, err := ParseSet(jwks(with(t, jwkOf(t, fixRSA), "kid", "a"), with(t, publicOf(jwkOf(t, fixRSA2)), "kid", "b")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, h := range []*jwt.Header{{KeyID: "b", Alg: jwt.RS256}, {Alg: jwt.PS384}} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := s.LookupKeys(ctx, h); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("LookupKeys(%+v) allocates %v times", h, allocs)
		}
	}
}

func TestSetImmutable(t *testing.T) {
	s, err := ParseSet(jwks(with(t, jwkOf(t, fixRSA), "kid", "a"), with(t, publicOf(jwkOf(t, fixRSA2)), "kid", "b")))
	if err != nil {
		t.Fatal(err)
	}
	h := &jwt.Header{Alg: jwt.RS256}
	ks, _ := s.LookupKeys(t.Context(), h)
	_ = append(ks, nil)
	keys := s.Keys()
	keys[0] = nil
	ks2, _ := s.LookupKeys(t.Context(), h)
	if len(ks2) != 2 || ks2[0] == nil || s.Keys()[0] == nil {
		t.Error("the set changed")
	}
	if cap(ks) != len(ks) {
		t.Error("looked-up slice has spare capacity")
	}
}

func TestSetConcurrent(t *testing.T) {
	sk := signingKeyOf(t, fixP256)
	set, err := NewSet(sk.WithID("k"))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jwt.NewSigner(sk.WithID("k"), jwt.ES256, jwt.SignerOptions{})
	tok, _ := signer.Sign(jwt.Claims{Subject: "s"})
	ver, _ := jwt.NewVerifier(set, jwt.VerifierOptions{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := ver.Verify(t.Context(), tok); err != nil {
					t.Error(err)
					return
				}
				_, _ = set.MarshalJSON()
			}
		}()
	}
	wg.Wait()
}

func TestNewSet(t *testing.T) {
	rsaKey := signingKeyOf(t, fixRSA)
	ecKey := signingKeyOf(t, fixP256)
	edKey := signingKeyOf(t, fixEd25519)
	set, err := NewSet(rsaKey.WithID("r"), ecKey, edKey)
	if err != nil {
		t.Fatal(err)
	}
	ecID, _ := KeyID(ecKey)
	keys := set.Keys()
	if keys[0].KeyID() != "r" || keys[1].KeyID() != ecID {
		t.Errorf("kids %q %q, want r and the thumbprint", keys[0].KeyID(), keys[1].KeyID())
	}
	// Tokens signed with the key, with or without kid, verify.
	ver, _ := jwt.NewVerifier(set, jwt.VerifierOptions{})
	for _, sk := range []*jwt.Key{rsaKey.WithID("r"), ecKey, mustEnsure(t, ecKey), edKey} {
		alg := sk.Algorithms()[0]
		signer, err := jwt.NewSigner(sk, alg, jwt.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := signer.Sign(jwt.Claims{Subject: "x"})
		if _, err := ver.Verify(t.Context(), tok); err != nil {
			t.Errorf("%s kid %q: %v", alg, sk.ID(), err)
		}
	}
	// The published set holds public keys only, and parses as a public set.
	out, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if hasPrivateMember(t, out) {
		t.Fatalf("MarshalJSON leaked a private member: %s", out)
	}
	pub, err := ParsePublicSet(out)
	if err != nil {
		t.Fatalf("ParsePublicSet(%s): %v", out, err)
	}
	if pub.Len() != 3 {
		t.Errorf("published %d keys", pub.Len())
	}
	for i, k := range pub.Keys() {
		a, _ := k.Thumbprint(0)
		b, _ := keys[i].Thumbprint(0)
		if !bytes.Equal(a, b) || k.KeyID() != keys[i].KeyID() {
			t.Errorf("published key %d differs", i)
		}
	}
	if out2, _ := pub.MarshalJSON(); !bytes.Equal(out, out2) {
		t.Errorf("republished set differs:\n%s\n%s", out, out2)
	}

	// Signing keys.
	if k, err := set.SigningKey("r"); err != nil || !k.CanSign() || k.ID() != "r" {
		t.Errorf("SigningKey(r) = %v, %v", k, err)
	}
	if _, err := set.SigningKey(""); !errors.Is(err, ErrKeyUse) {
		t.Errorf("SigningKey(\"\") with three keys: %v", err)
	}
	if _, err := set.SigningKey("nope"); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Errorf("SigningKey(nope): %v", err)
	}
	if _, err := pub.SigningKey(""); !errors.Is(err, ErrKeyUse) {
		t.Errorf("SigningKey of a public set: %v", err)
	}
	if _, err := pub.SigningKey("r"); !errors.Is(err, ErrKeyUse) {
		t.Errorf("SigningKey(r) of a public set: %v", err)
	}

	// Errors.
	hs, _ := jwt.NewHMACKey(bytes.Repeat([]byte{1}, 32))
	for name, keys := range map[string][]*jwt.Key{
		"nil key":                  {rsaKey, nil},
		"duplicate ID":             {rsaKey.WithID("a"), ecKey.WithID("a")},
		"same key twice":           {ecKey, ecKey},
		"ID equal to a thumbprint": {ecKey, edKey.WithID(ecID)},
		"mixed":                    {rsaKey, hs},
		"narrowed to two algs":     {mustNarrow(t, rsaKey, jwt.RS256, jwt.PS256)},
	} {
		if _, err := NewSet(keys...); !errors.Is(err, ErrInvalidSet) {
			t.Errorf("%s: %v, want ErrInvalidSet", name, err)
		}
	}
	if _, err := NewSetFromKeys(nil); !errors.Is(err, ErrInvalidSet) {
		t.Errorf("NewSetFromKeys(nil): %v", err)
	}
}

func mustEnsure(t *testing.T, k *jwt.Key) *jwt.Key {
	k, err := EnsureKeyID(k)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustNarrow(t *testing.T, k *jwt.Key, algs ...jwt.Algorithm) *jwt.Key {
	k, err := k.WithAlgorithms(algs...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSymmetricSet(t *testing.T) {
	a, _ := GenerateHMAC(jwt.HS256, 0)
	b, _ := GenerateHMAC(jwt.HS512, 0)
	set, err := NewSet(a.WithID("a"), b.WithID("b"))
	if err != nil {
		t.Fatal(err)
	}
	if !set.IsSymmetric() {
		t.Error("not symmetric")
	}
	if out, _ := set.MarshalJSON(); string(out) != `{"keys":[]}` {
		t.Errorf("a set of secrets published %s", out)
	}
	signer, _ := jwt.NewSigner(b.WithID("b"), jwt.HS512, jwt.SignerOptions{})
	tok, _ := signer.Sign(jwt.Claims{})
	ver, _ := jwt.NewVerifier(set, jwt.VerifierOptions{})
	if _, err := ver.Verify(t.Context(), tok); err != nil {
		t.Error(err)
	}
	// A token for key a's algorithm but naming key b is not verified by a.
	signerA, _ := jwt.NewSigner(a.WithID("b"), jwt.HS256, jwt.SignerOptions{})
	tokA, _ := signerA.Sign(jwt.Claims{})
	if _, err := ver.Verify(t.Context(), tokA); err == nil {
		t.Error("a token verified with the key of another kid")
	}
}

func TestParsePublicSet(t *testing.T) {
	rsaPriv := jwkOf(t, fixRSA)
	for name, c := range map[string]struct {
		data []byte
		ok   bool
	}{
		"public":      {jwks(with(t, publicOf(rsaPriv)), with(t, publicOf(jwkOf(t, fixEd25519)))), true},
		"private RSA": {jwks(with(t, publicOf(jwkOf(t, fixEd25519))), with(t, rsaPriv)), false},
		"private EC":  {jwks(with(t, jwkOf(t, fixP256))), false},
		"private OKP": {jwks(with(t, jwkOf(t, fixEd25519))), false},
		"secret":      {jwks(with(t, jwkOf(t, fixOct32))), false},
		"secret, enc": {jwks(with(t, jwkOf(t, fixOct64), "use", "enc")), false},
	} {
		_, err := ParsePublicSet(c.data)
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidSet) {
			t.Errorf("%s: %v does not wrap ErrInvalidSet", name, err)
		}
		if _, err := ParseSet(c.data); err != nil {
			t.Errorf("%s: ParseSet: %v", name, err)
		}
	}
}
