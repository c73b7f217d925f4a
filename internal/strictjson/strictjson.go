// Package strictjson scans and decodes JSON strictly, for JOSE headers,
// claims sets and JWKs. It accepts exactly RFC 8259 JSON with the I-JSON
// restrictions of RFC 7493 that matter for security: valid UTF-8 only, no
// lone surrogates in escapes, no duplicate member names in any object
// (compared after unescaping), and at most [MaxDepth] levels of nesting.
//
// [ScanObject] validates an object and hands each top-level member to a
// function as raw text without building a tree, so the jwt package's hot
// path allocates nothing for it; [Parse] builds a tree for the small
// documents (JWKs, JWK Sets, discovery documents) that need one. Every
// syntax error wraps [ErrSyntax].
package strictjson

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// MaxDepth is the deepest nesting of objects and arrays accepted.
const MaxDepth = 32

// ErrSyntax is wrapped by every error of the package: its message is
// "invalid JSON at offset N: " and the detail.
var ErrSyntax = errors.New("invalid JSON")

// Kind is the JSON type of a value.
type Kind uint8

// The kinds of JSON values. The zero Kind is no value.
const (
	KindString Kind = iota + 1
	KindNumber
	KindObject
	KindArray
	KindTrue
	KindFalse
	KindNull
)

// String names the kind as JSON does: "string", "number", "object",
// "array", "boolean" or "null".
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindObject:
		return "object"
	case KindArray:
		return "array"
	case KindTrue, KindFalse:
		return "boolean"
	case KindNull:
		return "null"
	}
	return "value"
}

type scanner struct {
	s     string
	pos   int
	depth int
}

// errorf returns a syntax error at the scanner's position. The message is
// formatted only when it is read, so refusing bad input costs little.
func (sc *scanner) errorf(format string, args ...any) error {
	e := &jsonError{off: sc.pos, format: format}
	if len(args) > 0 {
		e.arg = args[0]
	}
	return e
}

// jsonError is a JSON syntax error: it wraps ErrSyntax.
type jsonError struct {
	off    int
	format string
	arg    any // the format's one argument, if it has one
}

func (e *jsonError) Error() string {
	msg := e.format
	if e.arg != nil {
		msg = fmt.Sprintf(e.format, e.arg)
	}
	return fmt.Sprintf("%s at offset %d: %s", ErrSyntax, e.off, msg)
}

func (e *jsonError) Unwrap() error { return ErrSyntax }

func (sc *scanner) skipWS() {
	for sc.pos < len(sc.s) && sc.s[sc.pos] <= ' ' {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// MemberFunc is called for each member of the top-level object with the
// member name (unescaped), the kind of its value and the raw value text. An
// error it returns stops the scan and is returned as it is.
type MemberFunc func(name string, kind Kind, raw string) error

// ScanObject scans a complete JSON text that must be one object, calling f
// (if not nil) for each top-level member once its value has been scanned.
// Duplicate names are refused before f sees the second one.
func ScanObject(s string, f MemberFunc) error {
	sc := scanner{s: s}
	sc.skipWS()
	if sc.pos >= len(s) || s[sc.pos] != '{' {
		return sc.errorf("not a JSON object")
	}
	if err := sc.object(f); err != nil {
		return err
	}
	sc.skipWS()
	if sc.pos != len(s) {
		return sc.errorf("data after the top-level object")
	}
	return nil
}

// Single scans a text that must be exactly one JSON value (with optional
// surrounding white space) and returns its kind and raw text.
func Single(s string) (Kind, string, error) {
	sc := scanner{s: s}
	return sc.single()
}

func (sc *scanner) single() (Kind, string, error) {
	sc.skipWS()
	start := sc.pos
	kind, err := sc.value()
	if err != nil {
		return 0, "", err
	}
	end := sc.pos
	sc.skipWS()
	if sc.pos != len(sc.s) {
		return 0, "", sc.errorf("data after the value")
	}
	return kind, sc.s[start:end], nil
}

// smallNames is how many member names an object may have before duplicate
// detection switches from a linear scan to a map.
const smallNames = 24

// object scans an object starting at '{'.
func (sc *scanner) object(f MemberFunc) error {
	sc.depth++
	if sc.depth > MaxDepth {
		return sc.errorf("nesting deeper than %d", MaxDepth)
	}
	sc.pos++ // '{'
	var small [smallNames]string
	var fps [smallNames]uint64
	var names []string
	var big map[string]struct{}
	n := 0
	sc.skipWS()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
		sc.pos++
		sc.depth--
		return nil
	}
	for {
		sc.skipWS()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
			return sc.errorf("expected a member name")
		}
		start := sc.pos
		esc, err := sc.str()
		if err != nil {
			return err
		}
		name := sc.s[start+1 : sc.pos-1]
		if esc {
			name = Unescape(name)
		}
		// Duplicate member names are refused: parsers disagree on which one
		// wins, and that disagreement is an attack.
		if big == nil && n < smallNames {
			if names == nil {
				names = small[:0]
			}
			fp := fingerprint(name)
			for i, prev := range names {
				if fps[i] == fp && prev == name {
					return sc.errorf("duplicate member %q", name)
				}
			}
			fps[n] = fp
			names = append(names, name)
		} else {
			if big == nil {
				big = make(map[string]struct{}, 2*smallNames)
				for _, prev := range names {
					big[prev] = struct{}{}
				}
			}
			if _, dup := big[name]; dup {
				return sc.errorf("duplicate member %q", name)
			}
			big[name] = struct{}{}
		}
		n++
		sc.skipWS()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
			return sc.errorf("expected ':' after member name")
		}
		sc.pos++
		sc.skipWS()
		vstart := sc.pos
		kind, err := sc.value()
		if err != nil {
			return err
		}
		if f != nil {
			if err := f(name, kind, sc.s[vstart:sc.pos]); err != nil {
				return err
			}
		}
		sc.skipWS()
		if sc.pos >= len(sc.s) {
			return sc.errorf("unterminated object")
		}
		switch sc.s[sc.pos] {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			sc.depth--
			return nil
		default:
			return sc.errorf("expected ',' or '}' in object")
		}
	}
}

// fingerprint packs a name's length and first and last bytes into an
// integer, so that most distinct names are told apart without a string
// comparison.
func fingerprint(s string) uint64 {
	if len(s) == 0 {
		return 0
	}
	return uint64(len(s)) | uint64(s[0])<<32 | uint64(s[len(s)-1])<<40
}

func (sc *scanner) array() error {
	sc.depth++
	if sc.depth > MaxDepth {
		return sc.errorf("nesting deeper than %d", MaxDepth)
	}
	sc.pos++ // '['
	sc.skipWS()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == ']' {
		sc.pos++
		sc.depth--
		return nil
	}
	for {
		sc.skipWS()
		if _, err := sc.value(); err != nil {
			return err
		}
		sc.skipWS()
		if sc.pos >= len(sc.s) {
			return sc.errorf("unterminated array")
		}
		switch sc.s[sc.pos] {
		case ',':
			sc.pos++
		case ']':
			sc.pos++
			sc.depth--
			return nil
		default:
			return sc.errorf("expected ',' or ']' in array")
		}
	}
}

// value scans one value starting at sc.pos (whitespace already skipped).
func (sc *scanner) value() (Kind, error) {
	if sc.pos >= len(sc.s) {
		return 0, sc.errorf("unexpected end of data")
	}
	switch c := sc.s[sc.pos]; {
	case c == '"':
		_, err := sc.str()
		return KindString, err
	case c == '{':
		return KindObject, sc.object(nil)
	case c == '[':
		return KindArray, sc.array()
	case c == '-' || (c >= '0' && c <= '9'):
		return KindNumber, sc.number()
	case c == 't':
		return KindTrue, sc.literal("true")
	case c == 'f':
		return KindFalse, sc.literal("false")
	case c == 'n':
		return KindNull, sc.literal("null")
	default:
		return 0, sc.errorf("unexpected character %q", c)
	}
}

func (sc *scanner) literal(lit string) error {
	if len(sc.s)-sc.pos < len(lit) || sc.s[sc.pos:sc.pos+len(lit)] != lit {
		return sc.errorf("invalid literal")
	}
	sc.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (sc *scanner) number() error {
	s, i := sc.s, sc.pos
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		sc.pos = i
		return sc.errorf("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			sc.pos = i
			return sc.errorf("invalid number: no digit after '.'")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			sc.pos = i
			return sc.errorf("invalid number: no digit in exponent")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	sc.pos = i
	return nil
}

// str scans a string starting at '"' and reports whether it has escapes.
func (sc *scanner) str() (bool, error) {
	s := sc.s
	i := sc.pos + 1
	esc := false
	for {
		// Fast path over plain ASCII, eight bytes at a time: the lowest
		// flagged byte of a word is exactly the first special one.
		for i+8 <= len(s) {
			if m := specialBytes(s, i); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(s) && plainASCII[s[i]] {
			i++
		}
		if i >= len(s) {
			sc.pos = i
			return esc, sc.errorf("unterminated string")
		}
		switch c := s[i]; {
		case c == '"':
			sc.pos = i + 1
			return esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				sc.pos = i
				return esc, sc.errorf("unterminated escape")
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := hex4(s, i+2)
				if !ok {
					sc.pos = i
					return esc, sc.errorf("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// Only a high surrogate followed by a low one is a character.
					r2, ok := rune(0), false
					if r < 0xDC00 && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2, ok = hex4(s, i+2)
					}
					if !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
						sc.pos = i
						return esc, sc.errorf("lone surrogate in \\u escape")
					}
					i += 6
				}
			default:
				sc.pos = i
				return esc, sc.errorf("invalid escape")
			}
		case c < 0x20:
			sc.pos = i
			return esc, sc.errorf("control character in string")
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				sc.pos = i
				return esc, sc.errorf("invalid UTF-8")
			}
			i += size
		}
	}
}

// specialBytes flags, with the top bit of each byte, the eight bytes at s[i:]
// that are not plain ASCII string characters: below 0x20, at or
// above 0x80, '"' or backslash. These are the classic "has a byte less than
// n" and "has a zero byte" tricks; flags above the lowest one may be false,
// the lowest one is exact.
func specialBytes(s string, i int) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	v := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:i+8]), 8))
	q := v ^ ('"' * lo)
	bs := v ^ ('\\' * lo)
	ctl := (v - 0x20*lo) &^ v
	q = (q - lo) &^ q
	bs = (bs - lo) &^ bs
	return (ctl | q | bs | v) & hi
}

// plainASCII marks the bytes that stand for themselves inside a string.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Unescape decodes the contents (without the quotes) of a string that the
// scanner has accepted.
func Unescape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, _ := hex4(s, i+2)
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(s, i+8)
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			b = utf8.AppendRune(b, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			b = append(b, s[i+1])
		}
		i += 2
	}
	return string(b)
}

// StringValue returns the decoded value of a raw JSON string that the
// scanner has accepted, quotes included.
func StringValue(raw string) string {
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') >= 0 {
		return Unescape(inner)
	}
	return inner
}

// StringArray decodes a raw JSON array that the scanner has accepted and
// that must hold only strings.
func StringArray(raw string) ([]string, error) {
	out := []string{}
	sc := scanner{s: raw, pos: 1}
	for {
		sc.skipWS()
		if sc.pos < len(raw) && raw[sc.pos] == ']' {
			return out, nil
		}
		if sc.pos >= len(raw) || raw[sc.pos] != '"' {
			return nil, errors.New("array member is not a string")
		}
		start := sc.pos
		if _, err := sc.str(); err != nil {
			return nil, err
		}
		out = append(out, StringValue(raw[start:sc.pos]))
		sc.skipWS()
		if sc.pos < len(raw) && raw[sc.pos] == ',' {
			sc.pos++
		}
	}
}

// AppendString appends s as a JSON string, escaping only what JSON
// requires. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func AppendString(b []byte, s string) []byte { return appendString(b, s, false) }

// AppendHTMLSafeString appends s as a JSON string as encoding/json writes
// one: like [AppendString], and besides <, > and & as \u escapes, and
// U+2028 and U+2029 escaped, so that the text can be put in a page.
func AppendHTMLSafeString(b []byte, s string) []byte { return appendString(b, s, true) }

func appendString(b []byte, s string, html bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && !(html && (c == '<' || c == '>' || c == '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case html && (r == '\u2028' || r == '\u2029'):
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
