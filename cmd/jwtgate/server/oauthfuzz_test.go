package server

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseForm: a form body is refused with errForm or parsed into
// parameters that are UTF-8 text, each name once (resource aside), and
// that an encoding of them parses back to; never a panic.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=client_credentials&scope=read+write",
		"grant_type=client_credentials&grant_type=x",
		"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb",
		"a", "=", "a=%zz", "a=%ff", "a=%00", "&&", "scope=&scope=", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := parseForm(body)
		if err != nil {
			if !errors.Is(err, errForm) {
				t.Fatalf("error %v does not wrap errForm", err)
			}
			return
		}
		if len(form.vals)+len(form.resources) > maxFormParams {
			t.Fatalf("%d parameters", len(form.vals)+len(form.resources))
		}
		v := url.Values{}
		for k, x := range form.vals {
			if !utf8.ValidString(k) || !utf8.ValidString(x) || hasControl(k) || hasControl(x) || k == "" || x == "" {
				t.Fatalf("parameter %q=%q", k, x)
			}
			v.Set(k, x)
		}
		for _, r := range form.resources {
			v.Add("resource", r)
		}
		again, err := parseForm(v.Encode())
		if err != nil {
			t.Fatalf("re-encoded form %q: %v", v.Encode(), err)
		}
		if len(again.vals) != len(form.vals) || len(again.resources) != len(form.resources) {
			t.Fatalf("re-encoded form differs: %v %v", again.vals, form.vals)
		}
		for k, x := range form.vals {
			if again.vals[k] != x {
				t.Fatalf("parameter %q: %q then %q", k, x, again.vals[k])
			}
		}
	})
}

// FuzzParseBasic: an Authorization value is not Basic, or is refused
// with errBasic, or gives a non-empty id and secret that encode back to
// the same credentials; never a panic.
func FuzzParseBasic(f *testing.F) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		enc("jc_ABC:secret"), enc("a%3Ab:c%2Bd"), enc("a+b:c"), enc("nocolon"), enc(":"), enc("a%zz:b"),
		"Basic !!!", "Bearer x", "basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "", "Basic",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		id, secret, isBasic, err := parseBasic(header)
		if !isBasic {
			if err != nil || id != "" || secret != "" {
				t.Fatalf("not Basic, yet %q %q %v", id, secret, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, errBasic) {
				t.Fatalf("error %v does not wrap errBasic", err)
			}
			return
		}
		if id == "" || secret == "" || !utf8.ValidString(id) || !utf8.ValidString(secret) {
			t.Fatalf("id %q secret %q", id, secret)
		}
		id2, secret2, ok, err := parseBasic(enc(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
		if !ok || err != nil || id2 != id || secret2 != secret {
			t.Fatalf("re-encoded: %q %q %v %v", id2, secret2, ok, err)
		}
	})
}

// FuzzOAuthEndpoints: any body, content type and Authorization header
// sent to the token, introspection or revocation endpoint gets a 2xx or
// 4xx answer in JSON, never a 5xx or a panic.
func FuzzOAuthEndpoints(f *testing.F) {
	o := newOAuthFixture(f)
	auth := basic(o.secretID, o.secret)[1]
	for _, s := range []string{
		"grant_type=client_credentials", "grant_type=client_credentials&scope=read&resource=https%3A%2F%2Fapi.example.com",
		"grant_type=refresh_token&refresh_token=a.b.c", "token=a.b.c&token_type_hint=access_token", "grant_type=x&grant_type=y",
		"client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=e30.e30.",
	} {
		for _, p := range []uint8{0, 1, 2} {
			f.Add(p, form, auth, s)
		}
	}
	f.Add(uint8(0), "application/json", "", `{"grant_type":"client_credentials"}`)
	f.Add(uint8(1), form, "Basic !!", "token=x")
	paths := []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke"}
	f.Fuzz(func(t *testing.T, path uint8, ct, authorization, body string) {
		r := httptest.NewRequest("POST", paths[int(path)%len(paths)], strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		o.s.ServeHTTP(w, r)
		if w.Code >= 500 || w.Code < 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("status %d without an error code: %s", w.Code, w.Body)
		}
	})
}
