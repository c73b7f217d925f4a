package rpcauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
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

func testGate(t *testing.T) *jwtgate.Gate {
	t.Helper()
	key, err := jwt.NewHMACKey([]byte("rpcauth-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var words = Words{Package: "testjwt", Method: "method", Field: "Methods", TokenIn: "the metadata", Calls: "calls"}

func TestCompileAndLookup(t *testing.T) {
	g := testGate(t)
	p, err := Compile(g, words, jwtgate.RouteOptions{},
		map[string]jwtgate.RouteOptions{"/a.S/Fresh": {Fresh: true}, "/a.T/": {Optional: true}},
		[]string{"/a.S/Health", "/a.P/"}, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		public bool
		opts   jwtgate.RouteOptions
	}{
		{"/a.S/Fresh", false, jwtgate.RouteOptions{Fresh: true}},
		{"/a.S/Other", false, jwtgate.RouteOptions{}},
		{"/a.S/Health", true, jwtgate.RouteOptions{}},
		{"/a.P/Anything", true, jwtgate.RouteOptions{}},
		{"/a.T/Anything", false, jwtgate.RouteOptions{Optional: true}},
		{"/b.U/X", false, jwtgate.RouteOptions{}},
		{"", false, jwtgate.RouteOptions{}},
	}
	for _, tt := range tests {
		rt := p.Lookup(tt.name)
		if (rt == nil) != tt.public {
			t.Errorf("Lookup(%q) public = %v, want %v", tt.name, rt == nil, tt.public)
			continue
		}
		if rt != nil && (rt.Options().Fresh != tt.opts.Fresh || rt.Options().Optional != tt.opts.Optional) {
			t.Errorf("Lookup(%q) options %+v, want %+v", tt.name, rt.Options(), tt.opts)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	g := testGate(t)
	tests := []struct {
		name   string
		def    jwtgate.RouteOptions
		named  map[string]jwtgate.RouteOptions
		public []string
		custom bool
		want   string
	}{
		{"locations", jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InHeader{}}}, nil, nil, false, "Locations do not apply to calls"},
		{"websocket", jwtgate.RouteOptions{WebSocket: true}, nil, nil, false, "WebSocket does not apply"},
		{"DPoPRequired with a Token hook", jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}, nil, nil, true, "DPoPRequired with Options.Token"},
		{"bad name", jwtgate.RouteOptions{}, map[string]jwtgate.RouteOptions{"a.S/M": {}}, nil, false, `method name "a.S/M"`},
		{"bad public name", jwtgate.RouteOptions{}, nil, []string{"/a.S/M/x"}, false, "Public: method name"},
		{"both", jwtgate.RouteOptions{}, map[string]jwtgate.RouteOptions{"/a.S/M": {}}, []string{"/a.S/M"}, false, "in both Public and Methods"},
		{"gate refuses", jwtgate.RouteOptions{IgnoreInvalid: true}, nil, nil, false, "testjwt: Default"},
	}
	for _, tt := range tests {
		_, err := Compile(g, words, tt.def, tt.named, tt.public, tt.custom)
		if !errors.Is(err, jwtgate.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrConfig with %q", tt.name, err, tt.want)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "https://api.example.com": "https://api.example.com", "http://h:8080/": "http://h:8080",
		"ftp://h": "error", "https://": "error", "https://h/path": "error", "https://h?q": "error",
		"https://u@h": "error", "https://h#f": "error", "h": "error", "mailto:x": "error", "%": "error",
	} {
		u, err := ParseOrigin(in)
		switch {
		case want == "error" && err == nil:
			t.Errorf("ParseOrigin(%q) = %v, want an error", in, u)
		case want != "error" && err != nil:
			t.Errorf("ParseOrigin(%q): %v", in, err)
		case want == "" && u != nil, want != "" && want != "error" && (u == nil || u.String() != want):
			t.Errorf("ParseOrigin(%q) = %v, want %q", in, u, want)
		}
	}
}
