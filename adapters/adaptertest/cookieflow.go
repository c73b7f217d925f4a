package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// CheckCookieFlow drives an adapter's cookie helpers as a browser would,
// through h, which must serve:
//
//   - POST /login?user=NAME: set the access and refresh cookies (with
//     their CSRF cookies) of tokens for NAME;
//   - POST /transfer: a Required route answering 200 "sent by NAME";
//   - POST /logout, /logout/access, /logout/refresh: unset all, the
//     access or the refresh cookies.
//
// It checks that login sets the four cookies, that /transfer refuses a
// cookie without its CSRF header (403, the body naming csrf) and takes
// it with one, and that each logout expires its cookies (4, 2 and 2).
func CheckCookieFlow(t testing.TB, h http.Handler) {
	t.Helper()
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := serve(httptest.NewRequest("POST", "/login?user=dave", nil))
	cookies := map[string]*http.Cookie{}
	for _, ck := range w.Result().Cookies() {
		cookies[ck.Name] = ck
	}
	for _, n := range []string{"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"} {
		if cookies[n] == nil || cookies[n].Value == "" {
			t.Fatalf("login did not set %s: %v", n, w.Result().Cookies())
		}
	}
	post := func(csrf string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/transfer", nil)
		r.AddCookie(cookies["access_token_cookie"])
		if csrf != "" {
			r.Header.Set("X-CSRF-TOKEN", csrf)
		}
		return serve(r)
	}
	if w := post(""); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "csrf") {
		t.Errorf("without CSRF: %d %s", w.Code, w.Body)
	}
	if w := post(cookies["csrf_access_token"].Value); w.Code != http.StatusOK || w.Body.String() != "sent by dave" {
		t.Errorf("with CSRF: %d %s", w.Code, w.Body)
	}
	for path, want := range map[string]int{"/logout": 4, "/logout/access": 2, "/logout/refresh": 2} {
		w := serve(httptest.NewRequest("POST", path, nil))
		n := 0
		for _, ck := range w.Result().Cookies() {
			if ck.MaxAge < 0 && ck.Value == "" {
				n++
			}
		}
		if n != want {
			t.Errorf("%s expired %d cookies, want %d: %v", path, n, want, w.Result().Cookies())
		}
	}
}
