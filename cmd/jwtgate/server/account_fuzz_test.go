package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadJSON: any body and content type of the account and admin
// endpoints gets a 4xx answer, or a decoded object whose body was one
// JSON object with no unknown or repeated member; never a panic.
func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		`{"username":"alice","password":"a long password","admin":true}`,
		`{"username":"a","username":"b"}`,
		`{"username":"a","role":"admin"}`,
		`{"admin":"yes"}`,
		`{"username":"a"} {}`,
		"{\"username\":\"\xff\"}",
		`[`, ``, `null`, `{}`, `{"password":"\ud800"}`,
	} {
		f.Add("application/json", s)
	}
	f.Add("text/plain", `{}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/admin/users", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		var u newUser
		if !readJSON(w, r, &u) {
			if w.Code < 400 || w.Code > 499 {
				t.Fatalf("refused with status %d", w.Code)
			}
			return
		}
		if err := uniqueMembers([]byte(body)); err != nil {
			t.Fatalf("accepted a body with a repeated member: %v", err)
		}
		if !utf8.ValidString(body) {
			t.Fatal("accepted a body that is not UTF-8")
		}
	})
}

// FuzzClientBodies: any body of POST and PATCH /admin/clients is refused
// with a 4xx answer or gives a client whose settings Validate checks, the
// change applied to an existing client included; never a panic, and
// never a secret hash set from a body.
func FuzzClientBodies(f *testing.F) {
	for _, s := range []string{
		`{"name":"svc","scopes":["read"],"audiences":["https://api.example"],"ttl":300,"refresh":true}`,
		`{"name":"k","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}}`,
		`{"jwks":null,"jwks_uri":"https://keys.example/jwks"}`,
		`{"ttl":-1}`, `{"ttl":1e99}`, `{"scopes":null}`, `{"disabled":true}`,
		`{"name":"<b>x</b>","secret_hash":"00"}`, `{}`, `[`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		post := func(dst any) bool {
			r := httptest.NewRequest("POST", "/admin/clients", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			if !readJSON(w, r, dst) {
				if w.Code < 400 || w.Code > 499 {
					t.Fatalf("refused with status %d", w.Code)
				}
				return false
			}
			return true
		}
		var add newClient
		if post(&add) {
			if c, err := add.client(); err == nil {
				c.ID = NewClientID()
				if c.SecretHash != "" || c.OldSecretHash != "" {
					t.Fatal("a secret hash from a body")
				}
				_ = c.Validate()
			}
		}
		var change clientChangeBody
		if post(&change) {
			u, err := change.update()
			if err != nil {
				return
			}
			c := &Client{ID: NewClientID(), Name: "svc", SecretHash: HashClientSecret("s"), Scopes: []string{"read"}}
			changed := u.apply(c)
			if c.SecretHash != HashClientSecret("s") {
				t.Fatal("the change set the secret")
			}
			if len(changed) > 8 {
				t.Fatalf("changed %v", changed)
			}
			_ = c.Validate()
		}
	})
}
