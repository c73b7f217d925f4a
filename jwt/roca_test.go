package jwt

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rocaModulus reads the fingerprinted 2048-bit modulus of ../testdata/roca
// (see its README.md for the source).
func rocaModulus(t testing.TB) *big.Int {
	t.Helper()
	b, err := os.ReadFile("../testdata/roca/mod03.txt")
	if err != nil {
		t.Fatal(err)
	}
	n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16)
	if !ok || n.BitLen() != 2048 {
		t.Fatalf("testdata/roca/mod03.txt is not a 2048-bit hexadecimal modulus")
	}
	return n
}

// rocaPrivateKey reads the fingerprinted private key of testdata/roca.
func rocaPrivateKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("../testdata/roca/privkey05.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("testdata/roca/privkey05.pem: no PEM block")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rfcRSAModuli returns the RSA moduli of the RFC examples in
// ../testdata/rfc, by file name.
func rfcRSAModuli(t testing.TB) map[string]*big.Int {
	t.Helper()
	files, err := filepath.Glob("../testdata/rfc/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no RFC vectors: %v", err)
	}
	out := make(map[string]*big.Int)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Key struct{ Kty, N string } `json:"key"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Key.Kty != "RSA" {
			continue
		}
		n, err := base64.RawURLEncoding.DecodeString(v.Key.N)
		if err != nil {
			t.Fatalf("%s: n: %v", f, err)
		}
		out[filepath.Base(f)] = new(big.Int).SetBytes(n)
	}
	if len(out) < 3 {
		t.Fatalf("%d RSA keys in the RFC vectors, want at least 3", len(out))
	}
	return out
}

// The masks computed from the definition are the detector's published
// "prints" (RocaFingerprinter.prints in roca/detect.py).
func TestROCAMasksMatchDetector(t *testing.T) {
	prints := []string{
		"6", "30", "126", "1026", "5658", "107286", "199410", "8388606",
		"536870910", "2147483646", "67109890", "2199023255550",
		"8796093022206", "140737488355326", "5310023542746834",
		"576460752303423486", "1455791217086302986", "147573952589676412926",
		"20052041432995567486", "6041388139249378920330", "207530445072488465666",
		"9671406556917033397649406", "618970019642690137449562110",
		"79228162521181866724264247298", "2535301200456458802993406410750",
		"1760368345969468176824550810518", "50079290986288516948354744811034",
		"473022961816146413042658758988474", "10384593717069655257060992658440190",
		"144390480366845522447407333004847678774", "2722258935367507707706996859454145691646",
		"174224571863520493293247799005065324265470", "696898287454081973172991196020261297061886",
		"713623846352979940529142984724747568191373310", "1800793591454480341970779146165214289059119882",
		"126304807362733370595828809000324029340048915994",
		"11692013098647223345629478661730264157247460343806",
		"187072209578355573530071658587684226515959365500926",
	}
	if len(prints) != len(rocaPrimes) {
		t.Fatalf("%d prints for %d primes", len(prints), len(rocaPrimes))
	}
	for i, s := range prints {
		want, _ := new(big.Int).SetString(s, 10)
		got := new(big.Int)
		for w := 2; w >= 0; w-- {
			got.Lsh(got, 64).Or(got, new(big.Int).SetUint64(rocaFingerprint.masks[i][w]))
		}
		if got.Cmp(want) != 0 {
			t.Errorf("prime %d: mask %s, the detector's %s", rocaPrimes[i], got, want)
		}
	}
	// The primes are the detector's primorial of 167 (its test_primorial)
	// without the factor 2, and the groups cover them in order.
	want, _ := new(big.Int).SetString("962947420735983927056946215901134429196419130606213075415963491270", 10)
	if got := new(big.Int).Lsh(rocaProduct(), 1); got.Cmp(want) != 0 {
		t.Errorf("product of the primes: %s", rocaProduct())
	}
	next := 0
	for _, g := range rocaFingerprint.groups {
		prod := uint64(1)
		for _, p := range rocaPrimes[g.start:g.end] {
			prod *= p
		}
		if g.start != next || g.end <= g.start || prod != g.product {
			t.Errorf("group %+v after prime %d (product %d)", g, next, prod)
		}
		next = g.end
	}
	if next != len(rocaPrimes) {
		t.Errorf("the groups end at prime %d of %d", next, len(rocaPrimes))
	}
}

// rocaProduct returns the product of rocaPrimes.
func rocaProduct() *big.Int {
	m := big.NewInt(1)
	for _, p := range rocaPrimes {
		m.Mul(m, new(big.Int).SetUint64(p))
	}
	return m
}

func TestROCAFingerprint(t *testing.T) {
	vulnerable := rocaModulus(t)
	tests := []struct {
		name string
		n    *big.Int
		want bool
	}{
		{"detector mod03", vulnerable, true},
		{"detector privkey05", rocaPrivateKey(t).N, true},
		{"mod03 plus 2", new(big.Int).Add(vulnerable, big.NewInt(2)), false},
		{"mod03 times 3", new(big.Int).Mul(vulnerable, big.NewInt(3)), false},
		{"test key", testKeys()["rsa"].(*rsa.PrivateKey).N, false},
		{"one", big.NewInt(1), true}, // 1 = 65537^0 mod every prime; no key is that small
		{"zero", new(big.Int), false},
		{"negative", big.NewInt(-7), false},
		{"nil", nil, false},
	}
	for name, n := range rfcRSAModuli(t) {
		tests = append(tests, struct {
			name string
			n    *big.Int
			want bool
		}{name, n, false})
	}
	for _, tt := range tests {
		if got := hasROCAFingerprint(tt.n); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Moduli built to have the fingerprint, and their neighbours: the check is
// the definition (N mod p a power of 65537 mod p for every prime), not a
// list of known keys.
func TestROCAFingerprintConstructed(t *testing.T) {
	m := rocaProduct()
	for _, k := range []int64{0, 1, 2, 37, 1000003} {
		// N = 65537^k mod M, plus a multiple of M to make it key-sized: the
		// shape of Infineon's primes, and so of their products.
		n := new(big.Int).Exp(big.NewInt(65537), big.NewInt(k), m)
		n.Add(n, new(big.Int).Lsh(m, 1800))
		if !hasROCAFingerprint(n) {
			t.Errorf("65537^%d + M*2^1800 is not flagged", k)
		}
		// Twice that is not a power of 65537 mod 11 (whose subgroup is {1, 10}).
		if hasROCAFingerprint(n.Lsh(n, 1)) {
			t.Errorf("2 * (65537^%d + M*2^1800) is flagged", k)
		}
	}
}

// Freshly generated keys are not flagged: Go's generator is not Infineon's.
func TestROCAGeneratedKeys(t *testing.T) {
	for i := 0; i < 8; i++ {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		if hasROCAFingerprint(k.N) {
			t.Fatalf("a generated key is flagged: %x", k.N)
		}
		if _, err := NewPrivateKey(k); err != nil {
			t.Fatal(err)
		}
	}
}

func TestROCAKeysRefused(t *testing.T) {
	priv := rocaPrivateKey(t)
	tests := []struct {
		name string
		make func() (*Key, error)
	}{
		{"public modulus", func() (*Key, error) { return NewPublicKey(&rsa.PublicKey{N: rocaModulus(t), E: 65537}) }},
		{"public key of the private key", func() (*Key, error) { return NewPublicKey(&priv.PublicKey) }},
		{"private key", func() (*Key, error) { return NewPrivateKey(priv) }},
		{"private key for PS256", func() (*Key, error) { return NewPrivateKey(priv, PS256) }},
	}
	for _, tt := range tests {
		k, err := tt.make()
		if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "ROCA") {
			t.Errorf("%s: key %v, error %v; want ErrInvalidKey naming ROCA", tt.name, k, err)
		}
	}
}

// BenchmarkROCACheck measures the check alone on a sound key (most moduli
// fail on one of the first primes) and on a fingerprinted one (every prime
// is tested); BenchmarkNewPublicKeyRSA is the whole constructor, to compare.
func BenchmarkROCACheck(b *testing.B) {
	for _, c := range []struct {
		name string
		n    *big.Int
	}{
		{"sound-2048", testKeys()["rsa"].(*rsa.PrivateKey).N},
		{"fingerprinted-2048", rocaModulus(b)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				hasROCAFingerprint(c.n)
			}
		})
	}
}

func BenchmarkNewPublicKeyRSA(b *testing.B) {
	pub := testKeys()["rsa"].Public()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPublicKey(pub); err != nil {
			b.Fatal(err)
		}
	}
}
