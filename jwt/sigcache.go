package jwt

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// sigCache remembers which key verified the signature of a token, by the
// SHA-256 digest of the whole token: a token seen again skips the
// public-key operation when that same key is still among the keys the
// verifier finds for it. It keeps at most max digests, in two
// generations: when the current one is half full it becomes the old one
// and the previous old one is dropped.
type sigCache struct {
	mu       sync.Mutex
	half     int
	cur, old map[[sha256.Size]byte]*Key
	hashes   sync.Pool // of *digester
}

// digester hashes tokens without allocating.
type digester struct {
	h   hash.Hash
	buf []byte
}

func newSigCache(entries int) *sigCache {
	half := max(1, entries/2)
	return &sigCache{
		half:   half,
		cur:    make(map[[sha256.Size]byte]*Key, half),
		hashes: sync.Pool{New: func() any { return &digester{h: sha256.New()} }},
	}
}

// digest returns the SHA-256 digest of token.
func (c *sigCache) digest(token string) (d [sha256.Size]byte) {
	g := c.hashes.Get().(*digester)
	g.buf = append(g.buf[:0], token...)
	g.h.Reset()
	g.h.Write(g.buf)
	g.buf = g.h.Sum(g.buf[:0])
	copy(d[:], g.buf)
	c.hashes.Put(g)
	return d
}

// get returns the key that verified the token of digest d, or nil.
func (c *sigCache) get(d [sha256.Size]byte) *Key {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.cur[d]; k != nil {
		return k
	}
	return c.old[d]
}

// put records that key verified the token of digest d.
func (c *sigCache) put(d [sha256.Size]byte, key *Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[[sha256.Size]byte]*Key, c.half)
	}
	c.cur[d] = key
}
