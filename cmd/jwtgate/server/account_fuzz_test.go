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
