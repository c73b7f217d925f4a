package jwtgate

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Each location carries its own settings, a route's Locations replace the
// Gate's settings and all, and Token.Location is the location as listed.
func TestLocationValues(t *testing.T) {
	header := InHeader{Name: "X-Token", Scheme: "JWT"}
	query := InQuery{Param: "t", Prefix: "Bearer "}
	body := InJSON{AccessKey: "tok", RefreshKey: "rtok", MaxBody: 1 << 10}
	g := testGate(t, func(c *Config) { c.Locations = []Location{header, query, body} })
	alice := access(t, g, "alice")
	ownHeader := InHeader{Name: "x-raw-token", NoScheme: true}
	tests := []struct {
		name  string
		route []Location
		req   func() *http.Request
		want  Location // nil: refused
	}{
		{"header", nil, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Token", "jwt "+alice)
			return r
		}, header},
		{"default header not read", nil, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+alice)
			return r
		}, nil},
		{"query with prefix", nil, func() *http.Request {
			return httptest.NewRequest("GET", "/?t="+url.QueryEscape("Bearer "+alice), nil)
		}, query},
		{"query without prefix", nil, func() *http.Request {
			return httptest.NewRequest("GET", "/?t="+alice, nil)
		}, nil},
		{"json key", nil, func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(`{"tok":"`+alice+`"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, body},
		{"json body over MaxBody", nil, func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(`{"pad":"`+strings.Repeat("x", 2<<10)+`","tok":"`+alice+`"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, nil},
		{"route's own header", []Location{ownHeader}, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Raw-Token", alice)
			return r
		}, ownHeader},
		{"route's own header ignores the Gate's", []Location{ownHeader}, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Token", "JWT "+alice)
			return r
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := g.VerifyRequest(tt.req(), RouteOptions{Locations: tt.route})
			if tt.want == nil {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := TokenFrom(r.Context())
			if tok.Location != tt.want {
				t.Errorf("Location %#v, want %#v", tok.Location, tt.want)
			}
		})
	}
}

func TestLocationString(t *testing.T) {
	for _, tt := range []struct {
		loc  Location
		want string
	}{
		{InHeader{}, "headers"},
		{InHeader{Name: "X-Token", Scheme: "JWT"}, "headers"},
		{InCookie{}, "cookies"},
		{InQuery{Param: "token"}, "query_string"},
		{InJSON{}, "json"},
	} {
		if got := fmt.Sprint(tt.loc); got != tt.want {
			t.Errorf("%#v prints %q, want %q", tt.loc, got, tt.want)
		}
	}
}
