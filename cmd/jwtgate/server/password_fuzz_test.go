package server

import (
	"errors"
	"testing"
)

// FuzzStoredHash: a stored password hash is read only in the form
// HashPassword writes, with its parameters within the stored limits:
// what is read writes back as the same string. Anything else is
// ErrBadHash, from VerifyPassword too, before any hashing. (Hashes read
// are verified only when cheap: the limits allow 1 GiB.)
func FuzzStoredHash(f *testing.F) {
	h, err := HashPassword("pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		h,
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19x$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=08,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaB",
		"$argon2id$v=19$m=4294967296,t=1,p=256$$",
		"$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"", "$", "$$$$$", "$argon2id$v=19$m=8,t=1,p=1$$$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		h, err := parseHash(encoded)
		if err != nil {
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("parseHash(%q): %v, want ErrBadHash", encoded, err)
			}
			if _, err := VerifyPassword(encoded, "pw"); !errors.Is(err, ErrBadHash) {
				t.Fatalf("VerifyPassword(%q): %v, want ErrBadHash", encoded, err)
			}
			return
		}
		if h.String() != encoded {
			t.Fatalf("parseHash(%q) read %+v, which writes as %q", encoded, h, h.String())
		}
		if h.memory < 8 || h.memory > maxStoredMemory || h.time < 1 || h.time > maxStoredTime || h.threads < 1 ||
			h.threads > maxStoredThreads || len(h.salt) < 8 || len(h.key) < 16 || len(h.key) > maxStoredKeyLen {
			t.Fatalf("parseHash(%q) read parameters out of the limits: %+v", encoded, h)
		}
		if h.memory <= 64 && h.time <= 2 {
			if _, err := VerifyPassword(encoded, "pw"); err != nil {
				t.Fatalf("VerifyPassword(%q): %v", encoded, err)
			}
		}
	})
}
