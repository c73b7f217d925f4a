package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// claimsOf decodes a token's header and claims, unverified.
func claimsOf(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	seg := strings.Split(tok, ".")
	if len(seg) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(seg[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestServeAudience(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, []string{"JWTGATE_AUDIENCE=https://api.example"}, "-data-dir", filepath.Join(dir, "data"), "-issuer", "https://id.example")
	pw := logField(p.Logs(), "password", "username=admin")
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200)
	ah, ac := claimsOf(t, str(login, "access_token"))
	rh, rc := claimsOf(t, str(login, "refresh_token"))
	if ah["typ"] != "at+jwt" || ac["aud"] != "https://api.example" || ac["iss"] != "https://id.example" {
		t.Errorf("access token %v %v", ah, ac)
	}
	if rh["typ"] != "refresh+jwt" || rc["aud"] != "https://id.example/refresh" {
		t.Errorf("refresh token %v %v", rh, rc)
	}
	expect(t, "userinfo", call(t, "GET", p.url+"/userinfo", str(login, "access_token"), ""), 200)
	expect(t, "userinfo with the refresh token", call(t, "GET", p.url+"/userinfo", str(login, "refresh_token"), ""), 401)
	p.stop(t)

	r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "data"),
		"-issuer", "https://id.example", "-audience", "https://id.example/refresh")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--audience") {
		t.Errorf("serve with the refresh endpoint as audience: exit %d, %q", r.code, r.stderr)
	}
	// The pages' settings are checked before anything is opened.
	for _, c := range []struct{ flag, value, want string }{
		{"-ui-accent", "#eeeeee", "contrast of 1.16:1"},
		{"-ui-logo", "javascript:alert(1)", "absolute http or https URL"},
		{"-ui-templates", filepath.Join(dir, "none"), "signin.html"},
	} {
		r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "ui-data"), c.flag, c.value)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("serve %s %s: exit %d, %q", c.flag, c.value, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "ui-data")); err == nil {
			t.Errorf("serve %s %s made its data directory", c.flag, c.value)
		}
	}
}

// TestServeLogoutAllThenLogin: on the real service, a login right after
// POST /logout/all works and a token from before it is refused, every
// time.
func TestServeLogoutAllThenLogin(t *testing.T) {
	p := startServe(t, nil, "-data-dir", filepath.Join(t.TempDir(), "data"), "-login-burst", "-1")
	creds := `{"username":"admin","password":"` + logField(p.Logs(), "password", "username=admin") + `"}`
	const tries = 15
	var worked, refused int
	for range tries {
		old := str(expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200), "access_token")
		expect(t, "logout/all", call(t, "POST", p.url+"/logout/all", old, ""), 200)
		fresh := str(expect(t, "login after logout/all", call(t, "POST", p.url+"/login", "", creds), 200), "access_token")
		if call(t, "GET", p.url+"/userinfo", fresh, "").status == 200 {
			worked++
		}
		if call(t, "GET", p.url+"/userinfo", old, "").status == 401 {
			refused++
		}
	}
	p.stop(t)
	if worked != tries || refused != tries {
		t.Fatalf("of %d tries: %d logins right after /logout/all worked, %d tokens from before were refused", tries, worked, refused)
	}
}
