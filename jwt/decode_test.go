package jwt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// roleName is a named string type, as applications declare them.
type roleName string

// flatClaims has a field of every kind the fast path decodes, and some it
// leaves to encoding/json.
type flatClaims struct {
	Type    string          `json:"type"`
	Fresh   bool            `json:"fresh"`
	CSRF    string          `json:"csrf,omitempty"`
	Roles   []string        `json:"roles"`
	Names   []roleName      `json:"names"`
	Role    roleName        `json:"role"`
	Exp     int64           `json:"exp"`
	Small   int8            `json:"small"`
	Int     int             `json:"int"`
	U16     uint16          `json:"u16"`
	U64     uint64          `json:"u64"`
	F32     float32         `json:"f32"`
	F64     float64         `json:"f64"`
	Raw     json.RawMessage `json:"raw"`
	Num     json.Number     `json:"num"`
	Map     map[string]any  `json:"map"`
	Sub     string          // no tag: the name is "Sub", and "sub" matches it without regard to case
	Ignored string          `json:"-"`
	//lint:ignore SA5008 the tag is unusual on purpose: the fast path must read it as encoding/json does
	Dash string `json:"-,"`
	//lint:ignore SA5008 the tag is unusual on purpose: the fast path must read it as encoding/json does
	Weird      string `json:"a\\b"` // not a valid tag name: the field's name is used
	Ütf        string `json:"ſtraße"`
	unexported string
}

// newFlat returns a flatClaims with values in every field, so that the
// tests see what a decode leaves alone and what it overwrites.
func newFlat() *flatClaims {
	roles := make([]string, 3, 8)
	copy(roles, []string{"r1", "r2", "r3"})
	return &flatClaims{Type: "old", Fresh: true, Roles: roles, Names: []roleName{"n"}, Exp: 7, Small: -1,
		U64: 9, F64: 0.5, Raw: json.RawMessage(`"old"`), Map: map[string]any{"k": "v"}, Sub: "s", Ignored: "i",
		unexported: "u"}
}

// embedded embeds Claims: encoding/json's promotion rules apply, so the
// fast path leaves it to encoding/json.
type embedded struct {
	Claims
	Type string `json:"type"`
}

// collide has two fields whose names differ only in case.
type collide struct {
	A string `json:"a"`
	B string `json:"A"`
}

// quoted has the ",string" option.
type quoted struct {
	N int `json:"n,string"`
}

// decodeSeeds are payloads for the differential test and the fuzz target:
// plain ones the fast path decodes, and every kind of value and name that
// must make it step aside.
var decodeSeeds = []string{
	`{}`, benchPayload, `{"a":[1,{"b":"\u00e9"}],"c":null}`, `{"a":1,"a":2}`,
	`{"\ud83d\ude00":"x"}`, `{"n":-0.5e+10}`, " {\r\n} ", `[]`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}",
	`{"type":"a\n\"b\u00e9\ud83d\ude00","fresh":false,"roles":[],"names":["x","y\\"],"role":"admin"}`,
	`{"type":null,"fresh":null,"roles":null,"exp":null,"raw":null,"num":null,"map":null}`,
	`{"exp":9223372036854775807,"small":-128,"int":-1,"u16":65535,"u64":18446744073709551615}`,
	`{"exp":9223372036854775808}`, `{"small":128}`, `{"small":-129}`, `{"u16":65536}`, `{"u64":-1}`,
	`{"u64":-0}`, `{"exp":1.0}`, `{"exp":1e3}`, `{"exp":-0}`, `{"exp":"1"}`,
	`{"f32":3.4028235e38,"f64":1e308}`, `{"f32":3.5e38}`, `{"f64":1e309}`, `{"f64":1e-400}`, `{"f64":-0.0}`,
	`{"raw":{"a":[1,2,{"b":null}]},"num":12.5e3}`, `{"num":"12"}`, `{"num":"x"}`,
	`{"map":{"a":1}}`, `{"roles":"admin"}`, `{"roles":["a",1]}`, `{"roles":["a",null]}`, `{"roles":[["a"]]}`,
	`{"fresh":"true"}`, `{"fresh":1}`, `{"type":1}`, `{"type":true}`, `{"type":{}}`,
	`{"TYPE":"x"}`, `{"Type":"x","type":"y"}`, `{"sub":"x"}`, `{"Sub":"x"}`, `{"SUB":"x"}`,
	`{"-":"dash"}`, `{"Ignored":"x"}`, `{"ignored":"x"}`, `{"unexported":"x"}`, `{"Weird":"w"}`, `{"a\\b":"w"}`,
	`{"ſtraße":"x"}`, `{"STRASSE":"x"}`, `{"STRAßE":"x"}`, `{"ſTRASSE":"x"}`, `{"ſtraSSe":"x"}`, `{"K":"kelvin"}`, `{"\u212a":"kelvin"}`,
	`{"type":"x"} `, `{"type":"x"}x`, `{"type":"x"`, `{"type":"x",}`, `null`, ``, `"x"`,
	`{"a":"x","A":"y"}`, `{"n":"12"}`, `{"n":12}`, `{"iss":"i","aud":["a"],"exp":1,"type":"t"}`,
	`{"aud":"x","exp":1.5}`, strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40),
	`{"x":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `,"type":"y"}`,
}

// decodeTargets are the types the differential checks decode into, each
// made fresh with the same starting values for both decoders.
var decodeTargets = []struct {
	name string
	new  func() any
}{
	{"flat", func() any { return newFlat() }},
	{"flat-zero", func() any { return new(flatClaims) }},
	{"embedded", func() any { return new(embedded) }},
	{"collide", func() any { return new(collide) }},
	{"quoted", func() any { return new(quoted) }},
	{"map", func() any { return new(map[string]any) }},
	{"pointer-to-pointer", func() any { p := new(flatClaims); return &p }},
}

// slowDecode is Token.Decode without the fast path: encoding/json.
func slowDecode(payload string, v any) error {
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	return dec.Decode(v)
}

// checkDecodeSame decodes payload both ways into every target and fails
// if the fast path, when it decodes, differs from encoding/json, or if it
// wrote anything when it stepped aside. It reports whether the fast path
// decoded into flatClaims.
func checkDecodeSame(t *testing.T, payload string) bool {
	t.Helper()
	flat := false
	// A payload the strict scanner accepts is also decoded as the
	// Verifier's tokens are, without checking it again.
	modes := []bool{false}
	if strictjson.ScanObject(payload, nil) == nil {
		modes = append(modes, true)
	}
	for _, checked := range modes {
		cache := new(planCache)
		for _, tg := range decodeTargets {
			fast, slow, untouched := tg.new(), tg.new(), tg.new()
			slowErr := slowDecode(payload, slow)
			if decodeFast(cache, payload, checked, fast) {
				if slowErr != nil {
					t.Fatalf("%s (checked %v): fast path decoded %q, encoding/json refuses it: %v", tg.name, checked, payload, slowErr)
				}
				if !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%s (checked %v): %q decoded\nfast: %+v\nslow: %+v", tg.name, checked, payload, fast, slow)
				}
				if tg.name == "flat" {
					flat = true
				}
			} else if !reflect.DeepEqual(fast, untouched) {
				t.Fatalf("%s (checked %v): fast path stepped aside on %q but changed the value to %+v", tg.name, checked, payload, fast)
			}
			// Token.Decode gives encoding/json's answer either way.
			tok := &Token{payload: payload}
			if checked {
				tok.v = new(Verifier) // as Verify leaves it: the fast path applies
			}
			got := tg.new()
			err := tok.Decode(got)
			if (err == nil) != (slowErr == nil) || (err == nil && !reflect.DeepEqual(got, slow)) {
				t.Fatalf("%s (checked %v): Token.Decode(%q) = %+v, %v; encoding/json: %+v, %v", tg.name, checked, payload, got, err, slow, slowErr)
			}
		}
	}
	return flat
}

func TestDecodeFastMatchesEncodingJSON(t *testing.T) {
	for _, p := range decodeSeeds {
		checkDecodeSame(t, p)
	}
}

// TestDecodeFastTakes checks which payloads the fast path decodes itself
// and which it leaves to encoding/json, so that a fast path that always
// steps aside (correct but slow) fails here.
func TestDecodeFastTakes(t *testing.T) {
	tests := []struct {
		payload string
		fast    bool
	}{
		{benchPayload, false}, // "sub" names the untagged Sub by case folding
		{strings.Replace(benchPayload, `"sub"`, `"subject"`, 1), true},
		{`{}`, true},
		{`{"type":"a\n\"b\u00e9","roles":[],"names":["x"],"raw":[1,{"a":null}]}`, true},
		{`{"type":null,"fresh":null,"roles":null,"raw":null}`, true},
		{`{"exp":-12,"small":-128,"u16":65535,"f32":1.5,"f64":-2e-3,"Weird":"w","-":"d","Ignored":"i"}`, true},
		{`{"unknown":{"deep":[1,2,3]},"TYPEX":1}`, true},
		{`{"small":128}`, false},     // out of range
		{`{"exp":1.0}`, false},       // not an integer
		{`{"u64":-1}`, false},        // negative
		{`{"f64":1e309}`, false},     // out of range
		{`{"type":1}`, false},        // wrong kind
		{`{"roles":["a",1]}`, false}, // not all strings
		{`{"TYPE":"x"}`, false},      // matches only without regard to case
		{`{"sub":"x"}`, false},       // the untagged Sub, by case folding
		{`{"STRAßE":"x"}`, false},    // Unicode folding: ſ folds to S
		{`{"STRASSE":"x"}`, true},    // but ß does not fold to SS
		{`{"num":"12"}`, false},      // json.Number checks its strings
		{`{"map":{}}`, false},        // a map field
		{`{"map":null}`, false},      // null into a map field
		{`{"a":1,"a":2}`, false},     // duplicate: the scanner refuses
		{"{\"a\":\"\xff\"}", false},  // invalid UTF-8
		{`{"type":"x"} x`, false},    // data after the object
		{strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40), false}, // too deep
	}
	for _, tt := range tests {
		for _, checked := range []bool{false, true} {
			if checked && strictjson.ScanObject(tt.payload, nil) != nil {
				continue
			}
			if got := decodeFast(new(planCache), tt.payload, checked, newFlat()); got != tt.fast {
				t.Errorf("decodeFast(%.60q, checked %v) = %v, want %v", tt.payload, checked, got, tt.fast)
			}
		}
		checkDecodeSame(t, tt.payload)
	}
	cache := new(planCache)
	for _, v := range []any{new(embedded), new(collide), new(quoted), new(map[string]any), flatClaims{}, (*flatClaims)(nil), nil} {
		if decodeFast(cache, `{}`, true, v) {
			t.Errorf("decodeFast into %T: want encoding/json", v)
		}
	}
}

// TestDecodeFastNullKeeps checks the values encoding/json keeps and the
// ones it replaces, through the fast path.
func TestDecodeFastNullKeeps(t *testing.T) {
	c := newFlat()
	roles := c.Roles
	if !decodeFast(new(planCache), `{"type":null,"exp":null,"roles":["a","b"],"raw":null}`, true, c) {
		t.Fatal("fast path stepped aside")
	}
	if c.Type != "old" || c.Exp != 7 {
		t.Errorf("null changed a value: %+v", c)
	}
	if string(c.Raw) != "null" {
		t.Errorf("Raw = %s, want null", c.Raw)
	}
	if len(c.Roles) != 2 || &c.Roles[0] != &roles[:1][0] {
		t.Errorf("Roles = %v: encoding/json fills the slice's own array", c.Roles)
	}
}

// TestVerifyDecode checks the fast path behind Verify: a verified token
// decodes into a flat struct with encoding/json's result.
func TestVerifyDecode(t *testing.T) {
	key, _ := NewHMACKey(bytes.Repeat([]byte("k"), 32))
	s, _ := NewSigner(key, HS256, SignerOptions{})
	tok, _ := s.Sign([]byte(benchPayload))
	v, _ := NewVerifier(key, VerifierOptions{Clock: func() time.Time { return benchNow }})
	vt, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var got, want flatClaims
	if err := vt.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if err := slowDecode(benchPayload, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got.Type != "access" || len(got.Roles) != 2 {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, ok := v.plans.m.Load(reflect.TypeFor[flatClaims]()); !ok {
		t.Error("the verifier kept no plan for the type")
	}
}

// FuzzDecodeFast compares the fast path with encoding/json on arbitrary
// payloads.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeSame(t, string(data))
	})
}

// TestAllocBudgets holds the hot paths to their allocations: a refused
// garbage token allocates nothing, a verified one its Token with the
// payload, and decoding the custom claims into a flat struct adds the struct and
// its one slice.
func TestAllocBudgets(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	key, _ := NewHMACKey(bytes.Repeat([]byte("k"), 32))
	s, _ := NewSigner(key, HS256, SignerOptions{})
	tok, _ := s.Sign([]byte(benchPayload))
	v, _ := NewVerifier(key, VerifierOptions{Clock: func() time.Time { return benchNow }, CaptureClaims: []string{"type"}})
	ctx := context.Background()
	for _, g := range garbageTokens() {
		if n := testing.AllocsPerRun(100, func() {
			if _, err := v.Verify(ctx, g.token); err == nil {
				t.Fatal("garbage accepted")
			}
		}); n != 0 {
			t.Errorf("refusing %s: %v allocations, want 0", g.name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("Verify: %v allocations, want 1 (the Token with its payload)", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		vt, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		c := new(benchClaims)
		if err := vt.Decode(c); err != nil || len(c.Roles) != 2 {
			t.Fatal(err)
		}
		if raw, ok := vt.RawClaim("type"); !ok || raw != `"access"` {
			t.Fatalf("RawClaim(type) = %q, %v", raw, ok)
		}
	}); n > 3 {
		t.Errorf("Verify and Decode: %v allocations, want at most 3", n)
	}
}

// TestPayloadSizes verifies tokens whose payloads sit on each side of the
// sizes where the Token and its payload stop sharing an allocation.
func TestPayloadSizes(t *testing.T) {
	key, _ := NewHMACKey(bytes.Repeat([]byte("k"), 32))
	s, _ := NewSigner(key, HS256, SignerOptions{})
	v, _ := NewVerifier(key, VerifierOptions{Clock: func() time.Time { return benchNow }, MaxSize: 64 << 10})
	for _, n := range []int{2, 279, 280, 281, 407, 408, 409, 1024, 1025, 20000} {
		pad := max(n-len(`{"sub":"x","p":""}`), 0)
		payload := `{"sub":"x","p":"` + strings.Repeat("a", pad) + `"}`
		if n == 2 {
			payload = `{}`
		}
		tok, err := s.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		for _, verify := range []func() (*Token, error){
			func() (*Token, error) { return v.Verify(context.Background(), tok) },
			func() (*Token, error) { return v.VerifySignature(context.Background(), tok) },
			func() (*Token, error) { var vt Token; return &vt, v.VerifyInto(context.Background(), tok, &vt) },
		} {
			vt, err := verify()
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if got := string(vt.Payload()); got != payload {
				t.Fatalf("%d bytes: payload %.40q..., want %.40q...", n, got, payload)
			}
		}
	}
}

// TestEarlyErrorsUnchanged checks that the errors made once say exactly
// what the header parser says for the same input.
func TestEarlyErrorsUnchanged(t *testing.T) {
	key, _ := NewHMACKey(bytes.Repeat([]byte("k"), 32))
	v, _ := NewVerifier(key, VerifierOptions{})
	for _, hdr := range []string{"not json", "", "[1]", "null"} {
		_, want := parseHeader(hdr, nil)
		tok := b64url.EncodeToString([]byte(hdr)) + ".e30.c2ln"
		_, err := v.Verify(context.Background(), tok)
		if err == nil || want == nil || err.Error() != want.Error() || !errors.Is(err, ErrMalformed) || !errors.Is(err, strictjson.ErrSyntax) {
			t.Errorf("header %q: Verify says %v, the parser %v", hdr, err, want)
		}
	}
}
