package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

const samplePayload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

// FuzzScanObject checks the strict scanner against encoding/json: whatever
// the scanner accepts, encoding/json must accept as an object with the same
// member names; and valid objects without duplicate names, lone surrogates
// or excessive depth must be accepted.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, samplePayload, `{"a":[1,{"b":"\u00e9"}],"c":null}`, `{"a":1,"a":2}`,
		`{"\ud83d\ude00":"x"}`, `{"n":-0.5e+10}`, " {\r\n} ", `[]`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var names []string
		err := ScanObject(string(data), func(name string, kind Kind, raw string) error {
			names = append(names, name)
			if !json.Valid([]byte(raw)) {
				t.Fatalf("member %q: raw value %q is not valid JSON", name, raw)
			}
			return nil
		})
		var m map[string]json.RawMessage
		jerr := json.Unmarshal(data, &m)
		if err == nil {
			if jerr != nil {
				t.Fatalf("scanner accepted what encoding/json refuses: %v", jerr)
			}
			if !utf8.Valid(data) {
				t.Fatal("scanner accepted invalid UTF-8")
			}
			if len(m) != len(names) {
				t.Fatalf("%d names, encoding/json saw %d", len(names), len(m))
			}
			for _, n := range names {
				if _, ok := m[n]; !ok {
					t.Fatalf("name %q unknown to encoding/json", n)
				}
			}
			return
		}
		// Refused: it must be for a reason encoding/json does not check.
		if jerr == nil && utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) && !hasDuplicates(data) && depth(data) <= MaxDepth && m != nil {
			t.Fatalf("scanner refused a plain valid object: %v", err)
		}
	})
}

func hasDuplicates(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				ks, _ := k.(string)
				if seen[ks] {
					return true
				}
				seen[ks] = true
				if walk() {
					return true
				}
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			dec.Token()
		}
		return false
	}
	return walk()
}

func depth(data []byte) int {
	d, maxd, inStr, esc := 0, 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '{' || c == '['):
			d++
			maxd = max(maxd, d)
		case !inStr && (c == '}' || c == ']'):
			d--
		}
	}
	return maxd
}

// toAny converts a tree to what encoding/json decodes with UseNumber.
func toAny(v Value) any {
	switch v.Kind {
	case KindString:
		return v.Str
	case KindNumber:
		return json.Number(v.Str)
	case KindTrue:
		return true
	case KindFalse:
		return false
	case KindArray:
		a := make([]any, len(v.Arr))
		for i, e := range v.Arr {
			a[i] = toAny(e)
		}
		return a
	case KindObject:
		m := make(map[string]any, len(v.Obj))
		for _, mb := range v.Obj {
			m[mb.Name] = toAny(mb.Val)
		}
		return m
	}
	return nil
}

// FuzzParse checks that Parse accepts what Single accepts, and that the tree
// is what encoding/json decodes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, samplePayload, `{"a":[1,{"b":"\u00e9"}],"c":null}`, `{"a":1,"a":2}`,
		`[true,false,null,-1.5e3,"x\n"]`, ` "s" `, `[]`, `{"a":"\ud800"}`, `[[[[]]]]`, `{"k\u0074y":"x","kty":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		_, _, serr := Single(string(data))
		if (err == nil) != (serr == nil) {
			t.Fatalf("Parse error %v, Single error %v", err, serr)
		}
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if jerr := dec.Decode(&want); jerr != nil {
			t.Fatalf("Parse accepted what encoding/json refuses: %v", jerr)
		}
		if got := toAny(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse = %#v, encoding/json = %#v", got, want)
		}
	})
}
