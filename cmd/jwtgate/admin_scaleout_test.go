package main

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeTwoInstancesAdmin runs two instances sharing PostgreSQL and
// Redis: a user added through the admin API of one signs in on both; the
// session registry and the audit log are shared (each instance lists
// the sessions and reads the events the other recorded); a session ended
// through the admin API of A is refused on B, and ending them all on B
// is refused on A.
func TestServeTwoInstancesAdmin(t *testing.T) {
	env := sharedStores(t)
	args := []string{"-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example", "-keys-reload", "1h"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	admA := str(expect(t, "admin login on A", call(t, "POST", a.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200), "access_token")
	admB := str(expect(t, "admin login on B", call(t, "POST", b.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200), "access_token")

	expect(t, "add alice on B", call(t, "POST", b.url+"/admin/users", admB, `{"username":"alice","password":"alice's password"}`), 201)
	creds := `{"username":"alice","password":"alice's password"}`
	onB := expect(t, "alice's login on B", call(t, "POST", b.url+"/login", "", creds), 200)
	onA := expect(t, "alice's login on A", call(t, "POST", a.url+"/login", "", creds), 200)
	onB2 := expect(t, "alice's second login on B", call(t, "POST", b.url+"/login", "", creds), 200)
	expect(t, "alice on the admin API", call(t, "GET", a.url+"/admin/users", str(onA, "access_token"), ""), 403)

	// Both instances list the three sessions; find the one started on B
	// by its own listing (current).
	mine := expect(t, "alice's sessions on A", call(t, "GET", a.url+"/account/sessions", str(onB, "access_token"), ""), 200)
	var sidB string
	for _, s := range mine.body["sessions"].([]any) {
		if s := s.(map[string]any); s["current"] == true {
			sidB, _ = s["sid"].(string)
		}
	}
	for _, p := range []struct{ url, token string }{{a.url, admA}, {b.url, admB}} {
		l := expect(t, "alice's sessions by the admin", call(t, "GET", p.url+"/admin/users/alice/sessions", p.token, ""), 200)
		if n := len(l.body["sessions"].([]any)); n != 3 || sidB == "" {
			t.Fatalf("alice's sessions at %s: %d (%s), want 3, with %q", p.url, n, l.raw, sidB)
		}
	}

	// The admin ends the session of B's first login through A: refused
	// on B (and on A), its refresh token too; the others live.
	expect(t, "end a session on A", call(t, "DELETE", a.url+"/admin/users/alice/sessions/"+sidB, admA, ""), 200)
	refusedSoon(t, b.url, "ended session on B", str(onB, "access_token"))
	refusedSoon(t, a.url, "ended session on A", str(onB, "access_token"))
	expect(t, "ended session's refresh on B", call(t, "POST", b.url+"/refresh", str(onB, "refresh_token"), ""), 401)
	expect(t, "session started on A, on B", call(t, "GET", b.url+"/userinfo", str(onA, "access_token"), ""), 200)
	l := expect(t, "alice's sessions on B", call(t, "GET", b.url+"/admin/users/alice/sessions", admB, ""), 200)
	if n := len(l.body["sessions"].([]any)); n != 2 {
		t.Fatalf("alice's sessions after ending one: %d, want 2: %s", n, l.raw)
	}

	// All of them, through B: refused on A.
	expect(t, "end all on B", call(t, "DELETE", b.url+"/admin/users/alice/sessions", admB, ""), 200)
	refusedSoon(t, a.url, "session started on A after end-all on B", str(onA, "access_token"))
	refusedSoon(t, a.url, "B's second session after end-all on B", str(onB2, "access_token"))
	expect(t, "refresh on A after end-all", call(t, "POST", a.url+"/refresh", str(onA, "refresh_token"), ""), 401)

	// One audit log: each instance reads what both wrote.
	want := "admin admin.sessions.end_all alice,admin admin.session.end alice,alice login.success alice," +
		"alice login.success alice,alice login.success alice,admin admin.user.add alice"
	for _, p := range []struct{ url, token string }{{a.url, admA}, {b.url, admB}} {
		ev := expect(t, "alice's events", call(t, "GET", p.url+"/admin/audit?user=alice", p.token, ""), 200)
		var got []string
		for _, e := range ev.body["events"].([]any) {
			e := e.(map[string]any)
			if e["type"] == "admin.denied" {
				continue
			}
			got = append(got, fmt.Sprint(e["actor"], " ", e["type"], " ", e["subject"]))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("alice's events at %s, newest first:\n%s\nwant\n%s", p.url, strings.Join(got, ","), want)
		}
	}
}

// TestServeTwoInstancesAdminClients runs two instances sharing
// PostgreSQL and Redis: a client added through the admin API of A gets
// tokens on B with its one-time secret; a secret rotated (without grace)
// through B stops working on A within the client cache's lifetime; the
// client deleted on A is gone on B; both read the same client events
// (the refused secret's among them).
func TestServeTwoInstancesAdminClients(t *testing.T) {
	env := sharedStores(t)
	args := []string{"-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example", "-keys-reload", "1h"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	admA := str(expect(t, "admin login on A", call(t, "POST", a.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200), "access_token")
	admB := str(expect(t, "admin login on B", call(t, "POST", b.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200), "access_token")

	name := "svc-" + rand.Text()
	added := expect(t, "add a client on A", call(t, "POST", a.url+"/admin/clients", admA, `{"name":"`+name+`","scopes":["read"]}`), 201)
	secret := str(added, "client_secret")
	id, _ := added.body["client"].(map[string]any)["client_id"].(string)
	if secret == "" || id == "" {
		t.Fatalf("add: %s", added.raw)
	}
	grant := url.Values{"grant_type": {"client_credentials"}}
	expect(t, "its token on B", formCall(t, b.url+"/oauth/token", grant, id, secret), 200)
	expect(t, "its token on A (cached there)", formCall(t, a.url+"/oauth/token", grant, id, secret), 200)
	upd := expect(t, "update on B", call(t, "PATCH", b.url+"/admin/clients/"+name, admB, `{"scopes":["read","write"],"ttl":60}`), 200)
	if fmt.Sprint(upd.body["changed"]) != "[scopes ttl]" {
		t.Errorf("update on B: %s", upd.raw)
	}
	rot := expect(t, "rotate on B", call(t, "POST", b.url+"/admin/clients/"+id+"/rotate-secret", admB, `{"grace":0}`), 200)
	second := str(rot, "client_secret")
	refused := false
	for range 2000 {
		r := formCall(t, a.url+"/oauth/token", grant, id, secret)
		if r.status == 401 {
			refused = true
			break
		}
		if r.status != 200 {
			t.Fatalf("the replaced secret on A: %d %s", r.status, r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Fatal("the replaced secret still works on A")
	}
	expect(t, "the new secret on A", formCall(t, a.url+"/oauth/token", grant, id, second), 200)
	expect(t, "delete on A", call(t, "DELETE", a.url+"/admin/clients/"+name, admA, ""), 200)
	expect(t, "deleted, on B", call(t, "GET", b.url+"/admin/clients/"+id, admB, ""), 404)

	ev := expect(t, "client events on B", call(t, "GET", b.url+"/admin/audit?type=client.&user="+id, admB, ""), 200)
	var got []string
	for _, e := range ev.body["events"].([]any) {
		e := e.(map[string]any)
		got = append(got, fmt.Sprint(e["actor"], " ", e["type"]))
	}
	if want := "admin client.delete, client.auth_failure,admin client.rotate_secret,admin client.update,admin client.add"; strings.Join(got, ",") != want {
		t.Errorf("client events, newest first: %s, want %s", strings.Join(got, ","), want)
	}
	if strings.Contains(ev.raw, secret) || strings.Contains(ev.raw, second) {
		t.Errorf("the audit log holds a secret: %s", ev.raw)
	}
}
