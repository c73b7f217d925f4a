package authvalue

import (
	"errors"
	"testing"

	"github.com/jwtgate/jwtgate"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, scheme, tok, err string
	}{
		{"Bearer abc", "Bearer", "abc", ""},
		{"bearer abc", "Bearer", "abc", ""},
		{"  Bearer   abc  ", "Bearer", "abc", ""},
		{"DPoP abc", "DPoP", "abc", ""},
		{"dpop abc", "DPoP", "abc", ""},
		{"", "", "", ""},
		{"   ", "", "", ""},
		{"Basic abc", "", "", "Bad metadata: expected 'Bearer <JWT>'"},
		{"Bearer", "Bearer", "", "Bad metadata: expected 'Bearer <JWT>'"},
		{"Bearer a b", "Bearer", "", "Bad metadata: expected 'Bearer <JWT>'"},
		{"Bearer a,b", "Bearer", "", "Bad metadata: expected 'Bearer <JWT>'"},
		{"DPoP a\tb", "DPoP", "", "Bad metadata: expected 'DPoP <JWT>'"},
		{"Bearerabc", "", "", "Bad metadata: expected 'Bearer <JWT>'"},
	}
	for _, tt := range tests {
		scheme, tok, err := Parse(tt.in, "metadata")
		if scheme != tt.scheme || tok != tt.tok {
			t.Errorf("Parse(%q) = %q, %q; want %q, %q", tt.in, scheme, tok, tt.scheme, tt.tok)
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("Parse(%q): %v", tt.in, err)
		case tt.err != "" && (err == nil || !errors.Is(err, jwtgate.ErrBadHeader) || !containsMessage(err, tt.err)):
			t.Errorf("Parse(%q): error %v, want ErrBadHeader with %q", tt.in, err, tt.err)
		}
	}
}

func containsMessage(err error, msg string) bool {
	var e *jwtgate.Error
	return errors.As(err, &e) && e.Message == msg
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"Bearer abc", "DPoP x", "", "Basic", "Bearer a b", "bearer\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		scheme, tok, err := Parse(v, "metadata")
		if err != nil {
			if !errors.Is(err, jwtgate.ErrBadHeader) || tok != "" {
				t.Fatalf("Parse(%q) = %q, %q, %v", v, scheme, tok, err)
			}
			return
		}
		if (scheme == "") != (tok == "") || (tok != "" && !OneWord(tok)) {
			t.Fatalf("Parse(%q) = %q, %q", v, scheme, tok)
		}
	})
}
