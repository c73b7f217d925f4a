package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: the OWASP Password Storage Cheat Sheet's first
// recommendation (m=19 MiB, t=2, p=1), a 16-byte salt and a 32-byte key.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Input limits, checked before any hashing.
const (
	maxUsernameLen = 256  // bytes
	MaxPasswordLen = 1024 // bytes
)

// Limits on parameters accepted from a stored hash, so that a tampered
// database cannot make one verification take unbounded memory or time.
const (
	maxStoredMemory  = 1 << 20 // KiB (1 GiB)
	maxStoredTime    = 16
	maxStoredThreads = 16
	maxStoredKeyLen  = 128
)

// ErrBadHash is returned for a stored hash that is not a PHC argon2id
// string this package can verify.
var ErrBadHash = errors.New("server: malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return argonHash{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt, key: key}.String(), nil
}

// VerifyPassword reports whether password matches the PHC argon2id string
// encoded. The comparison of the derived keys is constant time.
func VerifyPassword(encoded, password string) (bool, error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// argonHash is a stored argon2id hash, parsed.
type argonHash struct {
	memory, time uint32 // KiB, passes
	threads      uint8
	salt, key    []byte
}

// String returns the PHC string of h.
func (h argonHash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parseHash reads a PHC argon2id string in the one form HashPassword
// writes (decimal numbers without sign or leading zeros, unpadded
// canonical base64 without line breaks), with parameters within the
// stored limits: the error is ErrBadHash otherwise.
func parseHash(encoded string) (argonHash, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return argonHash{}, ErrBadHash
	}
	var h argonHash
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", h.memory, h.time, h.threads) != parts[3] {
		return argonHash{}, ErrBadHash
	}
	if h.memory < 8 || h.memory > maxStoredMemory || h.time < 1 || h.time > maxStoredTime || h.threads < 1 || h.threads > maxStoredThreads {
		return argonHash{}, ErrBadHash
	}
	var ok bool
	if h.salt, ok = canonicalBase64(parts[4]); !ok || len(h.salt) < 8 {
		return argonHash{}, ErrBadHash
	}
	if h.key, ok = canonicalBase64(parts[5]); !ok || len(h.key) < 16 || len(h.key) > maxStoredKeyLen {
		return argonHash{}, ErrBadHash
	}
	return h, nil
}

// canonicalBase64 decodes s, unpadded standard base64 as HashPassword
// writes it: false for anything else, such as line breaks (which the
// decoder skips) or trailing bits that are not zero.
func canonicalBase64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	return b, err == nil && b64.EncodeToString(b) == s
}

// dummyHash is a hash of a random password, verified when a user does
// not exist so that the answer takes as long as for a wrong password.
type dummyHash struct {
	once sync.Once
	hash string
	err  error
}

func (d *dummyHash) get() (string, error) {
	d.once.Do(func() { d.hash, d.err = HashPassword(rand.Text()) })
	return d.hash, d.err
}

// RandomPassword returns a random password of 26 base32 characters
// (130 bits).
func RandomPassword() string { return rand.Text() }
