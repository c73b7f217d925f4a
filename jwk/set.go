package jwk

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"

	"github.com/jwtgate/jwtgate/jwt"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Set is an immutable set of keys, as in a JWK Set (RFC 7517 section 5). It
// implements jwt.KeySet and is safe for concurrent use.
//
// LookupKeys finds keys by the token's kid; a token without kid is checked
// against every key that allows its alg, in set order. A key without kid
// is also found by its RFC 7638 SHA-256 thumbprint (KeyID), which is the
// kid jwtgate gives such keys when it signs. Keys whose use, key_ops or alg
// forbid verifying signatures are part of the set (Keys, MarshalJSON) but
// never returned by LookupKeys. Lookups allocate nothing when they succeed.
//
// A token whose kid no key has finds no key (jwt.ErrKeyNotFound), with one
// exception: the set that Load returns for a lone key without kid (a PEM
// file, or a JWK that is not in a JWK Set), which is a single key, not a
// key set. Like a *jwt.Key without ID given to a verifier directly, it is
// the key for whatever kid a token names, since nothing says which kid its
// issuer gave it (see AnyKeyID). A JWK Set, even of one key, and the sets
// of NewSet, NewSetFromKeys and the remote sets look kids up exactly.
//
// A set holds either secret (oct) keys only or asymmetric keys only, and
// its explicit key IDs are unique.
type Set struct {
	keys      []*Key
	ids       []string // effective key IDs: kid, or the SHA-256 thumbprint
	ignored   int
	symmetric bool
	anyID     string // the ID of a lone key without kid, which any kid finds (Load)
	byID      map[string]idEntry
	byAlg     map[jwt.Algorithm][]*jwt.Key
}

type idEntry struct {
	keys []*jwt.Key // verification keys with this ID
	err  error      // why the key with this ID cannot verify, if keys is empty
}

// ParseSet parses a JWK Set: a JSON object of at most MaxSetSize bytes with
// a "keys" array of at most MaxSetKeys keys, parsed strictly (see the
// package documentation). Keys of an unknown kty, and well-formed keys
// this package does not support (ErrUnsupported: an X25519 or Ed448 key,
// an EC curve other than P-256/384/521, multi-prime RSA), are ignored, as
// RFC 7517 section 5 recommends, and counted by Ignored; every other key
// must be valid, or the whole set is refused (a malformed or weak key,
// such as RSA under 2048 bits, is a sign of a broken or hostile set). Other members of the set object are
// ignored. Errors wrap ErrInvalidSet (and the key's error) or ErrTooLarge.
func ParseSet(data []byte) (*Set, error) {
	return parseSet(data, false)
}

// ParsePublicSet is ParseSet for a set that must hold public keys only,
// such as one fetched from a jwks_uri: a private key or a secret (oct) key
// in it is an error. A secret published at a URL is no secret, and
// verifying with it would accept tokens anyone can forge.
func ParsePublicSet(data []byte) (*Set, error) {
	return parseSet(data, true)
}

func parseSet(data []byte, publicOnly bool) (*Set, error) {
	if len(data) > MaxSetSize {
		return nil, fmt.Errorf("%w: %w: JWK Set is %d bytes, the limit is %d", ErrInvalidSet, ErrTooLarge, len(data), MaxSetSize)
	}
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSet, err)
	}
	if v.Kind != strictjson.KindObject {
		return nil, fmt.Errorf("%w: a JWK Set is a JSON object, not a JSON %s", ErrInvalidSet, v.Kind)
	}
	return setFromObject(v.Obj, publicOnly)
}

func setFromObject(o strictjson.Object, publicOnly bool) (*Set, error) {
	kv := o.Get("keys")
	if kv == nil {
		return nil, fmt.Errorf("%w: missing required member \"keys\"", ErrInvalidSet)
	}
	if kv.Kind != strictjson.KindArray {
		return nil, fmt.Errorf("%w: \"keys\" is a JSON %s, not an array", ErrInvalidSet, kv.Kind)
	}
	if len(kv.Arr) > MaxSetKeys {
		return nil, fmt.Errorf("%w: %w: %d keys, the limit is %d", ErrInvalidSet, ErrTooLarge, len(kv.Arr), MaxSetKeys)
	}
	keys := make([]*Key, 0, len(kv.Arr))
	ignored := 0
	for i, e := range kv.Arr {
		if e.Kind != strictjson.KindObject {
			return nil, fmt.Errorf("%w: keys[%d] is a JSON %s, not an object", ErrInvalidSet, i, e.Kind)
		}
		kty, ok, err := getString(e.Obj, "kty")
		if err != nil {
			return nil, fmt.Errorf("%w: keys[%d]: %w", ErrInvalidSet, i, err)
		}
		if ok && !knownKeyType(kty) {
			ignored++
			continue
		}
		// Refuse private material before validating it, which costs more.
		if publicOnly && (kty == KeyTypeOct || e.Obj.Get("d") != nil) {
			return nil, fmt.Errorf("%w: keys[%d] is a private or secret key, and this set must hold public keys only", ErrInvalidSet, i)
		}
		k, err := keyFromObject(e.Obj)
		if errors.Is(err, ErrUnsupported) && e.Obj.Get("d") == nil {
			// Well formed, but of a kind this package does not verify
			// with (an X25519 key beside the signing keys, say): RFC 7517
			// section 5 says to ignore it, and a token naming it finds
			// no key. A private key the caller meant to use is an error.
			ignored++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: keys[%d]: %w", ErrInvalidSet, i, err)
		}
		if publicOnly && k.IsPrivate() {
			what := "a private key"
			if k.IsSymmetric() {
				what = "a secret (oct) key"
			}
			return nil, fmt.Errorf("%w: keys[%d] is %s, and this set must hold public keys only", ErrInvalidSet, i, what)
		}
		keys = append(keys, k)
	}
	s, err := newSet(keys)
	if err != nil {
		return nil, err
	}
	s.ignored = ignored
	return s, nil
}

// NewSet returns a set of jwtgate's own keys, for example its signing keys:
// LookupKeys gives their public halves (or the secrets of HMAC keys) and
// MarshalJSON publishes the public halves. A key without ID gets its
// SHA-256 thumbprint as ID (EnsureKeyID), so every key of the set has a
// kid; IDs must be unique. Keys are converted with NewKey.
func NewSet(keys ...*jwt.Key) (*Set, error) {
	jks := make([]*Key, 0, len(keys))
	for i, key := range keys {
		key, err := EnsureKeyID(key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", ErrInvalidSet, i, err)
		}
		k, err := NewKey(key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", ErrInvalidSet, i, err)
		}
		jks = append(jks, k)
	}
	return newSet(jks)
}

// NewSetFromKeys returns a set of JWKs, with the rules of ParseSet.
func NewSetFromKeys(keys ...*Key) (*Set, error) {
	for i, k := range keys {
		if k == nil || k.key == nil {
			return nil, fmt.Errorf("%w: key %d: %w: nil key", ErrInvalidSet, i, ErrInvalidKey)
		}
	}
	return newSet(slices.Clone(keys))
}

func newSet(keys []*Key) (*Set, error) {
	if len(keys) > MaxSetKeys {
		return nil, fmt.Errorf("%w: %w: %d keys, the limit is %d", ErrInvalidSet, ErrTooLarge, len(keys), MaxSetKeys)
	}
	s := &Set{
		keys:  keys,
		ids:   make([]string, len(keys)),
		byID:  make(map[string]idEntry, len(keys)),
		byAlg: make(map[jwt.Algorithm][]*jwt.Key),
	}
	explicit := make(map[string]int, len(keys))
	for i, k := range keys {
		if i == 0 {
			s.symmetric = k.IsSymmetric()
		} else if k.IsSymmetric() != s.symmetric {
			return nil, fmt.Errorf("%w: keys[%d]: a set cannot mix secret (oct) and asymmetric keys", ErrInvalidSet, i)
		}
		if k.kid != "" {
			if j, dup := explicit[k.kid]; dup {
				return nil, fmt.Errorf("%w: keys[%d] and keys[%d] have the same kid %q", ErrInvalidSet, j, i, k.kid)
			}
			explicit[k.kid] = i
		}
	}
	for i, k := range keys {
		id := k.kid
		if id == "" {
			t, err := k.ThumbprintBase64(crypto.SHA256)
			if err != nil {
				return nil, fmt.Errorf("%w: keys[%d]: %w", ErrInvalidSet, i, err)
			}
			id = t
		}
		s.ids[i] = id
		e := s.byID[id]
		vk, err := k.VerificationKey()
		if err != nil {
			if len(e.keys) == 0 {
				e.err = err
			}
			s.byID[id] = e
			continue
		}
		vk = vk.WithID(id)
		e.keys = append(e.keys, vk)
		e.err = nil
		s.byID[id] = e
		for _, a := range vk.Algorithms() {
			s.byAlg[a] = append(s.byAlg[a], vk)
		}
	}
	// Full slice expressions: a caller that appends to a looked-up slice
	// gets a copy instead of overwriting the set.
	for id, e := range s.byID {
		e.keys = slices.Clip(e.keys)
		s.byID[id] = e
	}
	for a, ks := range s.byAlg {
		s.byAlg[a] = slices.Clip(ks)
	}
	return s, nil
}

// maxIDInError is how much of an unknown kid an error message repeats.
const maxIDInError = 64

func quoteID(id string) string {
	if len(id) > maxIDInError {
		return fmt.Sprintf("%q...", id[:maxIDInError])
	}
	return fmt.Sprintf("%q", id)
}

// LookupKeys implements jwt.KeySet. With a kid in the header it returns the
// keys with that ID, and an error wrapping jwt.ErrKeyNotFound if there is
// none; without a kid it returns the keys that allow the header's alg, in
// set order. The returned slice belongs to the set and must not be
// modified.
func (s *Set) LookupKeys(_ context.Context, h *jwt.Header) ([]*jwt.Key, error) {
	if s == nil || h == nil {
		return nil, fmt.Errorf("%w: no key set or no header", jwt.ErrKeyNotFound)
	}
	if h.KeyID != "" {
		e, ok := s.byID[h.KeyID]
		if !ok && s.anyID != "" {
			e, ok = s.byID[s.anyID], true
		}
		if !ok {
			return nil, fmt.Errorf("%w: no key has kid %s", jwt.ErrKeyNotFound, quoteID(h.KeyID))
		}
		if len(e.keys) == 0 {
			// The token is at fault, not the key: only ErrKeyNotFound.
			return nil, fmt.Errorf("%w: key %s cannot verify signatures (%v)", jwt.ErrKeyNotFound, quoteID(h.KeyID), e.err)
		}
		return e.keys, nil
	}
	ks := s.byAlg[h.Alg]
	if len(ks) == 0 {
		return nil, fmt.Errorf("%w: the token has no kid and no key allows %q", jwt.ErrKeyNotFound, h.Alg)
	}
	return ks, nil
}

// AnyKeyID reports whether the set is a single key that any kid finds:
// what Load returns for a PEM file or a lone JWK without kid (see Set).
func (s *Set) AnyKeyID() bool { return s != nil && s.anyID != "" }

// Len returns the number of keys in the set (ignored keys not counted).
func (s *Set) Len() int { return len(s.keys) }

// Ignored returns the number of keys of unknown kty that ParseSet skipped.
func (s *Set) Ignored() int { return s.ignored }

// IsSymmetric reports whether the set holds secret (oct) keys. An empty set
// is not symmetric.
func (s *Set) IsSymmetric() bool { return s.symmetric }

// Keys returns the keys of the set, in order.
func (s *Set) Keys() []*Key { return slices.Clone(s.keys) }

// Key returns the key whose kid is id or, for a key without kid, whose
// SHA-256 thumbprint is id.
func (s *Set) Key(id string) (*Key, bool) {
	for i, k := range s.keys {
		if s.ids[i] == id {
			return k, true
		}
	}
	return nil, false
}

// SigningKey returns the *jwt.Key that signs with the set's key id (kid or
// thumbprint, see Key), with that ID. With id "" it returns the set's only
// key that can sign, and an error if there are none or several. Errors wrap
// ErrKeyUse or jwt.ErrKeyNotFound.
func (s *Set) SigningKey(id string) (*jwt.Key, error) {
	if id != "" {
		for i, k := range s.keys {
			if s.ids[i] != id {
				continue
			}
			sk, err := k.SigningKey()
			if err != nil {
				return nil, err
			}
			return sk.WithID(id), nil
		}
		return nil, fmt.Errorf("%w: no key has kid %s", jwt.ErrKeyNotFound, quoteID(id))
	}
	var found *jwt.Key
	n := 0
	for i, k := range s.keys {
		sk, err := k.SigningKey()
		if err != nil {
			continue
		}
		n++
		found = sk.WithID(s.ids[i])
	}
	switch n {
	case 0:
		return nil, fmt.Errorf("%w: %w: the set has no key that may sign", ErrKeyUse, jwt.ErrKeyNotFound)
	case 1:
		return found, nil
	}
	return nil, fmt.Errorf("%w: the set has %d keys that may sign; choose one by kid", ErrKeyUse, n)
}

// MarshalJSON implements json.Marshaler with the public JWK Set: the public
// half of every asymmetric key, in order, and never a private or secret
// member. Secret (oct) keys have no public half and are left out, so a set
// of secrets marshals as {"keys":[]}.
func (s *Set) MarshalJSON() ([]byte, error) {
	b := []byte(`{"keys":[`)
	first := true
	for _, k := range s.keys {
		if k.IsSymmetric() {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = k.Public().appendJSON(b, false)
	}
	return append(b, "]}"...), nil
}
