package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// jwksKids returns the sorted kids of the server's JWKS.
func jwksKids(t *testing.T, url string) []string {
	t.Helper()
	a := expect(t, "jwks", call(t, "GET", url+"/.well-known/jwks.json", "", ""), 200)
	keys, _ := a.body["keys"].([]any)
	var kids []string
	for _, k := range keys {
		kid, _ := k.(map[string]any)["kid"].(string)
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

// tokenKid returns the kid in the header of a JWS compact token.
func tokenKid(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr.Kid == "" {
		t.Fatalf("token header %s: %v", raw, err)
	}
	return hdr.Kid
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestKeysRotate rotates the signing key of a stopped server's data
// directory: tokens of the old key still verify, new tokens carry the new
// kid and the JWKS lists both, until the old key retires.
func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd); r.code == 0 {
		t.Fatalf("rotated a missing data directory: %s", r.stdout)
	}
	args := []string{"-data-dir", dd, "-issuer", "http://jwtgate.test"}
	p := startServe(t, nil, args...)
	pw := logField(p.Logs(), "password", "username=admin")
	creds := `{"username":"admin","password":"` + pw + `"}`
	kid0 := jwksKid(t, p.url)
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200)
	acc0, ref0 := str(login, "access_token"), str(login, "refresh_token")
	if tokenKid(t, acc0) != kid0 {
		t.Fatalf("token kid %s, JWKS kid %s", tokenKid(t, acc0), kid0)
	}
	p.stop(t)

	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd, "--alg", "EdDSA"); r.code == 0 {
		t.Fatalf("rotated to another algorithm: %s", r.stdout)
	}
	out := mustRun(t, dir, "", "keys", "rotate", "--data-dir", dd)
	kid1, _, _ := strings.Cut(strings.TrimPrefix(out, "new signing key "), "\n")
	if kid1 == "" || kid1 == kid0 || !strings.Contains(out, "old key "+kid0+" verifies until") {
		t.Fatalf("keys rotate: %q", out)
	}
	for _, f := range []string{"signing-key.pem", "keys.json", filepath.Join("keys", kid1+".pem")} {
		if fi, err := os.Stat(filepath.Join(dd, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}

	p = startServe(t, nil, args...)
	if got := jwksKids(t, p.url); !slices.Equal(got, sorted(kid0, kid1)) {
		t.Fatalf("JWKS after rotation: %v, want %s and %s", got, kid0, kid1)
	}
	expect(t, "token of the old key", call(t, "GET", p.url+"/userinfo", acc0, ""), 200)
	ref := expect(t, "refresh token of the old key", call(t, "POST", p.url+"/refresh", ref0, ""), 200)
	acc1 := str(expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200), "access_token")
	for _, tok := range []string{acc1, str(ref, "access_token"), str(ref, "refresh_token")} {
		if k := tokenKid(t, tok); k != kid1 {
			t.Fatalf("new token signed by %s, want %s", k, kid1)
		}
	}
	expect(t, "token of the new key", call(t, "GET", p.url+"/userinfo", acc1, ""), 200)
	p.stop(t)

	// Rotate again, retiring kid1 at once: kid0 still verifies until its
	// own retire time, kid1 is not loaded any more.
	out = mustRun(t, dir, "", "keys", "rotate", "--data-dir", dd, "--retire-after", "0s")
	kid2, _, _ := strings.Cut(strings.TrimPrefix(out, "new signing key "), "\n")
	p = startServe(t, nil, args...)
	if got := jwksKids(t, p.url); !slices.Equal(got, sorted(kid0, kid2)) {
		t.Fatalf("JWKS after the second rotation: %v, want %s and %s", got, kid0, kid2)
	}
	expect(t, "token of the retired key", call(t, "GET", p.url+"/userinfo", acc1, ""), 401)
	expect(t, "token of the first key", call(t, "GET", p.url+"/userinfo", acc0, ""), 200)
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dd, "keys", kid1+".pem")); err != nil {
		t.Fatalf("the retired key file was lost: %v", err)
	}

	r := jwtgate(t, dir, "", "keys", "rotate", "--help")
	for _, want := range []string{"--retire-after", "720h0m0s", "-data-dir", "JWTGATE_DATA_DIR", "-alg"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("keys rotate --help (exit %d) does not list %q:\n%s", r.code, want, r.stdout)
		}
	}
	if r := jwtgate(t, dir, "", "keys", "rotate", "--data-dir", dd, "--retire-after", "-1h"); r.code != exitUsage {
		t.Errorf("negative --retire-after: exit %d", r.code)
	}
}

// decodeClaims returns the claims of a JWS compact token, unverified.
func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact token: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("token payload %s: %v", raw, err)
	}
	return c
}
