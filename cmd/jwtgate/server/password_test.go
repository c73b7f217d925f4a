package server

import (
	"errors"
	"strings"
	"testing"
)

// TestParseHash: a stored hash is read in the one form HashPassword
// writes; anything else is ErrBadHash, before any hashing.
func TestParseHash(t *testing.T) {
	const (
		salt = "c2FsdHNhbHRzYWx0"       // "saltsaltsalt"
		key  = "aGFzaGhhc2hoYXNoaGFzaA" // "hashhashhashhash"
	)
	for _, c := range []struct {
		name, hash string
		ok         bool
	}{
		{"as written", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key, true},
		{"least parameters", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + key, true},
		{"largest parameters", "$argon2id$v=19$m=1048576,t=16,p=16$" + salt + "$" + key, true},
		{"empty", "", false},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version 18", "$argon2id$v=18$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version with a tail", "$argon2id$v=19x$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version with a sign", "$argon2id$v=+19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version with a zero", "$argon2id$v=019$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"version with a space", "$argon2id$v= 19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"memory with a sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key, false},
		{"memory too large", "$argon2id$v=19$m=99999999,t=2,p=1$" + salt + "$" + key, false},
		{"memory beyond uint32", "$argon2id$v=19$m=4294967297,t=2,p=1$" + salt + "$" + key, false},
		{"threads beyond uint8", "$argon2id$v=19$m=19456,t=2,p=257$" + salt + "$" + key, false},
		{"no time", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key, false},
		{"parameters reordered", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key, false},
		{"salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$!!$" + key, false},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key, false},
		{"salt short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key, false},
		{"key short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$aGFzaA", false},
		{"salt with a line break", "$argon2id$v=19$m=19456,t=2,p=1$c2Fsd\r\nHNhbHRzYWx0$" + key, false},
		{"key not canonical", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$aGFzaGhhc2hoYXNoaGFzaB", false},
		{"key too long", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 176), false},
		{"a seventh part", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$", false},
	} {
		h, err := parseHash(c.hash)
		if !c.ok {
			if !errors.Is(err, ErrBadHash) {
				t.Errorf("%s: parseHash(%q) = %+v, %v; want ErrBadHash", c.name, c.hash, h, err)
			}
			if _, err := VerifyPassword(c.hash, "pw"); !errors.Is(err, ErrBadHash) {
				t.Errorf("%s: VerifyPassword: %v, want ErrBadHash", c.name, err)
			}
			continue
		}
		if err != nil || h.String() != c.hash {
			t.Errorf("%s: parseHash(%q) = %q, %v", c.name, c.hash, h, err)
		}
	}
}
