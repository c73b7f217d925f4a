package adaptertest

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// FuzzHTTP sends malformed Authorization headers, cookies, CSRF headers
// and query values through adapter and through the Gate's own
// middleware, on a required and an optional route: the answers must be
// the same, and never a panic or a 500. With sendable, inputs a client
// cannot put in a header (control characters, leading or trailing
// space, which a real server in front refuses or strips) are skipped:
// for adapters that are driven through a real server.
func FuzzHTTP(f *testing.F, adapter HTTP, sendable bool) {
	for _, s := range [][4]string{
		{"Bearer", "", "", ""},
		{"Bearer a b", "", "", ""},
		{"bearer eyJ.eyJ.sig", "", "", ""},
		{"Basic x, Bearer y, Bearer z", "", "", ""},
		{"Bearer \x00\xff", "a=b", "x", "%zz"},
		{"Bearer \xff", "a=b", "x", "%zz"},
		{"", "access_token_cookie=eyJhbGciOiJIUzI1NiJ9.e30.x", "", ""},
		{"", "access_token_cookie=\"quoted\"; csrf_access_token=1", "1", ""},
		{"", "", "", "Bearer%20x"},
		{",,,", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], true)
	}
	f.Fuzz(func(t *testing.T, authz, cookie, csrf, query string, post bool) {
		if sendable {
			for _, v := range []string{authz, cookie, csrf} {
				if !sendableHeaderValue(v) {
					t.Skip()
				}
			}
		}
		method := "GET"
		if post {
			method = "POST"
		}
		req := Request{Method: method, Target: "/?jwt=" + url.QueryEscape(query), Header: http.Header{}}
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
			sc := Scenario{Name: "fuzz", Route: opts, Request: func(*Env) Request { return req }}
			for _, d := range CompareHTTP(t, adapter, sc, jwtgate.ProfileRFC6750) {
				t.Error(d)
			}
		}
	})
}

// sendableHeaderValue reports a value net/http's client sends: no
// control characters but tab, and no leading or trailing space, which
// servers strip.
func sendableHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return len(v) == 0 || (v[0] != ' ' && v[0] != '\t' && v[len(v)-1] != ' ' && v[len(v)-1] != '\t')
}

// RPCSeeds are the seed values of an RPC adapter's fuzz target over the
// authorization value, made around valid, a token the Gate accepts.
func RPCSeeds(valid string) []string {
	return []string{
		"Bearer " + valid, "bearer " + valid, "Bearer  " + valid + " ", "Bearer " + valid + ",", "Bearer",
		"Bearer " + valid[:len(valid)-1], "Basic abc", "", " ", "\x00", "Bearer \xff\xfe", "Bearer a.b.c",
		"Bearer " + valid[:10] + "." + valid[10:], "Bearer e30.e30.", "Bearer " + valid + "\t" + valid,
	}
}

// CheckCall checks one call of an RPC adapter's fuzz target with the
// authorization value: with wantOK, the call went through with the token
// of identity in the handler's context (seen); otherwise it was refused
// with the code for an unauthenticated call (unauthenticated says
// whether err carries it) and the handler did not run.
func CheckCall(t testing.TB, kind, value, identity string, wantOK bool, err error, unauthenticated bool, seen *jwtgate.Token) {
	t.Helper()
	switch {
	case wantOK && (err != nil || seen == nil || seen.Identity != identity):
		t.Errorf("%s %q: %v, token %v; want the call through as %s", kind, value, err, seen, identity)
	case !wantOK && !unauthenticated:
		t.Errorf("%s %q: %v; want the code for an unauthenticated call", kind, value, err)
	case !wantOK && seen != nil:
		t.Errorf("%s %q: the handler ran", kind, value)
	}
}

// FuzzRPC is an RPC adapter's fuzz target over the authorization value,
// seeded with RPCSeeds around valid, a token of g for "alice"; each
// value is sent alone, or followed by a second one, "Bearer valid".
// read is the adapter's BearerToken on the values of a call; call makes
// the adapter's calls with the values and hands each outcome to check:
// what call it was (kind), the error it returned, its code, and the token
// the handler saw (nil if it did not run). The oracle is g itself, as
// seeds made in one process are replayed in others with other tokens: a
// call passes only when read gives a token g accepts, with alice's token
// in the handler's context; otherwise it is refused Unauthenticated and
// the handler does not run. And never a panic.
func FuzzRPC(f *testing.F, g *jwtgate.Gate, valid string, read func(vals []string) (string, error),
	call func(t *testing.T, vals []string, check func(kind string, err error, code RPCCode, seen *jwtgate.Token))) {
	for _, seed := range RPCSeeds(valid) {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, value string, twice bool) {
		vals := []string{value}
		if twice {
			vals = append(vals, "Bearer "+valid)
		}
		wantOK := false
		if tok, err := read(vals); err == nil && tok != "" {
			_, verr := g.VerifyToken(context.Background(), tok, jwtgate.RouteOptions{})
			wantOK = verr == nil
		}
		call(t, vals, func(kind string, err error, code RPCCode, seen *jwtgate.Token) {
			t.Helper()
			CheckCall(t, kind, value, "alice", wantOK, err, code == CodeUnauthenticated, seen)
		})
	})
}
