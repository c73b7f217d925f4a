package jwtgate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/strictjson"
	"github.com/jwtgate/jwtgate/jwt"
)

// FuzzUnverified feeds arbitrary header and payload bytes, encoded as
// token segments, to UnverifiedHeader and UnverifiedClaims. Nothing may
// panic; a refusal wraps jwt.ErrMalformed or jwt.ErrTooLarge; what is
// accepted is exactly one JSON object that verification would also
// parse, and reads back as encoding/json reads it.
func FuzzUnverified(f *testing.F) {
	for _, s := range [][2]string{
		{`{"alg":"HS256","typ":"JWT"}`, `{"sub":"alice","exp":1767225600}`},
		{`{}`, `{"n":1e400,"a":[1,{"b":null}]}`},
		{`null`, `null`},
		{`{"a":1} `, `{"a":1}{"b":2}`},
		{`{"a":1,"a":2}`, `{"sub":"x","sub":"y"}`},
		{`[]`, `"x"`},
		{"{\"a\":\"\xff\"}", `{"a":"\ud800"}`},
		{``, ` `},
	} {
		f.Add(s[0], s[1], false)
	}
	f.Add(`{}`, `{}`, true)
	enc := base64.RawURLEncoding
	f.Fuzz(func(t *testing.T, header, payload string, raw bool) {
		token := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + ".sig"
		if raw {
			// the segments as given, not encoded: bad base64, extra dots
			token = header + "." + payload
		}
		h, err := UnverifiedHeader(token)
		checkUnverified(t, "header", header, raw, h, err)
		c, err := UnverifiedClaims(token)
		checkUnverified(t, "claims", payload, raw, c, err)
	})
}

func checkUnverified(t *testing.T, what, in string, raw bool, m map[string]any, err error) {
	t.Helper()
	if err != nil {
		if m != nil {
			t.Fatalf("%s: a map and an error: %v", what, err)
		}
		if !errors.Is(err, jwt.ErrMalformed) && !errors.Is(err, jwt.ErrTooLarge) {
			t.Fatalf("%s: error %v wraps neither ErrMalformed nor ErrTooLarge", what, err)
		}
		return
	}
	if m == nil {
		t.Fatalf("%s: no map and no error for %q", what, in)
	}
	if raw {
		return
	}
	b := []byte(in)
	if !json.Valid(b) || !strings.HasPrefix(strings.TrimLeft(in, " \t\r\n"), "{") {
		t.Fatalf("%s: accepted %q, not one JSON object", what, in)
	}
	// Tokens are verified by the strict rules (no duplicate members at any
	// depth, no lone surrogates); what those refuse is not read either.
	if err := strictjson.ScanObject(in, nil); err != nil {
		t.Fatalf("%s: accepted %q, which verification refuses: %v", what, in, err)
	}
	// The map reads back as encoding/json reads the same object.
	var want map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&want); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m)
	exp, _ := json.Marshal(want)
	if what == "claims" && !bytes.Equal(got, exp) {
		t.Fatalf("%s: read %s, want %s", what, got, exp)
	}
}
