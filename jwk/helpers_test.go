package jwk

import (
	"bytes"
	"crypto"
	"slices"
	"testing"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// checkRoundTrip checks that a parsed key survives MarshalPrivate and, for
// asymmetric keys, MarshalJSON, with the same material, members and
// thumbprint.
func checkRoundTrip(t testing.TB, k *Key) {
	t.Helper()
	priv, err := k.MarshalPrivate()
	if err != nil {
		t.Fatalf("MarshalPrivate: %v", err)
	}
	k2, err := ParseKey(priv)
	if err != nil {
		t.Fatalf("parse of MarshalPrivate output %s: %v", priv, err)
	}
	if err := sameKey(k, k2); err != "" {
		t.Fatalf("private round trip: %s\n%s", err, priv)
	}
	again, err := k2.MarshalPrivate()
	if err != nil || !bytes.Equal(again, priv) {
		t.Fatalf("MarshalPrivate is not stable:\n%s\n%s", priv, again)
	}
	if k.IsSymmetric() {
		if _, err := k.MarshalJSON(); err == nil {
			t.Fatal("MarshalJSON of a secret key succeeded")
		}
		return
	}
	pub, err := k.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	if hasPrivateMember(t, pub) {
		t.Fatalf("MarshalJSON wrote a private member: %s", pub)
	}
	p2, err := ParseKey(pub)
	if err != nil {
		t.Fatalf("parse of MarshalJSON output %s: %v", pub, err)
	}
	if err := sameKey(k.Public(), p2); err != "" {
		t.Fatalf("public round trip: %s\n%s", err, pub)
	}
}

// sameKey compares two keys member by member; it returns what differs.
func sameKey(a, b *Key) string {
	switch {
	case a.kty != b.kty || a.crv != b.crv || a.kid != b.kid || a.alg != b.alg || a.use != b.use:
		return "kty, crv, kid, alg or use differ"
	case a.hasOps != b.hasOps || !slices.Equal(a.ops, b.ops):
		return "key_ops differ"
	case a.x5u != b.x5u || len(a.x5c) != len(b.x5c) || !bytes.Equal(a.x5t, b.x5t) || !bytes.Equal(a.x5tS256, b.x5tS256):
		return "x5* differ"
	case !slices.Equal(a.key.Algorithms(), b.key.Algorithms()):
		return "algorithms differ"
	case a.IsPrivate() != b.IsPrivate():
		return "privateness differs"
	case !bytes.Equal(a.Secret(), b.Secret()):
		return "secrets differ"
	}
	for i := range a.x5c {
		if !a.x5c[i].Equal(b.x5c[i]) {
			return "certificates differ"
		}
	}
	if a.kty != KeyTypeOct {
		if !a.PublicKey().(interface {
			Equal(crypto.PublicKey) bool
		}).Equal(b.PublicKey()) {
			return "public keys differ"
		}
		if a.IsPrivate() && !a.PrivateKey().(interface {
			Equal(crypto.PrivateKey) bool
		}).Equal(b.PrivateKey()) {
			return "private keys differ"
		}
	}
	ta, err1 := a.Thumbprint(0)
	tb, err2 := b.Thumbprint(0)
	if err1 != nil || err2 != nil || !bytes.Equal(ta, tb) {
		return "thumbprints differ"
	}
	return ""
}

// privateMembers are the names of private and secret JWK members.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// hasPrivateMember reports whether a JWK or JWK Set has a private member.
func hasPrivateMember(t testing.TB, data []byte) bool {
	t.Helper()
	v, err := strictjson.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	var walk func(v strictjson.Value) bool
	walk = func(v strictjson.Value) bool {
		for _, m := range v.Obj {
			if slices.Contains(privateMembers, m.Name) || walk(m.Val) {
				return true
			}
		}
		for _, e := range v.Arr {
			if walk(e) {
				return true
			}
		}
		return false
	}
	return walk(v)
}
