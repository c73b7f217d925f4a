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
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC argon2id string
// encoded. The comparison of the derived keys is constant time.
func VerifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var m, t uint32
	var p uint8
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[3] {
		return false, ErrBadHash
	}
	if m < 8 || m > maxStoredMemory || t < 1 || t > maxStoredTime || p < 1 || p > maxStoredThreads {
		return false, ErrBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, ErrBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > maxStoredKeyLen {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
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
