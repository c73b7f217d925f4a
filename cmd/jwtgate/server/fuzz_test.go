package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzReadCredentials: any body and content type gets a 4xx answer or
// credentials that pass ValidUsername and ValidPassword; never a panic.
func FuzzReadCredentials(f *testing.F) {
	for _, s := range []string{
		`{"username":"alice","password":"pw"}`,
		`{"username":"alice","password":"\ud800"}`,
		`{"username":"a","password":"b","x":1}`,
		`{"username":"a"} {}`,
		"{\"username\":\"\xff\",\"password\":\"b\"}",
		`[`, ``, `null`,
	} {
		f.Add("application/json", s)
	}
	f.Add("text/plain; charset=utf-8", `{}`)
	f.Add("application/json; charset=\"", `{}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		c, ok := readCredentials(w, r, defaultKeys)
		if !ok {
			if w.Code < 400 || w.Code > 499 {
				t.Fatalf("refused with status %d", w.Code)
			}
			return
		}
		if err := ValidUsername(c.Username); err != nil {
			t.Fatalf("accepted username %q: %v", c.Username, err)
		}
		if err := ValidPassword(c.Password); err != nil {
			t.Fatalf("accepted password: %v", err)
		}
	})
}
