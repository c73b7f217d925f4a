package fibergate_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
)

// FuzzMiddleware sends malformed Authorization headers, cookies, CSRF
// headers and query values through the fiber handler (a real fiber
// server) and the Gate's own middleware, on a required and an optional
// route: the answers must be the same, and never a panic or a 500.
func FuzzMiddleware(f *testing.F) {
	for _, s := range [][4]string{
		{"Bearer", "", "", ""},
		{"Bearer a b", "", "", ""},
		{"bearer eyJ.eyJ.sig", "", "", ""},
		{"Basic x, Bearer y, Bearer z", "", "", ""},
		{"Bearer \xff", "a=b", "x", "%zz"},
		{"", "access_token_cookie=eyJhbGciOiJIUzI1NiJ9.e30.x", "", ""},
		{"", "access_token_cookie=\"quoted\"; csrf_access_token=1", "1", ""},
		{"", "", "", "Bearer%20x"},
		{",,,", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], true)
	}
	f.Fuzz(func(t *testing.T, authz, cookie, csrf, query string, post bool) {
		// Values a client cannot send in a header (the proxy in front of
		// the fiber server refuses them) are not the adapter's concern.
		for _, v := range []string{authz, cookie, csrf} {
			if !validHeaderValue(v) {
				t.Skip()
			}
		}
		method := "GET"
		if post {
			method = "POST"
		}
		req := adaptertest.Request{Method: method, Target: "/?jwt=" + url.QueryEscape(query), Header: http.Header{}}
		if authz != "" {
			req.Authorization = []string{authz}
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-TOKEN", csrf)
		}
		for _, opts := range []jwtgate.RouteOptions{{}, {Optional: true}} {
			sc := adaptertest.Scenario{Name: "fuzz", Route: opts, Request: func(*adaptertest.Env) adaptertest.Request { return req }}
			for _, d := range adaptertest.CompareHTTP(t, adapter, sc, jwtgate.ProfileRFC6750) {
				t.Error(d)
			}
		}
	})
}

// validHeaderValue reports a value net/http's client sends: no control
// characters but tab, and no leading or trailing space, which servers
// strip.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return len(v) == 0 || (v[0] != ' ' && v[0] != '\t' && v[len(v)-1] != ' ' && v[len(v)-1] != '\t')
}
