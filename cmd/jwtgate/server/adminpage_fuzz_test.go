package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAdminForm: any body of POST /admin, from a signed-in administrator,
// gets a redirect to the admin page or the page again with a 4xx status;
// never a panic or a 5xx, and never the form's markup as markup. Each
// input gets a service of its own (CSRF is the placeholder for the
// administrator's CSRF value), so that no input changes what the next
// one finds.
func FuzzAdminForm(f *testing.F) {
	const csrf = "CSRF"
	for _, s := range []string{
		"action=disable&username=alice&csrf_token=" + csrf,
		"action=enable&username=alice&csrf_token=" + csrf,
		"action=add&username=%3Cb%3Ex%3C%2Fb%3E&password=short&csrf_token=" + csrf,
		"action=delete&username=alice&csrf_token=" + csrf,
		"action=end-session&username=alice&sid=..%2F..&csrf_token=" + csrf,
		"action=end-sessions&username=%00&csrf_token=" + csrf,
		"action=password&username=root&password=&csrf_token=" + csrf,
		"action=reauth&password=wrong&csrf_token=wrong",
		"action=disable&username=alice",
		"action=%ff&username=%ff%fe",
		"a=1&a=2&;&&==",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fx, _ := adminFixture(t)
		root := fx.pageSignin(t, "root", testPassword)
		body = strings.ReplaceAll(body, csrf, root["csrf_access_token"])
		r := httptest.NewRequest("POST", "/admin", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Cookie", root.header())
		w := httptest.NewRecorder()
		fx.s.ServeHTTP(w, r)
		switch {
		case w.Code == http.StatusSeeOther:
			if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/admin") && !strings.HasPrefix(loc, "/signin") {
				t.Fatalf("redirect to %q", loc)
			}
		case w.Code >= 400 && w.Code < 500:
			if strings.Contains(w.Body.String(), "<b>x</b>") {
				t.Fatal("markup of the form shown as markup")
			}
		default:
			t.Fatalf("status %d\n%s", w.Code, w.Body.String())
		}
	})
}
