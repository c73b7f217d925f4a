package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
)

// adminClientsFixture is adminFixture with a client registry in the
// fixture's database, and the client "svc" (scope read) with its secret.
func adminClientsFixture(t *testing.T) (f *fixture, root, svcID, svcSecret string) {
	t.Helper()
	f, _ = newFixtureWith(t, nil, func(c *Config) {
		u := c.Users.(*SQLUsers)
		c.Clients = &SQLClients{db: u.db, dialect: u.dialect}
		c.Scopes = []string{"read", "write"}
	})
	ctx := context.Background()
	if err := f.s.accounts.AddUser(ctx, CLIActor, "root", testPassword, true); err != nil {
		t.Fatal(err)
	}
	root, _ = f.login(t, "root", testPassword)
	c := &Client{Name: "svc", Scopes: []string{"read"}}
	secret, err := f.s.accounts.AddClient(ctx, CLIActor, c)
	if err != nil {
		t.Fatal(err)
	}
	return f, root, c.ID, secret
}

// clientToken asks /oauth/token for a client_credentials token with
// client_secret_basic.
func (f *fixture) clientToken(t *testing.T, id, secret, scope string) reply {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	return f.do(t, "POST", "/oauth/token", "application/x-www-form-urlencoded", form.Encode(), "Authorization", basic)
}

// adminClientEndpoints are the client endpoints of the admin API, with
// a body that would be accepted.
var adminClientEndpoints = []struct {
	method, path, body string
	change             bool
}{
	{"GET", "/admin/clients", "", false},
	{"POST", "/admin/clients", `{"name":"new","scopes":["read"]}`, true},
	{"GET", "/admin/clients/svc", "", false},
	{"PATCH", "/admin/clients/svc", `{"scopes":["read","write"]}`, true},
	{"POST", "/admin/clients/svc/rotate-secret", `{"grace":0}`, true},
	{"DELETE", "/admin/clients/svc", "", true},
}

// TestAdminClientsRefusals: an ordinary user gets 403; no token, 401; an
// admin's token that is not fresh reads but changes nothing, nor does a
// cookie request without its CSRF header; and nothing was changed.
func TestAdminClientsRefusals(t *testing.T) {
	f, _, svcID, svcSecret := adminClientsFixture(t)
	alice, _ := f.login(t, "alice", testPassword)
	_, rootRefresh := f.login(t, "root", testPassword)
	stale, _ := f.refresh(t, rootRefresh)
	c := f.cookieLoginAs(t, "root")
	noCSRF := []string{"Cookie", c.header("access_token_cookie", "csrf_access_token")}
	for _, e := range adminClientEndpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			ctype := ""
			if e.body != "" {
				ctype = "application/json"
			}
			wantStatus(t, "ordinary user", f.do(t, e.method, e.path, ctype, e.body, bearer(alice)...), 403)
			wantStatus(t, "no token", f.do(t, e.method, e.path, ctype, e.body), 401)
			r := f.do(t, e.method, e.path, ctype, e.body, bearer(stale)...)
			if e.change {
				wantStatus(t, "not fresh", r, 401)
				if !strings.Contains(strings.ToLower(r.raw), "fresh") {
					t.Errorf("not fresh: %s, want it said", r.raw)
				}
				r = f.do(t, e.method, e.path, ctype, e.body, noCSRF...)
				if r.status != 401 && r.status != 403 {
					t.Errorf("cookie without CSRF: %d %s, want a refusal", r.status, r.raw)
				}
			} else {
				wantStatus(t, "read with a token that is not fresh", r, 200)
				wantStatus(t, "read by cookie without CSRF", f.do(t, e.method, e.path, "", "", noCSRF...), 200)
			}
		})
	}
	ctx := context.Background()
	cl, err := f.data.Clients.Find(ctx, "svc")
	if err != nil || !slices.Equal(cl.Scopes, []string{"read"}) || !cl.CheckSecret(svcSecret, f.s.cfg.Clock()) {
		t.Errorf("svc after refused changes: %+v %v", cl, err)
	}
	if _, err := f.data.Clients.Find(ctx, "new"); err == nil {
		t.Error("the client new was added by a refused request")
	}
	wantStatus(t, "svc's token", f.clientToken(t, svcID, svcSecret, ""), 200)
	changes, err := f.data.Audit.Events(ctx, AuditFilter{Type: "client."})
	if err != nil || len(changes) != 1 || changes[0].Type != evClientAdd {
		t.Errorf("client events: %+v (%v), want svc's add only", changes, err)
	}
}

// TestAdminClientsStoreDown: with the database closed, every client
// endpoint answers 503.
func TestAdminClientsStoreDown(t *testing.T) {
	f, root, _, _ := adminClientsFixture(t)
	f.data.DB.Close()
	for _, e := range adminClientEndpoints {
		ctype := ""
		if e.body != "" {
			ctype = "application/json"
		}
		r := f.do(t, e.method, e.path, ctype, e.body, bearer(root)...)
		if r.status != 503 || r.body["error"] != "temporarily_unavailable" {
			t.Errorf("%s %s with the store down: %d %s, want 503", e.method, e.path, r.status, r.raw)
		}
	}
}

// publicJWKS returns a JWK Set of a new EC public key.
func publicJWKS(t *testing.T) string {
	t.Helper()
	k, err := jwk.GenerateEC("P-256")
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.NewSet(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAdminClients: add (bad bodies refused), list with paging, show,
// update, rotate the secret, delete; the one-time secret works at
// /oauth/token and is in no later answer nor in the audit log; markup
// in a name comes back as the same JSON string.
func TestAdminClients(t *testing.T) {
	f, root, _, svcSecret := adminClientsFixture(t)
	const markup = `<script>alert(1)</script>`
	jwks := publicJWKS(t)
	for _, c := range []struct {
		name, ctype, body string
		status            int
	}{
		{"markup name", "application/json", `{"name":` + jsonString(markup) + `,"scopes":["read"]}`, 201},
		{"keys only", "application/json", `{"name":"keyed","scopes":["read"],"jwks":` + jwks + `}`, 201},
		{"taken", "application/json", `{"name":"svc"}`, 409},
		{"no name", "application/json", `{"scopes":["read"]}`, 400},
		{"name with spaces around", "application/json", `{"name":" x "}`, 400},
		{"scope with a space", "application/json", `{"name":"x","scopes":["a b"]}`, 400},
		{"scopes not a list", "application/json", `{"name":"x","scopes":"read"}`, 400},
		{"relative audience", "application/json", `{"name":"x","audiences":["/api"]}`, 400},
		{"ttl too long", "application/json", `{"name":"x","ttl":90000}`, 400},
		{"negative ttl", "application/json", `{"name":"x","ttl":-1}`, 400},
		{"ttl not a number", "application/json", `{"name":"x","ttl":"5m"}`, 400},
		{"jwks not an object", "application/json", `{"name":"x","jwks":"keys"}`, 400},
		{"jwks with a secret key", "application/json", `{"name":"x","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}}`, 400},
		{"jwks and jwks_uri", "application/json", `{"name":"x","jwks":` + jwks + `,"jwks_uri":"https://keys.example/jwks"}`, 400},
		{"jwks_uri over http", "application/json", `{"name":"x","jwks_uri":"http://keys.example/jwks"}`, 400},
		{"unknown member", "application/json", `{"name":"x","secret":"mine"}`, 400},
		{"not JSON", "application/json", `{"name":`, 400},
		{"not an object", "application/json", `"x"`, 400},
		{"text", "text/plain", `{"name":"x"}`, 415},
		{"huge", "application/json", `{"name":"` + strings.Repeat("x", 65<<10) + `"}`, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(t, "POST", "/admin/clients", c.ctype, c.body, bearer(root)...)
			wantStatus(t, c.name, r, c.status)
			if r.status >= 400 && r.body["error"] == nil {
				t.Errorf("%s: %s, want a JSON error", c.name, r.raw)
			}
		})
	}

	// Add answers the secret once, with no-store; it works at once.
	r := f.do(t, "POST", "/admin/clients", "application/json",
		`{"name":"billing","scopes":["read","write"],"audiences":["https://api.example"],"ttl":300,"refresh":true}`, bearer(root)...)
	wantStatus(t, "add billing", r, 201)
	secret, _ := r.body["client_secret"].(string)
	cl, _ := r.body["client"].(map[string]any)
	id, _ := cl["client_id"].(string)
	if !strings.HasPrefix(secret, "jcs_") || !strings.HasPrefix(id, "jc_") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("add billing: %s %v", r.raw, r.header)
	}
	if cl["ttl"] != float64(300) || cl["refresh"] != true || cl["disabled"] != false ||
		!slices.Equal(anyStrings(cl["auth_methods"]), []string{"client_secret_basic", "client_secret_post"}) {
		t.Errorf("billing: %s", r.raw)
	}
	tok := f.clientToken(t, id, secret, "write")
	wantStatus(t, "billing's token", tok, 200)
	if tok.body["scope"] != "write" || tok.body["refresh_token"] == nil {
		t.Errorf("billing's token: %s", tok.raw)
	}
	wantStatus(t, "a wrong secret", f.clientToken(t, id, svcSecret, ""), 401)
	secrets := []string{secret, svcSecret, HashClientSecret(secret), HashClientSecret(svcSecret)}
	noSecret := func(what string, r reply) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(r.raw, s) {
				t.Errorf("%s holds a secret or its hash: %s", what, r.raw)
			}
		}
	}

	// The keys-only client: no secret, its keys shown.
	r = f.do(t, "GET", "/admin/clients/keyed", "", "", bearer(root)...)
	wantStatus(t, "show keyed", r, 200)
	if k, _ := r.body["client"].(map[string]any); k["jwks"] == nil || !slices.Equal(anyStrings(k["auth_methods"]), []string{"private_key_jwt"}) {
		t.Errorf("keyed: %s", r.raw)
	}

	// List, by name ('<' sorts first), paged; names are JSON strings.
	type clientsPage struct {
		Clients []clientJSON `json:"clients"`
		Next    *string      `json:"next"`
	}
	list := func(q string) (clientsPage, reply) {
		r := f.do(t, "GET", "/admin/clients"+q, "", "", bearer(root)...)
		wantStatus(t, "list "+q, r, 200)
		var p clientsPage
		if err := json.Unmarshal([]byte(r.raw), &p); err != nil {
			t.Fatal(err)
		}
		return p, r
	}
	names := func(p clientsPage) string {
		var n []string
		for _, c := range p.Clients {
			n = append(n, c.Name)
		}
		return strings.Join(n, ",")
	}
	all, raw := list("")
	if names(all) != markup+",billing,keyed,svc" || all.Next != nil {
		t.Errorf("clients: %q", names(all))
	}
	noSecret("the list", raw)
	if strings.Contains(raw.raw, "<script>") {
		t.Errorf("the list holds markup unescaped: %s", raw.raw)
	}
	var pages []string
	after := ""
	for range 5 {
		p, _ := list("?limit=3&after=" + url.QueryEscape(after))
		pages = append(pages, names(p))
		if p.Next == nil {
			break
		}
		after = *p.Next
	}
	if got := strings.Join(pages, "|"); got != markup+",billing,keyed|svc" {
		t.Errorf("pages of 3: %q", got)
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?limit=x", "?after=" + strings.Repeat("x", 300)} {
		wantStatus(t, "list "+q, f.do(t, "GET", "/admin/clients"+q, "", "", bearer(root)...), 400)
	}
	r = f.do(t, "GET", "/admin/clients/"+url.PathEscape(markup), "", "", bearer(root)...)
	if c, _ := r.body["client"].(map[string]any); r.status != 200 || c["name"] != markup {
		t.Errorf("show the markup client: %d %s", r.status, r.raw)
	}
	r = f.do(t, "GET", "/admin/clients/"+id, "", "", bearer(root)...)
	wantStatus(t, "show billing by id", r, 200)
	noSecret("show", r)
	wantStatus(t, "show a missing client", f.do(t, "GET", "/admin/clients/nobody", "", "", bearer(root)...), 404)

	// Update: only the members given; bad values refused.
	for _, c := range []struct {
		name, path, body string
		status           int
		changed          []string
	}{
		{"scopes", "/admin/clients/billing", `{"scopes":["read"]}`, 200, []string{"scopes"}},
		{"same again", "/admin/clients/billing", `{"scopes":["read"]}`, 200, []string{}},
		{"ttl and refresh", "/admin/clients/" + id, `{"ttl":0,"refresh":false}`, 200, []string{"ttl", "refresh"}},
		{"audiences", "/admin/clients/billing", `{"audiences":[]}`, 200, []string{"audiences"}},
		{"bad scope", "/admin/clients/billing", `{"scopes":["a\"b"]}`, 400, nil},
		{"bad ttl", "/admin/clients/billing", `{"ttl":86401}`, 400, nil},
		{"name taken", "/admin/clients/billing", `{"name":"svc"}`, 409, nil},
		{"no keys nor secret", "/admin/clients/keyed", `{"jwks_uri":""}`, 400, nil},
		{"an empty key set", "/admin/clients/keyed", `{"jwks":{}}`, 400, nil},
		{"unknown member", "/admin/clients/billing", `{"secret_hash":"00"}`, 400, nil},
		{"not JSON", "/admin/clients/billing", `{`, 400, nil},
		{"missing client", "/admin/clients/nobody", `{"disabled":true}`, 404, nil},
	} {
		r := f.do(t, "PATCH", c.path, "application/json", c.body, bearer(root)...)
		wantStatus(t, "update: "+c.name, r, c.status)
		if c.changed != nil && !slices.Equal(anyStrings(r.body["changed"]), c.changed) {
			t.Errorf("update %s: %s, want changed %v", c.name, r.raw, c.changed)
		}
		noSecret("update", r)
	}
	wantStatus(t, "write after the update", f.clientToken(t, id, secret, "write"), 400)
	if tok := f.clientToken(t, id, secret, ""); tok.status != 200 || tok.body["scope"] != "read" || tok.body["refresh_token"] != nil {
		t.Errorf("billing's token after the update: %d %s", tok.status, tok.raw)
	}

	// Disable: refused at once on this instance, its tokens revoked;
	// enable.
	wantStatus(t, "disable", f.do(t, "PATCH", "/admin/clients/billing", "application/json", `{"disabled":true}`, bearer(root)...), 200)
	wantStatus(t, "disabled client's token", f.clientToken(t, id, secret, ""), 401)
	if cut, err := f.data.Revocations.SubjectCutoff(context.Background(), id); err != nil || cut.IsZero() {
		t.Errorf("disabled client's tokens not revoked: %v %v", cut, err)
	}
	wantStatus(t, "enable", f.do(t, "PATCH", "/admin/clients/billing", "application/json", `{"disabled":false}`, bearer(root)...), 200)

	// Rotate: the new secret and, within the grace, the old one work;
	// with no grace the replaced one stops at once.
	for _, body := range []string{`{"grace":-1}`, `{"grace":2592001}`, `{"grace":"1h"}`, `{"grace":1,"now":true}`} {
		wantStatus(t, "rotate "+body, f.do(t, "POST", "/admin/clients/billing/rotate-secret", "application/json", body, bearer(root)...), 400)
	}
	wantStatus(t, "rotate a missing client", f.do(t, "POST", "/admin/clients/nobody/rotate-secret", "", "", bearer(root)...), 404)
	r = f.do(t, "POST", "/admin/clients/billing/rotate-secret", "", "", bearer(root)...)
	wantStatus(t, "rotate", r, 200)
	second, _ := r.body["client_secret"].(string)
	if second == "" || second == secret || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %s", r.raw)
	}
	if c, _ := r.body["client"].(map[string]any); c["previous_secret_until"] == nil {
		t.Errorf("rotate: %s, want previous_secret_until", r.raw)
	}
	secrets = append(secrets, second, HashClientSecret(second))
	wantStatus(t, "new secret", f.clientToken(t, id, second, ""), 200)
	wantStatus(t, "old secret within the grace", f.clientToken(t, id, secret, ""), 200)
	r = f.do(t, "POST", "/admin/clients/billing/rotate-secret", "application/json", `{"grace":0}`, bearer(root)...)
	wantStatus(t, "rotate without grace", r, 200)
	third, _ := r.body["client_secret"].(string)
	secrets = append(secrets, third, HashClientSecret(third))
	wantStatus(t, "replaced secret", f.clientToken(t, id, second, ""), 401)
	wantStatus(t, "third secret", f.clientToken(t, id, third, ""), 200)
	r = f.do(t, "GET", "/admin/clients/billing", "", "", bearer(root)...)
	noSecret("show after the rotations", r)

	// Delete.
	r = f.do(t, "DELETE", "/admin/clients/billing", "", "", bearer(root)...)
	wantStatus(t, "delete", r, 200)
	if r.body["deleted"] != id {
		t.Errorf("delete: %s", r.raw)
	}
	wantStatus(t, "deleted client's token", f.clientToken(t, id, third, ""), 401)
	wantStatus(t, "delete again", f.do(t, "DELETE", "/admin/clients/billing", "", "", bearer(root)...), 404)

	// The audit log: every change, root as actor, never a secret.
	r = f.do(t, "GET", "/admin/audit?type=client.&limit=100", "", "", bearer(root)...)
	wantStatus(t, "client events", r, 200)
	noSecret("the audit log", r)
	if strings.Contains(r.raw, "jcs_") {
		t.Errorf("the audit log holds a secret: %s", r.raw)
	}
	var p struct {
		Events []auditJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.raw), &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range slices.Backward(p.Events) {
		if e.Subject != id {
			continue
		}
		ch, _ := json.Marshal(e.Details["changed"])
		got = append(got, e.Type+" "+e.Actor+" "+e.Outcome+" "+string(ch))
	}
	want := []string{
		"client.add root success null",
		"client.auth_failure  failure null",
		"client.update root success [\"scopes\"]",
		"client.update root success [\"ttl\",\"refresh\"]",
		"client.update root success [\"audiences\"]",
		"client.update root success [\"disabled\"]",
		"client.auth_failure  failure null",
		"client.update root success [\"disabled\"]",
		"client.rotate_secret root success null",
		"client.rotate_secret root success null",
		"client.auth_failure  failure null",
		"client.delete root success null",
		"client.auth_failure  failure null",
	}
	if !slices.Equal(got, want) {
		t.Errorf("billing's events, oldest first:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range p.Events {
		if e.Subject == id && e.Type != evClientAuthFailure && e.Details["name"] != "billing" {
			t.Errorf("event %s without the client's name: %+v", e.Type, e)
		}
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestClientChangesKeepEachOther: an update made from a client read
// before a rotation keeps the new secret; of two rotations at once, both
// secrets answered work (the first as the previous one, within the
// grace); a rotation from a stale read is refused by the store.
func TestClientChangesKeepEachOther(t *testing.T) {
	f, _, svcID, _ := adminClientsFixture(t)
	ctx := context.Background()
	a, cs := f.s.accounts, f.s.accounts.Clients
	stale, err := cs.Find(ctx, svcID)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.RotateClientSecret(ctx, CLIActor, "svc", 0)
	if err != nil {
		t.Fatal(err)
	}
	stale.Scopes = []string{"read", "write"}
	if err := cs.setFields(ctx, cs.db, stale, []string{"scopes"}); err != nil {
		t.Fatal(err)
	}
	now := f.s.cfg.Clock()
	c, err := cs.Find(ctx, svcID)
	if err != nil || !c.CheckSecret(secret, now) || !slices.Equal(c.Scopes, stale.Scopes) {
		t.Fatalf("after a stale update: %+v %v, want the rotated secret and both scopes", c, err)
	}
	if _, err := stale.rotateSecret(0, now); err != nil {
		t.Fatal(err)
	}
	if err := cs.setSecret(ctx, cs.db, stale, HashClientSecret("not the stored one")); !errors.Is(err, errSecretChanged) {
		t.Errorf("a rotation from a stale read: %v, want errSecretChanged", err)
	}

	var wg sync.WaitGroup
	secrets := make([]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { _, secrets[i], errs[i] = a.RotateClientSecret(ctx, CLIActor, svcID, time.Hour) })
	}
	wg.Wait()
	c, err = cs.Find(ctx, svcID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if errs[i] != nil || !c.CheckSecret(secrets[i], now) {
			t.Errorf("rotation %d at once: %v; its secret works: %t", i, errs[i], c.CheckSecret(secrets[i], now))
		}
	}
	if c.CheckSecret(secret, now) {
		t.Error("the secret before both rotations still works")
	}
}
