package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/revoke"
)

// adminService is a service with an administrator (root), a client
// registry and a few records, on one kind of store.
type adminService struct {
	name string
	f    *fixture
	root string // root's access token
}

// adminServices returns the service on the data directory (SQLite) and,
// when PostgreSQL can be reached (tryPostgres), on PostgreSQL: users,
// clients, sessions, audit log and revocations in its database.
func adminServices(t testing.TB) []adminService {
	t.Helper()
	out := []adminService{newAdminService(t, "sqlite", nil)}
	if dsn, ok := tryPostgres(t); ok {
		st, err := Open(context.Background(), StoreConfig{DatabaseURL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out = append(out, newAdminService(t, "postgres", st))
	}
	return out
}

func newAdminService(t testing.TB, name string, st *Stores) adminService {
	t.Helper()
	var rev revoke.Store
	if st != nil {
		rev = st.Revocations
	}
	f, _ := newFixtureWith(t, rev, func(c *Config) {
		if st != nil {
			c.Users, c.Clients, c.Sessions, c.Audit = st.Users, st.Clients, st.Sessions, st.Audit
			return
		}
		u := c.Users.(*SQLUsers)
		c.Clients = &SQLClients{db: u.db, dialect: u.dialect}
	})
	ctx := context.Background()
	if st != nil {
		if err := f.s.accounts.AddUser(ctx, CLIActor, "alice", testPassword, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.accounts.AddUser(ctx, CLIActor, "root", testPassword, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.accounts.AddClient(ctx, CLIActor, &Client{Name: "svc", Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	root, _ := f.login(t, "root", testPassword)
	f.login(t, "alice", testPassword)
	return adminService{name: name, f: f, root: root}
}

// get sends GET with root's token to the service in process: path is
// the escaped path, rawQuery the query as sent.
func (a adminService) get(t *testing.T, path, rawQuery string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	u, err := url.Parse(path)
	if err != nil {
		t.Fatalf("path %q: %v", path, err)
	}
	u.RawQuery = rawQuery
	r.URL, r.RequestURI = u, u.RequestURI()
	r.Header.Set("Authorization", "Bearer "+a.root)
	w := httptest.NewRecorder()
	a.f.s.ServeHTTP(w, r)
	return w
}

// wantAnswer checks an answer of the admin API: one of the statuses
// allowed, in JSON; an error answer has the error and its description;
// a 200 has the member list, an array. It returns the decoded body.
func wantAnswer(t *testing.T, what string, w *httptest.ResponseRecorder, list string, allowed ...int) map[string]any {
	t.Helper()
	if !slices.Contains(allowed, w.Code) {
		t.Fatalf("%s: status %d, want one of %v: %s", what, w.Code, allowed, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: Content-Type %q: %s", what, ct, w.Body.String())
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: status %d, body not a JSON object (%v): %q", what, w.Code, err, w.Body.String())
	}
	if w.Code != http.StatusOK {
		if e, _ := body["error"].(string); e == "" {
			t.Fatalf("%s: status %d without an error: %s", what, w.Code, w.Body.String())
		}
		if d, _ := body["error_description"].(string); d == "" {
			t.Fatalf("%s: status %d without a description: %s", what, w.Code, w.Body.String())
		}
		return body
	}
	if list != "" {
		if _, ok := body[list].([]any); !ok {
			t.Fatalf("%s: 200 without the array %q: %s", what, list, w.Body.String())
		}
	}
	return body
}

// pathValue returns the escaped path of prefix and a path value, and
// whether the mux takes it as it is: "." and ".." are cleaned away (a
// redirect), "" is no value.
func pathValue(prefix, v string) (string, bool) {
	return prefix + url.PathEscape(v), v != "" && v != "." && v != ".."
}

// FuzzUserPage: any query of GET /admin/users and any {username} of
// GET /admin/users/{username} (and its sessions) get 200, 400 or 404 in
// JSON, on each store: never 500 or 503, whatever the bytes.
func FuzzUserPage(f *testing.F) {
	for _, s := range []struct{ query, name string }{
		{"", "alice"},
		{"q=ali&limit=1", "root"},
		{"after=alice&limit=500", "nobody"},
		{"limit=0", ""},
		{"limit=501&q=x", "."},
		{"limit=-1", ".."},
		{"limit=9999999999999999999999", "a/b"},
		{"q=%00", "%00"},
		{"after=%ff", "\xff"},
		{"q=%C3%28&after=%E2%82", "\x00"},
		{"q=" + strings.Repeat("a", 257), strings.Repeat("b", 257)},
		{"q=a&q=%00", " alice"},
		{"q=%e2%80%ae&after=%7f", "ali\u0085ce"},
		{";;&&%zz", "\ufffd"},
	} {
		f.Add(s.query, s.name)
	}
	services := adminServices(f)
	f.Fuzz(func(t *testing.T, query, name string) {
		for _, a := range services {
			w := a.get(t, "/admin/users", query)
			wantAnswer(t, a.name+" list users "+query, w, "users", 200, 400)
			path, plain := pathValue("/admin/users/", name)
			if !plain {
				continue
			}
			w = a.get(t, path, "")
			body := wantAnswer(t, a.name+" user "+path, w, "", 200, 400, 404)
			if w.Code == 200 {
				if u, _ := body["user"].(map[string]any); u == nil || u["username"] != name {
					t.Fatalf("%s: user %q answered %s", a.name, name, w.Body.String())
				}
			}
			w = a.get(t, path+"/sessions", "")
			wantAnswer(t, a.name+" sessions of "+path, w, "sessions", 200, 400, 404)
		}
	})
}

// FuzzClientPage: any query of GET /admin/clients and any {client} of
// GET /admin/clients/{client} get 200, 400 or 404 in JSON, on each
// store.
func FuzzClientPage(f *testing.F) {
	for _, s := range []struct{ query, key string }{
		{"", "svc"},
		{"limit=1", "jc_NOSUCHCLIENT"},
		{"after=a&limit=500", "nobody"},
		{"limit=0", ""},
		{"limit=501", "."},
		{"after=%00", "%00"},
		{"after=%ff", "\xff"},
		{"after=%C3%28", "\x00"},
		{"after=" + strings.Repeat("a", 257), strings.Repeat("b", 257)},
		{"after=%7f&limit=2", "s\u0085vc"},
	} {
		f.Add(s.query, s.key)
	}
	services := adminServices(f)
	f.Fuzz(func(t *testing.T, query, key string) {
		for _, a := range services {
			w := a.get(t, "/admin/clients", query)
			wantAnswer(t, a.name+" list clients "+query, w, "clients", 200, 400)
			path, plain := pathValue("/admin/clients/", key)
			if !plain {
				continue
			}
			w = a.get(t, path, "")
			body := wantAnswer(t, a.name+" client "+path, w, "", 200, 400, 404)
			if w.Code == 200 {
				c, _ := body["client"].(map[string]any)
				if c == nil || (c["name"] != key && c["client_id"] != key) {
					t.Fatalf("%s: client %q answered %s", a.name, key, w.Body.String())
				}
			}
		}
	})
}

// FuzzAuditQuery: any query of GET /admin/audit gets 200 or 400 in
// JSON, on each store.
func FuzzAuditQuery(f *testing.F) {
	for _, q := range []string{
		"",
		"user=alice&type=login.&limit=2",
		"type=admin.user.add&since=2026-01-02T15:04:05Z&until=2126-01-02T15:04:05.999999999%2B23:59",
		"before=1&limit=500",
		"before=0", "before=-1", "before=9223372036854775808", "limit=501",
		"since=0000-01-01T00:00:00Z&until=9999-12-31T23:59:59Z",
		"since=yesterday", "until=2026-13-01T00:00:00Z",
		"user=%00", "type=%ff", "user=%C3%28&type=%00",
		"type=" + strings.Repeat(".", 65), "user=" + strings.Repeat("u", 257),
	} {
		f.Add(q)
	}
	services := adminServices(f)
	f.Fuzz(func(t *testing.T, query string) {
		for _, a := range services {
			w := a.get(t, "/admin/audit", query)
			wantAnswer(t, a.name+" audit "+query, w, "events", 200, 400)
		}
	})
}
