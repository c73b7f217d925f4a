package jwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// SignerOptions configures a Signer.
type SignerOptions struct {
	// Type is the typ header; "" means "JWT". Set OmitType to leave it out.
	Type     string
	OmitType bool

	// Header holds extra header members. It may not set alg, crit or b64,
	// nor kid when the key has an ID.
	Header map[string]any
}

// Signer signs tokens with one key and algorithm. It is safe for
// concurrent use.
type Signer struct {
	key    *Key
	alg    Algorithm
	info   algInfo
	prefix []byte // base64url(header) + "."
	sigLen int    // length of the base64url signature
}

// NewSigner returns a Signer for key and alg. The zero SignerOptions give
// the default header ({"alg":...,"kid":...,"typ":"JWT"}); opts changes
// typ or adds members.
func NewSigner(key *Key, alg Algorithm, opts SignerOptions) (*Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if isNone(string(alg)) {
		return nil, fmt.Errorf("%w: %q is never allowed", ErrAlgorithm, alg)
	}
	if !alg.Known() {
		return nil, fmt.Errorf("%w: unknown algorithm %q", ErrAlgorithm, alg)
	}
	if !key.Allows(alg) {
		return nil, fmt.Errorf("%w: key does not allow %s (it allows %v)", ErrInvalidKey, alg, key.algs)
	}
	if !key.CanSign() {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, errNoPrivate)
	}
	hdr := []byte(`{"alg":`)
	hdr = strictjson.AppendString(hdr, string(alg))
	if key.id != "" {
		hdr = append(hdr, `,"kid":`...)
		hdr = strictjson.AppendString(hdr, key.id)
	}
	typ := opts.Type
	if typ == "" {
		typ = "JWT"
	}
	if _, ok := opts.Header["typ"]; ok || opts.OmitType {
		typ = ""
	}
	if typ != "" {
		hdr = append(hdr, `,"typ":`...)
		hdr = strictjson.AppendString(hdr, typ)
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Header)) {
		switch name {
		case "alg", "crit", "b64":
			return nil, fmt.Errorf("%w: header member %q cannot be set", ErrInvalidOption, name)
		case "kid":
			if key.id != "" {
				return nil, fmt.Errorf("%w: header kid set and the key has ID %q", ErrInvalidOption, key.id)
			}
		}
		val, err := json.Marshal(opts.Header[name])
		if err != nil {
			return nil, fmt.Errorf("%w: header member %q: %w", ErrInvalidOption, name, err)
		}
		hdr = append(hdr, ',')
		hdr = strictjson.AppendString(hdr, name)
		hdr = append(hdr, ':')
		hdr = append(hdr, val...)
	}
	hdr = append(hdr, '}')
	if _, err := parseHeader(string(hdr), nil); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrInvalidOption, err)
	}
	s := &Signer{key: key, alg: alg, info: alg.info()}
	s.prefix = append(b64url.AppendEncode(nil, hdr), '.')
	switch s.info.fam {
	case famHMAC:
		s.sigLen = b64url.EncodedLen(s.info.hash.Size())
	case famRSA, famPSS:
		s.sigLen = b64url.EncodedLen(key.pub.(interface{ Size() int }).Size())
	case famECDSA:
		s.sigLen = b64url.EncodedLen(2 * key.ecSize)
	case famEdDSA:
		s.sigLen = b64url.EncodedLen(64)
	}
	return s, nil
}

// Algorithm returns the signer's algorithm.
func (s *Signer) Algorithm() Algorithm { return s.alg }

// Key returns the signer's key.
func (s *Signer) Key() *Key { return s.key }

// Sign returns a signed token for claims: a Claims or *Claims (encoded
// without reflection), []byte or json.RawMessage holding a JSON object, or
// any value encoding/json turns into an object. The payload is checked with
// the same strict rules as verification, so a Signer never produces a token
// that a Verifier would refuse as malformed.
func (s *Signer) Sign(claims any) (string, error) {
	var payload []byte
	var err error
	switch c := claims.(type) {
	case Claims:
		payload, err = c.appendJSON(make([]byte, 0, 256))
	case *Claims:
		if c == nil {
			return "", errors.New("jwt: nil claims")
		}
		payload, err = c.appendJSON(make([]byte, 0, 256))
	case json.RawMessage:
		payload = c
	case []byte:
		payload = c
	default:
		payload, err = json.Marshal(claims)
	}
	if err != nil {
		return "", fmt.Errorf("jwt: encoding claims: %w", err)
	}
	var c Claims
	var dates [3]NumericDate
	var has registered
	err = strictjson.ScanObject(string(payload), func(name string, kind strictjson.Kind, raw string) error {
		return setClaim(&c, &dates, &has, name, kind, raw)
	})
	if err != nil {
		return "", fmt.Errorf("jwt: claims are not a valid claims set: %w", err)
	}
	return s.SignPayload(payload)
}

// SignPayload signs payload as it is, without looking at it: the payload of
// a JWS may be any bytes.
func (s *Signer) SignPayload(payload []byte) (string, error) {
	buf := make([]byte, 0, len(s.prefix)+b64url.EncodedLen(len(payload))+1+s.sigLen)
	buf = append(buf, s.prefix...)
	buf = b64url.AppendEncode(buf, payload)
	input := buf
	buf = append(buf, '.')
	var err error
	if s.info.fam == famHMAC {
		buf, err = s.key.signHMAC(buf, s.info, input)
	} else {
		buf, err = s.key.signAsym(buf, s.info, input)
	}
	if err != nil {
		return "", err
	}
	return string(buf), nil
}

// appendJSON encodes the registered claims in a fixed order.
func (c *Claims) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	first := true
	sep := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	if c.Issuer != "" {
		sep("iss")
		b = strictjson.AppendString(b, c.Issuer)
	}
	if c.Subject != "" {
		sep("sub")
		b = strictjson.AppendString(b, c.Subject)
	}
	if len(c.Audience) > 0 {
		sep("aud")
		aud, _ := c.Audience.MarshalJSON()
		b = append(b, aud...)
	}
	var err error
	for _, d := range []struct {
		name string
		v    *NumericDate
	}{{"exp", c.ExpiresAt}, {"nbf", c.NotBefore}, {"iat", c.IssuedAt}} {
		if d.v == nil {
			continue
		}
		sep(d.name)
		if b, err = d.v.appendJSON(b); err != nil {
			return nil, err
		}
	}
	if c.ID != "" {
		sep("jti")
		b = strictjson.AppendString(b, c.ID)
	}
	return append(b, '}'), nil
}
