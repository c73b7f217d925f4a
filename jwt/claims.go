package jwt

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Claims holds the registered claims of RFC 7519 section 4.1. A verified
// Token carries them already parsed; embed Claims in your own struct to sign
// or decode custom claims beside them. An absent date is nil.
type Claims struct {
	Issuer    string       `json:"iss,omitempty"`
	Subject   string       `json:"sub,omitempty"`
	Audience  Audience     `json:"aud,omitempty"`
	ExpiresAt *NumericDate `json:"exp,omitempty"`
	NotBefore *NumericDate `json:"nbf,omitempty"`
	IssuedAt  *NumericDate `json:"iat,omitempty"`
	ID        string       `json:"jti,omitempty"`
}

// Audience is the aud claim: one string or an array of strings on the wire.
// A single audience is marshalled as a plain string.
type Audience []string

// Contains reports whether the audience includes s.
func (a Audience) Contains(s string) bool {
	for _, x := range a {
		if x == s {
			return true
		}
	}
	return false
}

// MarshalJSON implements json.Marshaler.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return strictjson.AppendString(nil, a[0]), nil
	}
	b := []byte{'['}
	for i, s := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = strictjson.AppendString(b, s)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler. It accepts a string or an
// array of strings and nothing else.
func (a *Audience) UnmarshalJSON(b []byte) error {
	aud, err := parseAudience(string(b))
	if err != nil {
		return err
	}
	*a = aud
	return nil
}

var errAudType = errors.New("aud must be a string or an array of strings")

func parseAudience(raw string) (Audience, error) {
	kind, v, err := strictjson.Single(raw)
	if err != nil {
		return nil, err
	}
	switch kind {
	case strictjson.KindString:
		return Audience{strictjson.StringValue(v)}, nil
	case strictjson.KindArray:
		aud, err := strictjson.StringArray(v)
		if err != nil {
			return nil, errAudType
		}
		return aud, nil
	}
	return nil, errAudType
}

// NumericDate is a JSON numeric date (RFC 7519 section 2): seconds since the
// Unix epoch as a JSON number, possibly with a fraction, which is kept to the
// nanosecond.
//
// Parsing is strict: strings, null, booleans, negative numbers and values
// beyond what time.Time can hold are errors, not zero.
type NumericDate struct {
	time.Time
}

// NewNumericDate returns t as a NumericDate.
func NewNumericDate(t time.Time) *NumericDate { return &NumericDate{t} }

// maxUnixSeconds is the largest Unix time that time.Time represents.
const maxUnixSeconds = 1<<63 - 1 - 62135596800

// MarshalJSON implements json.Marshaler: whole seconds as an integer, a
// fraction only when there is one.
func (d NumericDate) MarshalJSON() ([]byte, error) {
	return d.appendJSON(nil)
}

func (d NumericDate) appendJSON(b []byte) ([]byte, error) {
	sec, nsec := d.Unix(), d.Nanosecond()
	if sec < 0 {
		return nil, fmt.Errorf("jwt: numeric date %v is before 1970", d.Time)
	}
	b = strconv.AppendInt(b, sec, 10)
	if nsec != 0 {
		var frac [10]byte
		f := strconv.AppendInt(frac[:0], int64(1e9+nsec), 10)[1:]
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		b = append(b, '.')
		b = append(b, f...)
	}
	return b, nil
}

// UnmarshalJSON implements json.Unmarshaler with the strict rules above.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	kind, v, err := strictjson.Single(string(b))
	if err != nil {
		return err
	}
	if kind != strictjson.KindNumber {
		return fmt.Errorf("numeric date is a JSON %s, not a number", kind)
	}
	t, err := parseNumericDate(v)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// parseNumericDate converts a JSON number token (already validated by the
// scanner) to a time, exactly: the decimal digits are read as they are, never
// through a float.
func parseNumericDate(raw string) (time.Time, error) {
	// Fast path: a plain integer of up to 18 digits cannot overflow.
	if len(raw) <= 18 {
		var sec int64
		i := 0
		for ; i < len(raw) && isDigit(raw[i]); i++ {
			sec = sec*10 + int64(raw[i]-'0')
		}
		if i == len(raw) {
			return time.Unix(sec, 0).UTC(), nil
		}
	}
	if raw[0] == '-' {
		return time.Time{}, fmt.Errorf("numeric date %s is negative", raw)
	}
	i := 0
	for i < len(raw) && isDigit(raw[i]) {
		i++
	}
	intPart := raw[:i]
	frac := ""
	if i < len(raw) && raw[i] == '.' {
		j := i + 1
		for j < len(raw) && isDigit(raw[j]) {
			j++
		}
		frac = raw[i+1 : j]
		i = j
	}
	exp := 0
	if i < len(raw) { // 'e' or 'E'
		i++
		neg := false
		if raw[i] == '+' || raw[i] == '-' {
			neg = raw[i] == '-'
			i++
		}
		for ; i < len(raw); i++ {
			if exp < 100000 {
				exp = exp*10 + int(raw[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	total := len(intPart) + len(frac)
	digit := func(k int) int64 {
		switch {
		case k < 0 || k >= total:
			return 0
		case k < len(intPart):
			return int64(intPart[k] - '0')
		default:
			return int64(frac[k-len(intPart)] - '0')
		}
	}
	point := len(intPart) + exp
	var sec int64
	// Digits before the point; past 19 of them only zeros can still fit.
	for k := 0; k < point; k++ {
		dg := digit(k)
		if k >= total && sec == 0 {
			break // trailing zeros of a zero value
		}
		if sec > (maxUnixSeconds-dg)/10 {
			return time.Time{}, fmt.Errorf("numeric date %s is too large", raw)
		}
		sec = sec*10 + dg
	}
	var nsec int64
	for k := point; k < point+9; k++ {
		nsec = nsec*10 + digit(k)
	}
	return time.Unix(sec, nsec).UTC(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
