package jwk

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

type keyCase struct {
	name string
	data []byte
	want []error // every one must match errors.Is; empty means success
}

func runKeyCases(t *testing.T, cases []keyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKey(c.data)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("ParseKey(%s): %v", c.data, err)
				}
				checkRoundTrip(t, k)
				return
			}
			if err == nil {
				t.Fatalf("ParseKey(%s) succeeded, want %v", c.data, c.want)
			}
			t.Log(err)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
			// Inside a set, the same key fails the set (unknown kty and
			// unsupported keys excepted, see TestSetUnknownKeyType).
			if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnsupported) || !bytes.HasPrefix(bytes.TrimSpace(c.data), []byte("{")) {
				return
			}
			if _, err := ParseSet([]byte(`{"keys":[` + string(c.data) + `]}`)); err == nil && !isUnknownKty(c.data) {
				t.Errorf("ParseSet with this key succeeded")
			}
		})
	}
}

func isUnknownKty(data []byte) bool {
	v, err := strictjson.Parse(data)
	if err != nil || v.Kind != strictjson.KindObject {
		return false
	}
	kty := v.Obj.Get("kty")
	return kty != nil && kty.Kind == strictjson.KindString && !knownKeyType(kty.Str)
}

var (
	invalid     = []error{ErrInvalidKey}
	unsupported = []error{ErrUnsupported}
	jwtInvalid  = []error{ErrInvalidKey, jwt.ErrInvalidKey}
)

func TestParseKeyJSON(t *testing.T) {
	oct := jwkOf(t, fixOct32)
	good := string(with(t, oct))
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	runKeyCases(t, []keyCase{
		{"valid", []byte(good), nil},
		{"valid with white space and unknown members", []byte(" \n{\"x-extra\":{\"a\":[1,true,null]},\"KTY\":1," + good[1:] + "\n"), nil},
		{"empty", nil, invalid},
		{"not JSON", []byte("kty=oct"), invalid},
		{"truncated", []byte(good[:len(good)-1]), invalid},
		{"array", []byte(`[` + good + `]`), invalid},
		{"string", []byte(`"oct"`), invalid},
		{"null", []byte(`null`), invalid},
		{"trailing object", []byte(good + `{}`), invalid},
		{"trailing garbage", []byte(good + ` x`), invalid},
		{"byte order mark", append([]byte("\xef\xbb\xbf"), good...), invalid},
		{"duplicate member", []byte(`{"kty":"oct","kty":"oct","k":"` + oct["k"].(string) + `"}`), invalid},
		{"duplicate k", []byte(`{"kty":"oct","k":"` + oct["k"].(string) + `","k":"` + oct["k"].(string) + `"}`), invalid},
		{"duplicate member spelled with an escape", []byte(`{"kty":"oct","k\u0074y":"oct","k":"` + oct["k"].(string) + `"}`), invalid},
		{"duplicate member in a nested object", []byte(`{"x":{"a":1,"a":2},` + good[1:]), invalid},
		{"duplicate member in a large object", []byte(`{` + manyMembers(40) + `,"m7":0,` + good[1:]), invalid},
		{"invalid UTF-8", []byte("{\"kid\":\"\xff\"," + good[1:]), invalid},
		{"lone high surrogate escape", []byte(`{"note":"\ud800",` + good[1:]), invalid},
		{"lone low surrogate escape", []byte(`{"note":"a\udc00",` + good[1:]), invalid},
		{"reversed surrogates", []byte(`{"note":"\udc00\ud800",` + good[1:]), invalid},
		{"high surrogate then a letter", []byte(`{"note":"\ud800\u0041",` + good[1:]), invalid},
		{"surrogate pair", []byte(`{"note":"\ud83d\ude00 \\ud800 \"",` + good[1:]), nil},
		{"invalid UTF-8 in a member name", []byte("{\"\xc3\x28\":1," + good[1:]), invalid},
		{"too deep", []byte(`{"x":` + deep + `,` + good[1:]), invalid},
		{"too large", append([]byte(good[:len(good)-1]+`,"pad":"`), append(bytes.Repeat([]byte("a"), MaxKeySize), `"}`...)...), []error{ErrTooLarge}},
	})
}

func manyMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"m%d":0`, i)
	}
	return strings.Join(parts, ",")
}

func TestParseKeyCommonMembers(t *testing.T) {
	oct := jwkOf(t, fixOct64)
	rsaKey := publicOf(jwkOf(t, fixRSA))
	ec := publicOf(jwkOf(t, fixP256))
	ed := jwkOf(t, fixEd25519)
	runKeyCases(t, []keyCase{
		{"missing kty", with(t, oct, "kty", del{}), invalid},
		{"kty number", with(t, oct, "kty", 1), invalid},
		{"kty null", with(t, oct, "kty", nil), invalid},
		{"kty wrong case", with(t, oct, "kty", "OCT"), unsupported},
		{"unknown kty", with(t, oct, "kty", "XYZ"), unsupported},
		{"kid", with(t, oct, "kid", "a \"quoted\" <kid> \u2028 é"), nil},
		{"kid number", with(t, oct, "kid", 7), invalid},
		{"kid empty", with(t, oct, "kid", ""), invalid},
		{"use sig", with(t, oct, "use", "sig"), nil},
		{"use enc", with(t, oct, "use", "enc"), nil},
		{"use other", with(t, oct, "use", "tls"), nil},
		{"use number", with(t, oct, "use", 1), invalid},
		{"use empty", with(t, oct, "use", ""), invalid},
		{"key_ops", with(t, oct, "key_ops", []string{"sign", "verify"}), nil},
		{"key_ops empty", with(t, oct, "key_ops", []string{}), nil},
		{"key_ops with use", with(t, oct, "key_ops", []string{"verify"}, "use", "sig"), nil},
		{"key_ops string", with(t, oct, "key_ops", "sign"), invalid},
		{"key_ops number element", with(t, oct, "key_ops", []any{"sign", 1}), invalid},
		{"key_ops unknown value", with(t, oct, "key_ops", []string{"sign", "mint"}), invalid},
		{"key_ops wrong case", with(t, oct, "key_ops", []string{"Sign"}), invalid},
		{"key_ops duplicate", with(t, oct, "key_ops", []string{"sign", "verify", "sign"}), invalid},
		{"use sig and key_ops encrypt", with(t, oct, "use", "sig", "key_ops", []string{"sign", "encrypt"}), invalid},
		{"use enc and key_ops sign", with(t, oct, "use", "enc", "key_ops", []string{"sign"}), invalid},
		{"use other and key_ops verify", with(t, oct, "use", "tls", "key_ops", []string{"verify"}), invalid},
		{"alg HS512", with(t, oct, "alg", "HS512"), nil},
		{"alg number", with(t, oct, "alg", 256), invalid},
		{"alg none", with(t, oct, "alg", "none"), []error{ErrInvalidKey, jwt.ErrAlgorithm}},
		{"alg None", with(t, oct, "alg", "None"), []error{ErrInvalidKey, jwt.ErrAlgorithm}},
		{"alg unknown", with(t, oct, "alg", "HS1"), invalid},
		{"alg empty", with(t, oct, "alg", ""), invalid},
		{"alg JWE on oct", with(t, oct, "alg", "A256KW"), nil},
		{"alg JWE with use enc", with(t, oct, "alg", "dir", "use", "enc"), nil},
		{"alg JWE with use sig", with(t, oct, "alg", "A256KW", "use", "sig"), invalid},
		{"alg JWS with use enc", with(t, oct, "alg", "HS256", "use", "enc"), invalid},
		{"alg JWS with key_ops encrypt", with(t, oct, "alg", "HS256", "key_ops", []string{"encrypt"}), invalid},
		{"alg JWE with key_ops sign", with(t, oct, "alg", "A128GCMKW", "key_ops", []string{"sign"}), invalid},
		{"alg HS256 on RSA", with(t, rsaKey, "alg", "HS256"), invalid},
		{"alg ES256 on RSA", with(t, rsaKey, "alg", "ES256"), invalid},
		{"alg RS256 on oct", with(t, oct, "alg", "RS256"), invalid},
		{"alg RS256 on EC", with(t, ec, "alg", "RS256"), invalid},
		{"alg EdDSA on EC", with(t, ec, "alg", "EdDSA"), invalid},
		{"alg ES384 on P-256", with(t, ec, "alg", "ES384"), invalid},
		{"alg ES512 on P-256", with(t, ec, "alg", "ES512"), invalid},
		{"alg ES256 on Ed25519", with(t, ed, "alg", "ES256"), invalid},
		{"alg ECDH-ES on Ed25519", with(t, ed, "alg", "ECDH-ES"), invalid},
		{"alg RSA-OAEP on EC", with(t, ec, "alg", "RSA-OAEP"), invalid},
		{"alg RSA-OAEP-256 on RSA", with(t, rsaKey, "alg", "RSA-OAEP-256", "use", "enc"), nil},
		{"alg ECDH-ES on EC", with(t, ec, "alg", "ECDH-ES+A256KW"), nil},
		{"alg PS384 on RSA", with(t, rsaKey, "alg", "PS384"), nil},
		{"alg EdDSA on Ed25519", with(t, ed, "alg", "EdDSA"), nil},
	})
}

func TestParseKeyBase64(t *testing.T) {
	oct := jwkOf(t, fixOct32) // k is 43 characters: 2 trailing bits
	k := oct["k"].(string)
	last := k[len(k)-1]
	// A character whose two low bits are set, differing from the last.
	flipped := string(k[:len(k)-1]) + "B"
	if last == 'B' {
		flipped = string(k[:len(k)-1]) + "D"
	}
	ec := jwkOf(t, fixP256)
	runKeyCases(t, []keyCase{
		{"padding", with(t, oct, "k", k+"="), invalid},
		{"space", with(t, oct, "k", k[:10]+" "+k[10:]), invalid},
		{"newline", with(t, oct, "k", k[:10]+"\n"+k[10:]), invalid},
		{"carriage return at the end", with(t, oct, "k", k+"\r"), invalid},
		{"standard alphabet", with(t, oct, "k", strings.NewReplacer("-", "+", "_", "/").Replace(k)+"+/"), invalid},
		{"non-zero trailing bits", with(t, oct, "k", flipped), invalid},
		{"impossible length", with(t, oct, "k", k+"AA"), invalid},
		{"non-ASCII", with(t, oct, "k", k[:10]+"é"+k[10:]), invalid},
		{"empty k", with(t, oct, "k", ""), invalid},
		{"k number", with(t, oct, "k", 5), invalid},
		{"x padded", with(t, ec, "x", ec["x"].(string)+"="), invalid},
		{"d array", with(t, ec, "d", []string{ec["d"].(string)}), invalid},
		{"d null", with(t, ec, "d", nil), invalid},
	})
}

func TestParseKeyRSA(t *testing.T) {
	priv := jwkOf(t, fixRSA)
	other := jwkOf(t, fixRSA2)
	pub := publicOf(priv)
	n := unb64(t, pub["n"])
	huge := append([]byte{0xff}, bytes.Repeat([]byte{0xff}, MaxRSABits/8)...)
	cases := []keyCase{
		{"public", with(t, pub), nil},
		{"private", with(t, priv), nil},
		{"private RFC 7520", with(t, other), nil},
		{"missing n", with(t, pub, "n", del{}), invalid},
		{"missing e", with(t, pub, "e", del{}), invalid},
		{"n number", with(t, pub, "n", 12345), invalid},
		{"n empty", with(t, pub, "n", ""), invalid},
		{"1024-bit modulus", with(t, pub, "n", b64(n[:128])), invalid},
		{"2040-bit modulus", with(t, pub, "n", b64(n[:255])), invalid},
		{"modulus over MaxRSABits", with(t, pub, "n", b64(huge)), unsupported},
		{"even modulus", with(t, pub, "n", b64(append(n[:255:255], n[255]&^1))), invalid},
		{"n with a leading zero", with(t, pub, "n", zeroPrefixed(t, pub, "n")), invalid},
		{"e with a leading zero", with(t, pub, "e", "AAEAAQ"), invalid},
		{"e zero", with(t, pub, "e", "AA"), invalid},
		{"e one", with(t, pub, "e", "AQ"), jwtInvalid},
		{"e even", with(t, pub, "e", "AQAA"), jwtInvalid},
		{"e 3", with(t, pub, "e", "Aw"), nil},
		{"e five bytes", with(t, pub, "e", b64([]byte{1, 0, 0, 0, 1})), invalid},
		{"e above 2^31-1", with(t, pub, "e", b64([]byte{0x80, 0, 0, 1})), invalid},
		{"multi-prime oth", with(t, priv, "oth", []any{map[string]string{"r": "AQAB", "d": "AQAB", "t": "AQAB"}}), unsupported},
		{"d only", with(t, priv, "p", del{}, "q", del{}, "dp", del{}, "dq", del{}, "qi", del{}), unsupported},
		{"p without d", with(t, pub, "p", priv["p"]), invalid},
		{"CRT values without d", with(t, priv, "d", del{}), invalid},
		{"missing q", with(t, priv, "q", del{}), invalid},
		{"missing qi", with(t, priv, "qi", del{}), invalid},
		{"dp and dq swapped", with(t, priv, "dp", priv["dq"], "dq", priv["dp"]), invalid},
		{"p and q swapped", with(t, priv, "p", priv["q"], "q", priv["p"]), invalid},
		{"qi wrong", with(t, priv, "qi", priv["dp"]), invalid},
		{"d of another key", with(t, priv, "d", other["d"]), invalid},
		{"n of another key", with(t, priv, "n", other["n"]), invalid},
		{"primes of another key", with(t, priv, "p", other["p"], "q", other["q"]), invalid},
		{"d larger than n", with(t, priv, "d", b64(append([]byte{1}, n...))), invalid},
		{"q larger than n", with(t, priv, "q", b64(append([]byte{1}, n...))), invalid},
	}
	for _, name := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		cases = append(cases,
			keyCase{name + " with a leading zero", with(t, priv, name, zeroPrefixed(t, priv, name)), invalid},
			keyCase{name + " number", with(t, priv, name, 3), invalid},
			keyCase{name + " empty", with(t, priv, name, ""), invalid},
		)
	}
	runKeyCases(t, cases)
}

func TestParseKeyEC(t *testing.T) {
	priv := jwkOf(t, fixP256)
	pub := publicOf(priv)
	p521 := jwkOf(t, fixP521)
	x := unb64(t, pub["x"])
	y := unb64(t, pub["y"])
	yOff := slices.Clone(y)
	yOff[31] ^= 1
	otherD, err := newP256(t).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d521 := unb64(t, p521["d"])
	if d521[0] != 0 {
		t.Fatal("fixture: the RFC 7520 P-521 d should start with a zero octet")
	}
	// N of P-256, which is out of range for d.
	n256 := unhex(t, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
	runKeyCases(t, []keyCase{
		{"public", with(t, pub), nil},
		{"private", with(t, priv), nil},
		{"P-521 private, d with a leading zero octet", with(t, p521), nil},
		{"missing crv", with(t, pub, "crv", del{}), invalid},
		{"crv number", with(t, pub, "crv", 256), invalid},
		{"crv P-192", with(t, pub, "crv", "P-192"), unsupported},
		{"crv secp256k1", with(t, pub, "crv", "secp256k1"), unsupported},
		{"crv Ed25519", with(t, pub, "crv", "Ed25519"), unsupported},
		{"crv of another size", with(t, pub, "crv", "P-384"), invalid},
		{"missing x", with(t, pub, "x", del{}), invalid},
		{"missing y", with(t, pub, "y", del{}), invalid},
		{"x with a leading zero (33 bytes)", with(t, pub, "x", b64(append([]byte{0}, x...))), invalid},
		{"x short (31 bytes)", with(t, pub, "x", b64(x[1:])), invalid},
		{"y short (31 bytes)", with(t, pub, "y", b64(y[1:])), invalid},
		{"P-521 d without its zero octet", with(t, p521, "d", b64(d521[1:])), invalid},
		{"d short", with(t, priv, "d", b64(unb64(t, priv["d"])[1:])), invalid},
		{"point not on the curve", with(t, pub, "y", b64(yOff)), invalid},
		{"point at zero", with(t, pub, "x", b64(make([]byte, 32)), "y", b64(make([]byte, 32))), invalid},
		{"x and y swapped", with(t, pub, "x", pub["y"], "y", pub["x"]), invalid},
		{"d of another key", with(t, priv, "d", b64(otherD)), invalid},
		{"d zero", with(t, priv, "d", b64(make([]byte, 32))), invalid},
		{"d equal to N", with(t, priv, "d", b64(n256)), invalid},
		{"d all ones", with(t, priv, "d", b64(bytes.Repeat([]byte{0xff}, 32))), invalid},
	})
}

func TestParseKeyOKP(t *testing.T) {
	priv := jwkOf(t, fixEd25519)
	pub := publicOf(priv)
	otherSeed := bytes.Repeat([]byte{7}, 32)
	cases := []keyCase{
		{"public", with(t, pub), nil},
		{"private", with(t, priv), nil},
		{"missing crv", with(t, pub, "crv", del{}), invalid},
		{"crv X25519", with(t, pub, "crv", "X25519"), unsupported},
		{"crv X448", with(t, pub, "crv", "X448"), unsupported},
		{"crv Ed448", with(t, pub, "crv", "Ed448"), unsupported},
		{"crv unknown", with(t, pub, "crv", "Ed25518"), unsupported},
		{"crv P-256", with(t, pub, "crv", "P-256"), unsupported},
		{"missing x", with(t, pub, "x", del{}), invalid},
		{"x 31 bytes", with(t, pub, "x", b64(unb64(t, pub["x"])[1:])), invalid},
		{"x 33 bytes", with(t, pub, "x", b64(append(unb64(t, pub["x"]), 0))), invalid},
		{"d 31 bytes", with(t, priv, "d", b64(unb64(t, priv["d"])[1:])), invalid},
		{"d of another key", with(t, priv, "d", b64(otherSeed)), invalid},
		{"private key without x", with(t, priv, "x", del{}), invalid},
	}
	// Small-order and non-canonical encodings: jwt.NewPublicKey refuses them
	// and the error surfaces.
	for name, h := range map[string]string{
		"identity":         "0100000000000000000000000000000000000000000000000000000000000000",
		"order 2":          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"order 4":          "0000000000000000000000000000000000000000000000000000000000000000",
		"order 4, sign":    "0000000000000000000000000000000000000000000000000000000000000080",
		"order 8":          "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"order 8 (second)": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"y = p":            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"y = p + 1":        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"y = 2^255 - 1":    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	} {
		cases = append(cases, keyCase{"x " + name, with(t, pub, "x", b64(unhex(t, h))), jwtInvalid})
	}
	runKeyCases(t, cases)
}

func TestParseKeyOct(t *testing.T) {
	oct := jwkOf(t, fixOct32)
	runKeyCases(t, []keyCase{
		{"32 bytes", with(t, oct), nil},
		{"missing k", with(t, oct, "k", del{}), invalid},
		{"31 bytes", with(t, oct, "k", b64(bytes.Repeat([]byte{1}, 31)), "alg", del{}), jwtInvalid},
		{"16-byte AES key", with(t, oct, "k", b64(bytes.Repeat([]byte{1}, 16)), "alg", "A128KW", "use", "enc"), jwtInvalid},
		{"HS384 on 32 bytes", with(t, oct, "alg", "HS384"), jwtInvalid},
		{"HS384 on 48 bytes", with(t, oct, "alg", "HS384", "k", b64(bytes.Repeat([]byte{1}, 48))), nil},
		{"x5c on oct", with(t, oct, "x5c", []string{"MIIB"}), invalid},
		{"x5t on oct", with(t, oct, "x5t", b64(make([]byte, 20))), invalid},
	})
}

func TestParseKeyX509(t *testing.T) {
	priv := jwkOf(t, fixP256)
	pub := publicOf(priv)
	sk := signingKeyOf(t, fixP256)
	cert := selfSigned(t, sk, "a")
	other := selfSigned(t, signingKeyOf(t, fixEd25519), "b")
	x5c := []string{stdB64(cert.Raw)}
	chain := []string{stdB64(cert.Raw), stdB64(other.Raw)}
	t1 := sha1Sum(cert.Raw)
	t256 := sha256Sum(cert.Raw)
	runKeyCases(t, []keyCase{
		{"x5c", with(t, pub, "x5c", x5c), nil},
		{"x5c chain", with(t, priv, "x5c", chain), nil},
		{"x5c with thumbprints and x5u", with(t, pub, "x5c", x5c, "x5t", b64(t1), "x5t#S256", b64(t256), "x5u", "https://example.com/c.pem"), nil},
		{"thumbprints without x5c", with(t, pub, "x5t", b64(t1), "x5t#S256", b64(t256)), nil},
		{"x5c string", with(t, pub, "x5c", x5c[0]), invalid},
		{"x5c empty", with(t, pub, "x5c", []string{}), invalid},
		{"x5c number element", with(t, pub, "x5c", []any{1}), invalid},
		{"x5c base64url", with(t, pub, "x5c", []string{b64(cert.Raw)}), invalid},
		{"x5c with a newline", with(t, pub, "x5c", []string{x5c[0][:64] + "\n" + x5c[0][64:]}), invalid},
		{"x5c not DER", with(t, pub, "x5c", []string{stdB64([]byte("not a certificate"))}), invalid},
		{"x5c of another key", with(t, pub, "x5c", []string{stdB64(other.Raw)}), invalid},
		{"x5c with a bad second certificate", with(t, pub, "x5c", []string{x5c[0], "AAAA"}), invalid},
		{"x5t wrong length", with(t, pub, "x5t", b64(t256)), invalid},
		{"x5t#S256 wrong length", with(t, pub, "x5t#S256", b64(t1)), invalid},
		{"x5t mismatch", with(t, pub, "x5c", x5c, "x5t", b64(sha1Sum(other.Raw))), invalid},
		{"x5t#S256 mismatch", with(t, pub, "x5c", x5c, "x5t#S256", b64(sha256Sum(other.Raw))), invalid},
		{"x5u number", with(t, pub, "x5u", 1), invalid},
	})
	k, err := ParseKey(with(t, pub, "x5c", chain))
	if err != nil {
		t.Fatal(err)
	}
	if certs := k.Certificates(); len(certs) != 2 || !certs[0].Equal(cert) {
		t.Errorf("Certificates() = %v", certs)
	}
}

func TestUseAndKeyOps(t *testing.T) {
	rsaPriv := jwkOf(t, fixRSA)
	rsaPub := publicOf(rsaPriv)
	oct := jwkOf(t, fixOct64)
	type want struct{ verify, sign bool }
	for _, c := range []struct {
		name string
		data []byte
		want want
	}{
		{"private, no restriction", with(t, rsaPriv), want{true, true}},
		{"public, no restriction", with(t, rsaPub), want{true, false}},
		{"private, use sig", with(t, rsaPriv, "use", "sig"), want{true, true}},
		{"private, use enc", with(t, rsaPriv, "use", "enc"), want{false, false}},
		{"public, use enc", with(t, rsaPub, "use", "enc"), want{false, false}},
		{"private, unknown use", with(t, rsaPriv, "use", "tls"), want{false, false}},
		{"private, key_ops sign", with(t, rsaPriv, "key_ops", []string{"sign"}), want{true, true}},
		{"private, key_ops verify", with(t, rsaPriv, "key_ops", []string{"verify"}), want{true, false}},
		{"private, key_ops empty", with(t, rsaPriv, "key_ops", []string{}), want{false, false}},
		{"private, key_ops decrypt", with(t, rsaPriv, "key_ops", []string{"decrypt", "unwrapKey"}), want{false, false}},
		{"public, key_ops verify", with(t, rsaPub, "key_ops", []string{"verify"}), want{true, false}},
		{"public, key_ops sign", with(t, rsaPub, "key_ops", []string{"sign"}), want{false, false}},
		{"public, key_ops encrypt", with(t, rsaPub, "key_ops", []string{"encrypt"}), want{false, false}},
		{"private, alg RSA-OAEP", with(t, rsaPriv, "alg", "RSA-OAEP"), want{false, false}},
		{"private, alg PS256", with(t, rsaPriv, "alg", "PS256"), want{true, true}},
		{"oct, no restriction", with(t, oct), want{true, true}},
		{"oct, key_ops sign", with(t, oct, "key_ops", []string{"sign"}), want{false, true}},
		{"oct, key_ops verify", with(t, oct, "key_ops", []string{"verify"}), want{true, false}},
		{"oct, use enc", with(t, oct, "use", "enc"), want{false, false}},
		{"oct, alg A256GCMKW", with(t, oct, "alg", "A256GCMKW"), want{false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKey(c.data)
			if err != nil {
				t.Fatal(err)
			}
			vk, err := k.VerificationKey()
			if c.want.verify != (err == nil) {
				t.Errorf("VerificationKey: %v, want ok=%v", err, c.want.verify)
			}
			if err != nil && (!errors.Is(err, ErrKeyUse) || !errors.Is(err, jwt.ErrInvalidKey)) {
				t.Errorf("VerificationKey error %v does not wrap ErrKeyUse and jwt.ErrInvalidKey", err)
			}
			if err == nil && vk.CanSign() && !vk.IsSymmetric() {
				t.Error("the verification key of an asymmetric key holds the private key")
			}
			sk, err := k.SigningKey()
			if c.want.sign != (err == nil) {
				t.Errorf("SigningKey: %v, want ok=%v", err, c.want.sign)
			}
			if err != nil && !errors.Is(err, ErrKeyUse) {
				t.Errorf("SigningKey error %v does not wrap ErrKeyUse", err)
			}
			if err == nil && !sk.CanSign() {
				t.Error("SigningKey cannot sign")
			}
			// A set never offers a key for verification that may not verify.
			set, err := NewSetFromKeys(k)
			if err != nil {
				t.Fatal(err)
			}
			alg := jwt.RS256
			if k.IsSymmetric() {
				alg = jwt.HS256
			}
			if a := jwt.Algorithm(k.Algorithm()); a.Known() {
				alg = a
			}
			_, err = set.LookupKeys(t.Context(), &jwt.Header{Alg: alg})
			if c.want.verify != (err == nil) {
				t.Errorf("LookupKeys: %v, want ok=%v", err, c.want.verify)
			}
		})
	}
}

func TestKeyAccessors(t *testing.T) {
	k, err := ParseKey(with(t, jwkOf(t, fixP256), "kid", "k1", "use", "sig", "key_ops", []string{"sign", "verify"}, "alg", "ES256"))
	if err != nil {
		t.Fatal(err)
	}
	ops, ok := k.KeyOps()
	if k.KeyType() != KeyTypeEC || k.Curve() != "P-256" || k.KeyID() != "k1" || k.Use() != "sig" ||
		k.Algorithm() != "ES256" || !ok || !slices.Equal(ops, []string{"sign", "verify"}) ||
		!k.IsPrivate() || k.IsSymmetric() || k.Secret() != nil || k.X509URL() != "" || k.Certificates() != nil {
		t.Errorf("accessors: %+v", k)
	}
	if _, ok := k.PublicKey().(*ecdsa.PublicKey); !ok {
		t.Errorf("PublicKey is %T", k.PublicKey())
	}
	if _, ok := k.PrivateKey().(*ecdsa.PrivateKey); !ok {
		t.Errorf("PrivateKey is %T", k.PrivateKey())
	}
	ops[0] = "changed"
	if o, _ := k.KeyOps(); o[0] != "sign" {
		t.Error("KeyOps returned the key's own slice")
	}
	p := k.Public()
	if p.IsPrivate() || p.PrivateKey() != nil {
		t.Error("Public() has private material")
	}
	if o, _ := p.KeyOps(); !slices.Equal(o, []string{"verify"}) {
		t.Errorf("public key_ops = %v, want [verify]", o)
	}
	if p.Public() != p {
		t.Error("Public() of a public key is not the key itself")
	}
	vk, err := k.VerificationKey()
	if err != nil || vk.ID() != "k1" || !slices.Equal(vk.Algorithms(), []jwt.Algorithm{jwt.ES256}) {
		t.Errorf("VerificationKey = %v, %v", vk, err)
	}
	oct, err := ParseKey(with(t, jwkOf(t, fixOct64)))
	if err != nil {
		t.Fatal(err)
	}
	if oct.Public() != nil || oct.PublicKey() != nil || len(oct.Secret()) != 64 || !oct.IsSymmetric() {
		t.Error("oct accessors")
	}
	ok64, _ := oct.VerificationKey()
	if !slices.Equal(ok64.Algorithms(), []jwt.Algorithm{jwt.HS256, jwt.HS384, jwt.HS512}) {
		t.Errorf("64-byte oct key allows %v", ok64.Algorithms())
	}
}

func TestNewKey(t *testing.T) {
	rsaKey := signingKeyOf(t, fixRSA)
	for _, c := range []struct {
		name    string
		key     func() (*jwt.Key, error)
		alg     string
		wantErr error
	}{
		{"RSA, all algorithms", func() (*jwt.Key, error) { return rsaKey, nil }, "", nil},
		{"RSA narrowed to PS256", func() (*jwt.Key, error) { return rsaKey.WithAlgorithms(jwt.PS256) }, "PS256", nil},
		{"RSA narrowed to two", func() (*jwt.Key, error) { return rsaKey.WithAlgorithms(jwt.PS256, jwt.RS256) }, "", ErrUnsupported},
		{"public RSA", func() (*jwt.Key, error) { return rsaKey.Public(), nil }, "", nil},
		{"EC", func() (*jwt.Key, error) { return signingKeyOf(t, fixP521), nil }, "", nil},
		{"Ed25519", func() (*jwt.Key, error) { return signingKeyOf(t, fixEd25519), nil }, "", nil},
		{"HMAC 32", func() (*jwt.Key, error) { return jwt.NewHMACKey(bytes.Repeat([]byte{1}, 32)) }, "", nil},
		{"HMAC 64", func() (*jwt.Key, error) { return jwt.NewHMACKey(bytes.Repeat([]byte{1}, 64)) }, "", nil},
		{"HMAC 64 narrowed to HS384", func() (*jwt.Key, error) { return jwt.NewHMACKey(bytes.Repeat([]byte{1}, 64), jwt.HS384) }, "HS384", nil},
		{"HMAC 64 narrowed to two", func() (*jwt.Key, error) {
			return jwt.NewHMACKey(bytes.Repeat([]byte{1}, 64), jwt.HS384, jwt.HS512)
		}, "", ErrUnsupported},
		{"kid not UTF-8", func() (*jwt.Key, error) { return rsaKey.WithID("\xff"), nil }, "", ErrInvalidKey},
		{"nil", func() (*jwt.Key, error) { return nil, nil }, "", ErrInvalidKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, err := c.key()
			if err != nil {
				t.Fatal(err)
			}
			k, err := NewKey(key)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("NewKey: %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != c.alg {
				t.Errorf("alg %q, want %q", k.Algorithm(), c.alg)
			}
			checkRoundTrip(t, k)
			// The round trip through JSON never widens the key.
			data, _ := k.MarshalPrivate()
			k2, err := ParseKey(data)
			if err != nil {
				t.Fatal(err)
			}
			vk, _ := k2.VerificationKey()
			if !slices.Equal(vk.Algorithms(), key.Algorithms()) {
				t.Errorf("algorithms %v after the round trip, want %v", vk.Algorithms(), key.Algorithms())
			}
		})
	}
}

func TestMarshalPublicNeverLeaks(t *testing.T) {
	for _, file := range []string{fixRSA, fixP256, fixP521, fixEd25519} {
		k, err := ParseKey(with(t, jwkOf(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if hasPrivateMember(t, out) {
			t.Errorf("%s: MarshalJSON wrote a private member: %s", file, out)
		}
		priv, _ := k.MarshalPrivate()
		if !hasPrivateMember(t, priv) {
			t.Errorf("%s: MarshalPrivate wrote no private member", file)
		}
		// Through encoding/json too, as a field of a larger value.
		wrapped, err := jsonMarshal(struct{ Key *Key }{k})
		if err != nil || hasPrivateMember(t, wrapped) {
			t.Errorf("%s: json.Marshal: %s, %v", file, wrapped, err)
		}
	}
	oct, _ := ParseKey(with(t, jwkOf(t, fixOct32)))
	if _, err := jsonMarshal(struct{ Key *Key }{oct}); err == nil {
		t.Error("json.Marshal of a secret key succeeded")
	}
	var nilKey *Key
	if _, err := nilKey.MarshalPrivate(); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("MarshalPrivate of nil: %v", err)
	}
}

func TestKeyTypesFromCrypto(t *testing.T) {
	// The material types a parsed key exposes.
	for file, want := range map[string]string{
		fixRSA:     "*rsa.PrivateKey",
		fixP256:    "*ecdsa.PrivateKey",
		fixEd25519: "ed25519.PrivateKey",
	} {
		k, err := ParseKey(with(t, jwkOf(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		switch k.PrivateKey().(type) {
		case *rsa.PrivateKey:
			got = "*rsa.PrivateKey"
		case *ecdsa.PrivateKey:
			got = "*ecdsa.PrivateKey"
		case ed25519.PrivateKey:
			got = "ed25519.PrivateKey"
		}
		if got != want {
			t.Errorf("%s: private key %T", file, k.PrivateKey())
		}
	}
}

func TestKeyWithID(t *testing.T) {
	k, err := ParseKey(with(t, jwkOf(t, fixRSA), "use", "sig", "alg", "RS256"))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := k.ThumbprintBase64(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	named, err := k.Public().WithID(tp)
	if err != nil {
		t.Fatal(err)
	}
	if named.KeyID() != tp || k.KeyID() != "" {
		t.Errorf("kid %q, original %q", named.KeyID(), k.KeyID())
	}
	if named.Use() != "sig" || named.Algorithm() != "RS256" || named.IsPrivate() {
		t.Errorf("members changed: use %q alg %q private %v", named.Use(), named.Algorithm(), named.IsPrivate())
	}
	if got, _ := named.ThumbprintBase64(crypto.SHA256); got != tp {
		t.Errorf("thumbprint changed: %s", got)
	}
	b, err := json.Marshal(named)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKey(b)
	if err != nil || back.KeyID() != tp {
		t.Fatalf("round trip %s: %v", b, err)
	}
	unnamed, err := named.WithID("")
	if err != nil || unnamed.KeyID() != "" {
		t.Errorf("WithID(\"\"): %v", err)
	}
	if _, err := k.WithID("\xff"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("kid not UTF-8: %v", err)
	}
}
