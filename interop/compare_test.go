package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// decodeObject decodes a JSON object keeping numbers as json.Number, the way
// jwtgate's Token.Decode does.
func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	if m == nil {
		t.Fatalf("decoding %s: not an object", b)
	}
	return m
}

// numberRat returns the exact value of a JSON number (json.Number or
// float64), or nil if v is not a number.
func numberRat(v any) *big.Rat {
	switch n := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return nil
		}
		return r
	case float64:
		return new(big.Rat).SetFloat64(n)
	}
	return nil
}

// numberFloat returns a JSON number rounded to the nearest float64, as an
// implementation whose numbers are doubles (JavaScript, encoding/json into
// any) holds it.
func numberFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// diffMeaning compares two decoded JSON values by meaning and returns the
// differences. Numbers are compared by exact value, or as float64 when
// floats is set (one side held them as doubles); a top-level "aud" string
// equals the one-element array holding it (RFC 7519 section 4.1.3).
func diffMeaning(got, want map[string]any, floats bool) []string {
	var diffs []string
	var walk func(path string, g, w any)
	walk = func(path string, g, w any) {
		if path == "aud" {
			g, w = audArray(g), audArray(w)
		}
		switch wv := w.(type) {
		case map[string]any:
			gv, ok := g.(map[string]any)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: got %#v, want an object", path, g))
				return
			}
			for _, name := range unionKeys(gv, wv) {
				p := name
				if path != "" {
					p = path + "." + name
				}
				gm, gok := gv[name]
				wm, wok := wv[name]
				switch {
				case !gok:
					diffs = append(diffs, fmt.Sprintf("%s: missing, want %#v", p, wm))
				case !wok:
					diffs = append(diffs, fmt.Sprintf("%s: got %#v, want nothing", p, gm))
				default:
					walk(p, gm, wm)
				}
			}
		case []any:
			gv, ok := g.([]any)
			if !ok || len(gv) != len(wv) {
				diffs = append(diffs, fmt.Sprintf("%s: got %#v, want %#v", path, g, w))
				return
			}
			for i := range wv {
				walk(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i])
			}
		case json.Number, float64:
			if floats {
				gf, gok := numberFloat(g)
				wf, _ := numberFloat(w)
				if !gok || gf != wf {
					diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v (as float64)", path, g, w))
				}
				return
			}
			gr, wr := numberRat(g), numberRat(w)
			if gr == nil || wr == nil || gr.Cmp(wr) != 0 {
				diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", path, g, w))
			}
		default:
			if !reflect.DeepEqual(g, w) {
				diffs = append(diffs, fmt.Sprintf("%s: got %#v, want %#v", path, g, w))
			}
		}
	}
	walk("", got, want)
	return diffs
}

func audArray(v any) any {
	if s, ok := v.(string); ok {
		return []any{s}
	}
	return v
}

func unionKeys(a, b map[string]any) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// numericTime converts a JSON number of seconds to the time it names,
// exactly (to the nanosecond), as RFC 7519's NumericDate.
func numericTime(t *testing.T, v any) time.Time {
	t.Helper()
	r := numberRat(v)
	if r == nil || r.Sign() < 0 {
		t.Fatalf("numeric date %#v is not a non-negative number", v)
	}
	sec := new(big.Int).Quo(r.Num(), r.Denom())
	frac := new(big.Rat).Sub(r, new(big.Rat).SetInt(sec))
	frac.Mul(frac, big.NewRat(1e9, 1))
	nsec := new(big.Int).Quo(frac.Num(), frac.Denom())
	return time.Unix(sec.Int64(), nsec.Int64())
}

// registeredClaims derives the registered claims jwtgate must parse from a
// claims set decoded by decodeObject.
func registeredClaims(t *testing.T, m map[string]any) jwt.Claims {
	t.Helper()
	var c jwt.Claims
	str := func(name string) string {
		s, _ := m[name].(string)
		return s
	}
	date := func(name string) *jwt.NumericDate {
		if v, ok := m[name]; ok {
			return jwt.NewNumericDate(numericTime(t, v))
		}
		return nil
	}
	c.Issuer, c.Subject, c.ID = str("iss"), str("sub"), str("jti")
	switch aud := m["aud"].(type) {
	case string:
		c.Audience = jwt.Audience{aud}
	case []any:
		c.Audience = jwt.Audience{}
		for _, a := range aud {
			s, _ := a.(string)
			c.Audience = append(c.Audience, s)
		}
	}
	c.ExpiresAt, c.NotBefore, c.IssuedAt = date("exp"), date("nbf"), date("iat")
	return c
}

// diffClaims compares registered claims by meaning.
func diffClaims(got, want jwt.Claims) []string {
	var diffs []string
	str := func(name, g, w string) {
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: got %q, want %q", name, g, w))
		}
	}
	date := func(name string, g, w *jwt.NumericDate) {
		if (g == nil) != (w == nil) || (g != nil && !g.Equal(w.Time)) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", name, dateString(g), dateString(w)))
		}
	}
	str("iss", got.Issuer, want.Issuer)
	str("sub", got.Subject, want.Subject)
	str("jti", got.ID, want.ID)
	if !slices.Equal(got.Audience, want.Audience) {
		diffs = append(diffs, fmt.Sprintf("aud: got %q, want %q", []string(got.Audience), []string(want.Audience)))
	}
	date("exp", got.ExpiresAt, want.ExpiresAt)
	date("nbf", got.NotBefore, want.NotBefore)
	date("iat", got.IssuedAt, want.IssuedAt)
	return diffs
}

func dateString(d *jwt.NumericDate) string {
	if d == nil {
		return "absent"
	}
	return d.UTC().Format(time.RFC3339Nano)
}

// tamperPayload returns token with its claims changed (sub becomes
// "mallory") and the header and signature kept.
func tamperPayload(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3: %q", len(parts), token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	m := decodeObject(t, b)
	m["sub"] = "mallory"
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestDiffMeaning(t *testing.T) {
	obj := func(s string) map[string]any { return decodeObject(t, []byte(s)) }
	tests := []struct {
		name      string
		got, want string
		floats    bool
		same      bool
	}{
		{"equal", `{"a":1,"b":["x"],"c":{"d":true}}`, `{"a":1,"b":["x"],"c":{"d":true}}`, false, true},
		{"number spelling", `{"a":1.0,"b":1e2}`, `{"a":1,"b":100}`, false, true},
		{"big integers differ", `{"a":9007199254740992}`, `{"a":9007199254740993}`, false, false},
		{"big integers as floats", `{"a":9007199254740992}`, `{"a":9007199254740993}`, true, true},
		{"aud string and array", `{"aud":["api"]}`, `{"aud":"api"}`, false, true},
		{"aud differs", `{"aud":["api","web"]}`, `{"aud":"api"}`, false, false},
		{"missing member", `{"a":1}`, `{"a":1,"b":2}`, false, false},
		{"extra member", `{"a":1,"b":2}`, `{"a":1}`, false, false},
		{"type differs", `{"a":"1"}`, `{"a":1}`, false, false},
		{"nested differs", `{"a":{"b":[1,2]}}`, `{"a":{"b":[1,3]}}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs := diffMeaning(obj(tt.got), obj(tt.want), tt.floats)
			if same := len(diffs) == 0; same != tt.same {
				t.Errorf("same = %v, want %v (diffs %q)", same, tt.same, diffs)
			}
		})
	}
}

func TestNumericTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1767227400", time.Unix(1767227400, 0)},
		{"1767227400.5", time.Unix(1767227400, 5e8)},
		{"1767227400.000000001", time.Unix(1767227400, 1)},
		{"1.7672274e9", time.Unix(1767227400, 0)},
	}
	for _, tt := range tests {
		if got := numericTime(t, json.Number(tt.in)); !got.Equal(tt.want) {
			t.Errorf("numericTime(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
