package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// formCall posts a form to an OAuth endpoint, with Basic credentials
// when id is set.
func formCall(t *testing.T, endpoint string, form url.Values, id, secret string) answer {
	t.Helper()
	a, err := tryForm(endpoint, form, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryForm is formCall for goroutines: it reports a failed request as an
// error instead of failing the test.
func tryForm(endpoint string, form url.Values, id, secret string) (answer, error) {
	req, err := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a, nil
}

// field returns the value of "name: value" in a command's output.
func field(out, name string) string {
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+": "); ok {
			return v
		}
	}
	return ""
}

// clientKey makes an ES256 key and writes its public JWK Set to a file.
func clientKey(t *testing.T, dir string) (*jwt.Key, string) {
	t.Helper()
	k, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	if k, err = jwk.EnsureKeyID(k); err != nil {
		t.Fatal(err)
	}
	set, err := jwk.NewSet(k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "client.jwks")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return k, file
}

// clientAssertion signs a private_key_jwt assertion for client id.
func clientAssertion(t *testing.T, k *jwt.Key, id, aud, jti string) string {
	t.Helper()
	s, err := jwt.NewSigner(k, jwt.ES256, jwt.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(map[string]any{"iss": id, "sub": id, "aud": aud, "jti": jti, "exp": time.Now().Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClientsCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out := mustRun(t, dir, "", "clients", "add", "billing", "--data-dir", data, "--scopes", "read,write", "--audience", "https://api.example")
	id, secret := field(out, "client_id"), field(out, "client_secret")
	if !strings.HasPrefix(id, "jc_") || !strings.HasPrefix(secret, "jcs_") || len(secret) != 4+43 {
		t.Fatalf("clients add: %q", out)
	}
	_, jwks := clientKey(t, dir)
	out = mustRun(t, dir, "", "clients", "add", "cron", "--data-dir", data, "--scopes", "read", "--jwks", jwks, "--ttl", "5m")
	keysID := field(out, "client_id")
	if keysID == "" || field(out, "client_secret") != "" {
		t.Fatalf("clients add --jwks: %q", out)
	}
	if r := jwtgate(t, dir, "", "clients", "add", "billing", "--data-dir", data, "--scopes", "x"); r.code != exitRejected {
		t.Errorf("a second client named billing: exit %d %s", r.code, r.stderr)
	}
	for _, bad := range [][]string{{"--scopes", "a b"}, {"--audience", "/relative"}, {"--jwks-uri", "http://x.example/k"}, {"--ttl", "100h"}} {
		if r := jwtgate(t, dir, "", append([]string{"clients", "add", "bad", "--data-dir", data}, bad...)...); r.code != exitUsage {
			t.Errorf("clients add %v: exit %d %s", bad, r.code, r.stderr)
		}
	}
	list := mustRun(t, dir, "", "clients", "list", "--data-dir", data)
	if !strings.Contains(list, id+"\tbilling\tenabled\tread write") || !strings.Contains(list, keysID+"\tcron") {
		t.Errorf("clients list: %q", list)
	}
	show := mustRun(t, dir, "", "clients", "show", "billing", "--data-dir", data)
	if field(show, "client_id") != id || field(show, "audiences") != "https://api.example" || strings.Contains(show, secret) {
		t.Errorf("clients show: %q", show)
	}
	mustRun(t, dir, "", "clients", "update", id, "--data-dir", data, "--scopes", "read")
	out = mustRun(t, dir, "", "clients", "rotate-secret", "billing", "--data-dir", data, "--grace", "1h")
	newSecret := field(out, "client_secret")
	if newSecret == "" || newSecret == secret {
		t.Fatalf("rotate-secret: %q", out)
	}

	p := startServe(t, nil, "-data-dir", data, "-scopes", "read,write")
	meta := expect(t, "metadata", call(t, "GET", p.url+"/.well-known/oauth-authorization-server", "", ""), 200)
	if s, _ := meta.body["scopes_supported"].([]any); len(s) != 2 || s[0] != "read" || s[1] != "write" || str(meta, "token_endpoint") != p.url+"/oauth/token" {
		t.Errorf("metadata: %s", meta.raw)
	}
	tokenURL := p.url + "/oauth/token"
	for _, s := range []string{secret, newSecret} {
		a := expect(t, "token", formCall(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, id, s), 200)
		claims := decodeClaims(t, str(a, "access_token"))
		if claims["scope"] != "read" || claims["aud"] != "https://api.example" || claims["client_id"] != id {
			t.Errorf("token claims %v", claims)
		}
	}
	expect(t, "wrong secret", formCall(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, id, "jcs_wrong"), 401)
	mustRun(t, dir, "", "clients", "update", "cron", "--data-dir", data, "--disabled")
	mustRun(t, dir, "", "clients", "delete", "billing", "--data-dir", data)
	if r := jwtgate(t, dir, "", "clients", "show", "billing", "--data-dir", data); r.code != exitRejected {
		t.Errorf("show after delete: exit %d", r.code)
	}
	p.stop(t)

	// Every change is audited as the command's, with the client's id and
	// name and never a secret or its hash; the refused secret too.
	d, err := server.OpenDataDir(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	events, err := d.Audit.Events(context.Background(), server.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range slices.Backward(events) {
		if !strings.HasPrefix(e.Type, "client.") {
			continue
		}
		b, _ := json.Marshal(e)
		for _, s := range []string{secret, newSecret, server.HashClientSecret(secret), server.HashClientSecret(newSecret), "jcs_"} {
			if strings.Contains(string(b), s) {
				t.Errorf("event %s holds a secret or its hash: %s", e.Type, b)
			}
		}
		got = append(got, fmt.Sprintf("%s %s %s %v %v", e.Type, e.Actor, e.Subject, e.Details["name"], e.Details["changed"]))
	}
	want := []string{
		"client.add cli " + id + " billing <nil>",
		"client.add cli " + keysID + " cron <nil>",
		"client.update cli " + id + " billing [scopes]",
		"client.rotate_secret cli " + id + " billing <nil>",
		"client.auth_failure  " + id + " <nil> <nil>",
		"client.update cli " + keysID + " cron [disabled]",
		"client.delete cli " + id + " billing <nil>",
	}
	if !slices.Equal(got, want) {
		t.Errorf("client events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOAuthTwoInstances runs two instances sharing PostgreSQL and Redis:
// a client's refresh token from A rotates on B and its reuse on A ends
// the session on both; a client's token issued by A is active on B,
// revoked on A and then inactive on B; a private_key_jwt assertion used
// on A is refused on B.
func TestOAuthTwoInstances(t *testing.T) {
	env := sharedStores(t)
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	out := runEnv(t, dir, env, "", "clients", "add", "svc", "--data-dir", unused, "--scopes", "read")
	id, secret := field(out.stdout, "client_id"), field(out.stdout, "client_secret")
	if out.code != 0 || id == "" || secret == "" {
		t.Fatalf("clients add: %d %s %s", out.code, out.stdout, out.stderr)
	}
	key, jwks := clientKey(t, dir)
	out = runEnv(t, dir, env, "", "clients", "add", "keyed", "--data-dir", unused, "--scopes", "read", "--jwks", jwks)
	keysID := field(out.stdout, "client_id")
	if out.code != 0 || keysID == "" {
		t.Fatalf("clients add --jwks: %d %s", out.code, out.stderr)
	}
	out = runEnv(t, dir, env, "", "clients", "add", "refresher", "--data-dir", unused, "--scopes", "read", "--refresh")
	refID, refSecret := field(out.stdout, "client_id"), field(out.stdout, "client_secret")
	if out.code != 0 || refID == "" {
		t.Fatalf("clients add --refresh: %d %s", out.code, out.stderr)
	}
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h"}
	a := startServe(t, env, args...)
	b := startServe(t, env, args...)

	// A refresh token from A is rotated on B; the spent one, presented
	// again on A, ends the session on both.
	first := expect(t, "refresher on A", formCall(t, a.url+"/oauth/token", url.Values{"grant_type": {"client_credentials"}}, refID, refSecret), 200)
	r1 := str(first, "refresh_token")
	second := expect(t, "refresh on B", formCall(t, b.url+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}, refID, refSecret), 200)
	r2 := str(second, "refresh_token")
	if reuse := expect(t, "reuse on A", formCall(t, a.url+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}}, refID, refSecret), 400); str(reuse, "error") != "invalid_grant" {
		t.Errorf("reuse on A: %s", reuse.raw)
	}
	expect(t, "the rotated token on B after reuse", formCall(t, b.url+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2}}, refID, refSecret), 400)

	tok := str(expect(t, "token on A", formCall(t, a.url+"/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, secret), 200), "access_token")
	in := expect(t, "introspect on B", formCall(t, b.url+"/oauth/introspect", url.Values{"token": {tok}}, id, secret), 200)
	if in.body["active"] != true || in.body["client_id"] != id || in.body["scope"] != "read" {
		t.Fatalf("introspection on B: %s", in.raw)
	}
	expect(t, "revoke on A", formCall(t, a.url+"/oauth/revoke", url.Values{"token": {tok}}, id, secret), 200)
	awaitRefused(t, "introspection on B after revocation on A", func() answer {
		r := formCall(t, b.url+"/oauth/introspect", url.Values{"token": {tok}}, id, secret)
		if r.status == 200 && r.raw == "{\"active\":false}\n" {
			r.status = 401 // what awaitRefused waits for
		}
		return r
	})

	meta := expect(t, "metadata", call(t, "GET", b.url+"/.well-known/oauth-authorization-server", "", ""), 200)
	methods, _ := meta.body["token_endpoint_auth_methods_supported"].([]any)
	if !slices.Contains(methods, any("private_key_jwt")) {
		t.Fatalf("private_key_jwt is not offered on PostgreSQL + Redis: %v", methods)
	}
	assertion := clientAssertion(t, key, keysID, "https://auth.example/oauth/token", rand.Text())
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {assertion}}
	expect(t, "assertion on A", formCall(t, a.url+"/oauth/token", form, "", ""), 200)
	r := expect(t, "assertion replayed on B", formCall(t, b.url+"/oauth/token", form, "", ""), 401)
	if str(r, "error") != "invalid_client" {
		t.Errorf("replay on B: %s", r.raw)
	}
}
