package jwk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MaxJSONDepth is the deepest nesting of objects and arrays accepted in a
// JWK or JWK Set.
const MaxJSONDepth = 32

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// value is a decoded JSON value. Objects keep their members in order.
type value struct {
	kind kind
	str  string // a string's value or a number's text
	arr  []value
	obj  object
}

type member struct {
	name string
	val  value
}

type object []member

// get returns the member called name, or nil. Member names are unique (the
// parser refuses duplicates), so the first match is the only one.
func (o object) get(name string) *value {
	for i := range o {
		if o[i].name == name {
			return &o[i].val
		}
	}
	return nil
}

var errTrailing = errors.New("data after the JSON value")

// parseJSON decodes one JSON value strictly: valid UTF-8, no duplicate member
// names in any object (compared after unescaping), nesting at most
// MaxJSONDepth, nothing but white space after the value.
func parseJSON(data []byte) (value, error) {
	if !utf8.Valid(data) {
		return value{}, errors.New("JSON text is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return value{}, errors.New("unexpected end of JSON input")
		}
		return value{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return value{}, errTrailing
	}
	if err := checkEscapes(data); err != nil {
		return value{}, err
	}
	return v, nil
}

// checkEscapes refuses \u escapes of unpaired UTF-16 surrogates, which
// encoding/json silently turns into U+FFFD (so that two texts would decode
// to the same string). data is syntactically valid JSON.
func checkEscapes(data []byte) error {
	in := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			in = !in
		case c == '\\' && in:
			i++
			if data[i] != 'u' {
				continue
			}
			r := hex4(data[i+1 : i+5])
			i += 4
			switch {
			case r >= 0xD800 && r < 0xDC00:
				if i+6 < len(data) && data[i+1] == '\\' && data[i+2] == 'u' {
					if lo := hex4(data[i+3 : i+7]); lo >= 0xDC00 && lo < 0xE000 {
						i += 6
						continue
					}
				}
				return errors.New("JSON string has an unpaired UTF-16 surrogate escape")
			case r >= 0xDC00 && r < 0xE000:
				return errors.New("JSON string has an unpaired UTF-16 surrogate escape")
			}
		}
	}
	return nil
}

// hex4 decodes four hexadecimal digits, which the JSON syntax guarantees.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

func readValue(dec *json.Decoder, depth int) (value, error) {
	tok, err := dec.Token()
	if err != nil {
		return value{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxJSONDepth {
			return value{}, fmt.Errorf("JSON nested deeper than %d levels", MaxJSONDepth)
		}
		switch t {
		case '{':
			return readObject(dec, depth)
		case '[':
			var arr []value
			for dec.More() {
				v, err := readValue(dec, depth+1)
				if err != nil {
					return value{}, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return value{}, err
			}
			return value{kind: kindArray, arr: arr}, nil
		}
		return value{}, fmt.Errorf("unexpected %q in JSON", rune(t))
	case string:
		return value{kind: kindString, str: t}, nil
	case json.Number:
		return value{kind: kindNumber, str: string(t)}, nil
	case bool:
		if t {
			return value{kind: kindBool, str: "true"}, nil
		}
		return value{kind: kindBool, str: "false"}, nil
	case nil:
		return value{kind: kindNull}, nil
	}
	return value{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// linearDupLimit is the object size up to which duplicate names are found by
// a linear scan; larger objects use a map.
const linearDupLimit = 16

func readObject(dec *json.Decoder, depth int) (value, error) {
	var obj object
	var seen map[string]struct{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return value{}, err
		}
		name, ok := tok.(string)
		if !ok {
			return value{}, fmt.Errorf("unexpected JSON token %v for a member name", tok)
		}
		dup := false
		switch {
		case seen != nil:
			_, dup = seen[name]
			seen[name] = struct{}{}
		case len(obj) >= linearDupLimit:
			seen = make(map[string]struct{}, 2*len(obj))
			for _, m := range obj {
				seen[m.name] = struct{}{}
			}
			_, dup = seen[name]
			seen[name] = struct{}{}
		default:
			dup = obj.get(name) != nil
		}
		if dup {
			return value{}, fmt.Errorf("duplicate member %q in a JSON object", name)
		}
		v, err := readValue(dec, depth+1)
		if err != nil {
			return value{}, err
		}
		obj = append(obj, member{name: name, val: v})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return value{}, err
	}
	return value{kind: kindObject, obj: obj}, nil
}

// appendString appends s as a JSON string. s must be valid UTF-8.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xF])
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// appendMember appends ,"name":"value" (without the comma for the first
// member of an object, which the caller writes itself).
func appendMember(b []byte, name, val string) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = strconv.AppendQuote(b, name) // member names are fixed ASCII
	b = append(b, ':')
	return appendString(b, val)
}
