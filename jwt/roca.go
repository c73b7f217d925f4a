package jwt

import (
	"math/big"
	"math/bits"
)

// The ROCA fingerprint (CVE-2017-15361, "Return of Coppersmith's Attack",
// Nemec et al., ACM CCS 2017). Infineon's RSA library made primes of the
// form k*M + (65537^a mod M), where M is a primorial; such moduli can be
// factored. Their primes, and so their moduli, are powers of 65537 modulo
// every small prime p dividing M: N mod p lies in the subgroup of the
// multiplicative group mod p that 65537 generates. A modulus that does so
// for all the primes below is taken to be one of those keys: this is the
// moduli test of the authors' detector, which Wycheproof applies too. A
// well-made random modulus passes it with a probability of about 2^-28
// (the product over the primes of the subgroup's size over p-1): one key
// in some 240 million is refused though sound, and can be replaced.
//
// rocaPrimes is the detector's prime list: RocaFingerprinter.primes in
// roca/detect.py of github.com/crocs-muni/roca (also BrokenKey.prims in its
// java/BrokenKey.java). The detector stores, for each prime, the residues of
// the subgroup as a bit mask (its "prints"); newROCATable computes them
// from their definition, and a test checks them against the published ones.
var rocaPrimes = [...]uint64{
	3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
	73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
	157, 163, 167,
}

// rocaTable is computed once and never changed.
type rocaTable struct {
	masks [len(rocaPrimes)][3]uint64 // bit r set: r is a power of 65537 mod the prime
	// groups split rocaPrimes into runs whose product fits in 64 bits, so
	// that n is reduced once per run, word by word, without allocating.
	groups []rocaGroup
}

type rocaGroup struct {
	product    uint64
	start, end int // rocaPrimes[start:end]
}

var rocaFingerprint = newROCATable()

func newROCATable() *rocaTable {
	t := &rocaTable{}
	for i, p := range rocaPrimes {
		g := 65537 % p
		// The powers of g mod p, from g^0 = 1 until they come back to 1.
		for r := uint64(1); ; {
			t.masks[i][r/64] |= 1 << (r % 64)
			if r = r * g % p; r == 1 {
				break
			}
		}
		if n := len(t.groups); n > 0 {
			if hi, lo := bits.Mul64(t.groups[n-1].product, p); hi == 0 {
				t.groups[n-1].product, t.groups[n-1].end = lo, i+1
				continue
			}
		}
		t.groups = append(t.groups, rocaGroup{product: p, start: i, end: i + 1})
	}
	return t
}

// hasROCAFingerprint reports whether the RSA modulus n has the ROCA
// fingerprint. It reads n's words once per group of primes (four groups),
// and most moduli fail on a prime of the first group; it allocates nothing.
func hasROCAFingerprint(n *big.Int) bool {
	if n == nil || n.Sign() <= 0 {
		return false
	}
	words := n.Bits()
	for _, g := range rocaFingerprint.groups {
		var r uint64 // n mod g.product
		for j := len(words) - 1; j >= 0; j-- {
			if bits.UintSize == 64 {
				r = bits.Rem64(r, uint64(words[j]), g.product)
			} else {
				r = bits.Rem64(r>>32, r<<32|uint64(words[j]), g.product)
			}
		}
		for i := g.start; i < g.end; i++ {
			res := r % rocaPrimes[i]
			if rocaFingerprint.masks[i][res/64]&(1<<(res%64)) == 0 {
				return false
			}
		}
	}
	return true
}
