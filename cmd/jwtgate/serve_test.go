package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/proctest"
)

// proc is a running "jwtgate serve".
type proc struct {
	*proctest.Proc
	url string
}

// logField returns the value of key in the first log line that contains
// all of match.
func logField(logs, key string, match ...string) string {
	for line := range strings.Lines(logs) {
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(line, m)
		}
		if !ok {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, found := strings.CutPrefix(f, key+"="); found {
				return v
			}
		}
	}
	return ""
}

// startServe runs jwtgate serve on a free port and waits until it
// answers (proctest.Start). The caller stops it with stop; a server still
// running when the test ends is stopped and must shut down cleanly.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := proctest.Start(t, bin, env, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
	return &proc{Proc: p, url: p.URL}
}

// stop sends SIGTERM and expects a clean exit after a graceful shutdown.
func (p *proc) stop(t *testing.T) { t.Helper(); p.Stop(t) }

type answer struct {
	status int
	body   map[string]any
	raw    string
}

func call(t *testing.T, method, url, token, jsonBody string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(jsonBody))
	if err != nil {
		t.Fatal(err)
	}
	if jsonBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

func expect(t *testing.T, what string, a answer, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, a.status, status, a.raw)
	}
	return a
}

func str(a answer, k string) string { s, _ := a.body[k].(string); return s }

func jwksKid(t *testing.T, url string) string {
	t.Helper()
	a := expect(t, "jwks", call(t, "GET", url+"/.well-known/jwks.json", "", ""), 200)
	keys, _ := a.body["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("jwks: %s", a.raw)
	}
	kid, _ := keys[0].(map[string]any)["kid"].(string)
	if kid == "" {
		t.Fatalf("jwks without kid: %s", a.raw)
	}
	return kid
}

func TestServeEndToEnd(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, nil, "-data-dir", dataDir)
	pw := logField(p.Logs(), "password", "username=admin")
	if pw == "" {
		t.Fatalf("no admin password in the log:\n%s", p.Logs())
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "signing-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v %v", fi, err)
	}
	expect(t, "healthz", call(t, "GET", p.url+"/healthz", "", ""), 200)
	expect(t, "readyz", call(t, "GET", p.url+"/readyz", "", ""), 200)
	kid := jwksKid(t, p.url)

	creds := `{"username":"admin","password":"` + pw + `"}`
	login := expect(t, "login", call(t, "POST", p.url+"/login", "", creds), 200)
	access, refresh := str(login, "access_token"), str(login, "refresh_token")
	info := expect(t, "userinfo", call(t, "GET", p.url+"/userinfo", access, ""), 200)
	if str(info, "username") != "admin" {
		t.Fatalf("userinfo: %s", info.raw)
	}
	ref := expect(t, "refresh", call(t, "POST", p.url+"/refresh", refresh, ""), 200)
	access2 := str(ref, "access_token")
	expect(t, "reused refresh token", call(t, "POST", p.url+"/refresh", refresh, ""), 401)

	// A new session, logged out.
	login = expect(t, "second login", call(t, "POST", p.url+"/login", "", creds), 200)
	access3, refresh3 := str(login, "access_token"), str(login, "refresh_token")
	expect(t, "logout", call(t, "POST", p.url+"/logout", access3, ""), 200)
	expect(t, "userinfo after logout", call(t, "GET", p.url+"/userinfo", access3, ""), 401)
	expect(t, "refresh after logout", call(t, "POST", p.url+"/refresh", refresh3, ""), 401)
	expect(t, "bad input", call(t, "POST", p.url+"/login", "", `{"username":`), 400)
	p.stop(t)

	logs := p.Logs()
	for _, secret := range []string{access, refresh, access2, access3, refresh3} {
		if strings.Contains(logs, secret) {
			t.Fatal("a token reached the log")
		}
	}
	if n := strings.Count(logs, pw); n != 1 {
		t.Fatalf("the admin password appears %d times in the log, want once", n)
	}

	// Second start on the same data directory: same user, same key, no
	// new password.
	p = startServe(t, nil, "-data-dir", dataDir)
	if strings.Contains(p.Logs(), "password=") {
		t.Fatalf("the second start logged a password:\n%s", p.Logs())
	}
	if got := jwksKid(t, p.url); got != kid {
		t.Fatalf("the key changed across restarts: %s, then %s", kid, got)
	}
	login = expect(t, "login after restart", call(t, "POST", p.url+"/login", "", creds), 200)
	expect(t, "userinfo after restart", call(t, "GET", p.url+"/userinfo", str(login, "access_token"), ""), 200)
	p.stop(t)
}

func TestServeEnvAndFlags(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	// The environment sets the data directory and the issuer; a flag wins
	// over JWTGATE_ACCESS_TTL's bad value.
	p := startServe(t, []string{"JWTGATE_DATA_DIR=" + dataDir, "JWTGATE_ISSUER=https://auth.example", "JWTGATE_ACCESS_TTL=bogus"},
		"-access-ttl", "1m")
	d := expect(t, "metadata", call(t, "GET", p.url+"/.well-known/oauth-authorization-server", "", ""), 200)
	if str(d, "issuer") != "https://auth.example" {
		t.Fatalf("issuer from JWTGATE_ISSUER not used: %s", d.raw)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "jwtgate.db")); err != nil {
		t.Fatalf("JWTGATE_DATA_DIR not used: %v", err)
	}
	p.stop(t)

	dir := t.TempDir()
	r := jwtgate(t, dir, "", "serve", "--help")
	for _, want := range []string{"127.0.0.1:8080", "./jwtgate-data", "ES256", "15m0s", "720h0m0s", "JWTGATE_ADDR", "JWTGATE_REFRESH_TTL", "-login-burst",
		"-config", "JWTGATE_CONFIG", "-database-url", "JWTGATE_DATABASE_URL", "-redis", "JWTGATE_REDIS", "jwtgate:", "-keys-reload", "30s",
		"-redis-sentinel-master", "JWTGATE_REDIS_SENTINEL_MASTER", "-redis-bound", "-redis-wait-replicas", "Redis Cluster",
		"-audit-retention", "2160h0m0s", "JWTGATE_AUDIT_RETENTION",
		"-ui-name", "-ui-logo", "-ui-accent", "#1f5fbf", "-ui-templates", "JWTGATE_UI_ACCENT"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help (exit %d) does not list %q:\n%s", r.code, want, r.stdout)
		}
	}
	for _, v := range []string{"0s", "-1h"} {
		if r := jwtgate(t, dir, "", "serve", "-audit-retention", v, "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "d")); r.code != exitUsage ||
			!strings.Contains(r.stderr, "--audit-retention") {
			t.Errorf("serve -audit-retention %s: exit %d, want %d: %s", v, r.code, exitUsage, r.stderr)
		}
	}
	if r := jwtgate(t, dir, "", "serve", "-alg", "HS256", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "d")); r.code != exitUsage {
		t.Errorf("serve -alg HS256: exit %d, want %d", r.code, exitUsage)
	}
	bad := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "d"))
	bad.Env = append(os.Environ(), "JWTGATE_REFRESH_TTL=bogus")
	if err := bad.Run(); err == nil || bad.ProcessState.ExitCode() != exitUsage {
		t.Errorf("serve with JWTGATE_REFRESH_TTL=bogus: %v", err)
	}
	if r := jwtgate(t, dir, "", "serve", "-log-level", "loud"); r.code != exitUsage || !strings.Contains(r.stderr, "--log-level") {
		t.Errorf("serve -log-level loud: exit %d %q", r.code, r.stderr)
	}
	if r := jwtgate(t, dir, "", "serve", "-login-burst", "0"); r.code != exitUsage {
		t.Errorf("serve -login-burst 0: exit %d", r.code)
	}
	if r := jwtgate(t, dir, "", "serve", "-access-ttl", "-1s"); r.code != exitUsage {
		t.Errorf("serve -access-ttl -1s: exit %d", r.code)
	}
}

// TestServeConfigFile: a config file sets what neither the command line
// nor the environment does; a bad file stops the start with a clear error.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	conf := writeTemp(t, dir, "jwtgate.json", `{
		"data-dir": "`+dataDir+`",
		"issuer": "https://from-file.example",
		"access-ttl": "90s",
		"login-burst": 5,
		"secure-cookies": false
	}`)
	// The flag wins over the environment, which wins over the file.
	p := startServe(t, []string{"JWTGATE_ACCESS_TTL=2m"}, "-config", conf, "-issuer", "https://from-flag.example")
	d := expect(t, "metadata", call(t, "GET", p.url+"/.well-known/oauth-authorization-server", "", ""), 200)
	if str(d, "issuer") != "https://from-flag.example" {
		t.Fatalf("issuer: %s", d.raw)
	}
	pw := logField(p.Logs(), "password", "username=admin")
	login := expect(t, "login", call(t, "POST", p.url+"/auth", "", `{"username":"admin","password":"`+pw+`"}`), 200)
	claims := decodeClaims(t, str(login, "access_token"))
	if ttl := claims["exp"].(float64) - claims["iat"].(float64); ttl != 120 {
		t.Fatalf("access TTL %v s, want 120 from JWTGATE_ACCESS_TTL over the file's 90s", ttl)
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dataDir, "jwtgate.db")); err != nil {
		t.Fatalf("the file's data-dir was not used: %v", err)
	}

	// JWTGATE_CONFIG names the file too.
	p = startServe(t, []string{"JWTGATE_CONFIG=" + conf})
	d = expect(t, "metadata", call(t, "GET", p.url+"/.well-known/oauth-authorization-server", "", ""), 200)
	if str(d, "issuer") != "https://from-file.example" {
		t.Fatalf("issuer from the file of JWTGATE_CONFIG: %s", d.raw)
	}
	p.stop(t)

	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", `{"adress": "x"}`, `unknown key "adress"`},
		{"broken JSON", `{"addr": `, "invalid JSON"},
		{"bad value", `{"access-ttl": "soon"}`, `key "access-ttl"`},
		{"nested config", `{"config": "other.json"}`, `"config" is not allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeTemp(t, t.TempDir(), "bad.json", tc.body)
			r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-config", f)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tc.want)
			}
		})
	}
	if r := jwtgate(t, dir, "", "serve", "-config", filepath.Join(dir, "missing.json")); r.code != exitUsage || !strings.Contains(r.stderr, "missing.json") {
		t.Fatalf("missing config file: exit %d %q", r.code, r.stderr)
	}

	// users and keys rotate read serve's file for its stores, ignoring
	// (but checking) the rest of it.
	mustRun(t, dir, "dave-password\n", "users", "add", "--config", conf, "dave")
	if out := mustRun(t, dir, "", "users", "list", "--config", conf); out != "admin\ndave\n" {
		t.Fatalf("users list --config: %q", out)
	}
	if out := mustRun(t, dir, "", "keys", "rotate", "--config", conf); !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate --config: %q", out)
	}
	// serve's alg is the algorithm of a first key: a rotation keeps the
	// current one.
	withAlg := writeTemp(t, dir, "alg.json", `{"data-dir": "`+dataDir+`", "alg": "EdDSA"}`)
	if out := mustRun(t, dir, "", "keys", "rotate", "--config", withAlg); !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate with serve's alg in the file: %q", out)
	}
	bad := writeTemp(t, dir, "bad.json", `{"data-dir": "x", "adress": "y"}`)
	if r := jwtgate(t, dir, "", "users", "list", "--config", bad); r.code != exitUsage || !strings.Contains(r.stderr, `unknown key "adress"`) {
		t.Fatalf("users list with a bad config file: exit %d %q", r.code, r.stderr)
	}
}

func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	if out := mustRun(t, dir, "s3cret-password\n", "users", "add", "--data-dir", dd, "alice"); !strings.Contains(out, "added user alice") {
		t.Fatalf("users add: %q", out)
	}
	if r := jwtgate(t, dir, "other password\n", "users", "add", "--data-dir", dd, "alice"); r.code != exitRejected {
		t.Fatalf("adding alice twice: exit %d %s", r.code, r.stderr)
	}
	if r := jwtgate(t, dir, "\n", "users", "add", "--data-dir", dd, "bob"); r.code != exitUsage {
		t.Fatalf("empty password: exit %d %s", r.code, r.stderr)
	}
	if r := jwtgate(t, dir, strings.Repeat("x", 2000)+"\n", "users", "add", "--data-dir", dd, "bob"); r.code != exitUsage {
		t.Fatalf("long password: exit %d %s", r.code, r.stderr)
	}
	if r := jwtgate(t, dir, "a password\n", "users", "add", "--data-dir", dd, "a", "b"); r.code != exitUsage {
		t.Fatalf("two names: exit %d", r.code)
	}
	mustRun(t, dir, "bob-password", "users", "add", "--data-dir", dd, "bob")
	r := jwtgate(t, dir, "", "users", "list")
	if r.code != 0 || r.stdout != "" {
		// ./jwtgate-data in dir is a new, empty directory
		t.Fatalf("users list of an empty directory: %d %q %s", r.code, r.stdout, r.stderr)
	}
	cmd := exec.Command(bin, "users", "list")
	cmd.Env = append(os.Environ(), "JWTGATE_DATA_DIR="+dd)
	out, err := cmd.Output()
	if err != nil || string(out) != "alice\nbob\n" {
		t.Fatalf("users list with JWTGATE_DATA_DIR: %q %v", out, err)
	}
	mustRun(t, dir, "new-password\n", "users", "passwd", "--data-dir", dd, "alice")
	// passwd revoked alice's tokens issued before now, and iat has a
	// resolution of one second: tokens of the same second are revoked
	// too. Log in from the next second on.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if r := jwtgate(t, dir, "x\n", "users", "passwd", "--data-dir", dd, "carol"); r.code != exitRejected {
		t.Fatalf("passwd of a missing user: exit %d", r.code)
	}
	mustRun(t, dir, "", "users", "delete", "--data-dir", dd, "bob")
	if r := jwtgate(t, dir, "", "users", "delete", "--data-dir", dd, "bob"); r.code != exitRejected {
		t.Fatalf("deleting bob twice: exit %d", r.code)
	}
	if out := mustRun(t, dir, "carol-password\n", "users", "add", "--admin", "--data-dir", dd, "carol"); !strings.Contains(out, "added user carol (admin)") {
		t.Fatalf("users add --admin: %q", out)
	}

	// The server uses the users (and creates no admin: the store is not empty).
	p := startServe(t, nil, "-data-dir", dd)
	if strings.Contains(p.Logs(), "password=") {
		t.Fatalf("admin created in a non-empty store:\n%s", p.Logs())
	}
	expect(t, "old password", call(t, "POST", p.url+"/auth", "", `{"username":"alice","password":"s3cret-password"}`), 401)
	expect(t, "new password", call(t, "POST", p.url+"/auth", "", `{"username":"alice","password":"new-password"}`), 200)
	expect(t, "deleted user", call(t, "POST", p.url+"/auth", "", `{"username":"bob","password":"bob-password"}`), 401)

	// A password change while the server runs ends the user's sessions.
	tok := str(expect(t, "login", call(t, "POST", p.url+"/auth", "", `{"username":"alice","password":"new-password"}`), 200), "access_token")
	expect(t, "userinfo", call(t, "GET", p.url+"/userinfo", tok, ""), 200)
	session := expect(t, "login", call(t, "POST", p.url+"/login", "", `{"username":"alice","password":"new-password"}`), 200)
	refreshed := expect(t, "refresh", call(t, "POST", p.url+"/refresh", str(session, "refresh_token"), ""), 200)
	mustRun(t, dir, "newer-password\n", "users", "passwd", "--data-dir", dd, "alice")
	expect(t, "userinfo after passwd", call(t, "GET", p.url+"/userinfo", tok, ""), 401)
	expect(t, "session's first access token after passwd", call(t, "GET", p.url+"/userinfo", str(session, "access_token"), ""), 401)
	expect(t, "session's newest access token after passwd", call(t, "GET", p.url+"/userinfo", str(refreshed, "access_token"), ""), 401)
	expect(t, "session's refresh token after passwd", call(t, "POST", p.url+"/refresh", str(refreshed, "refresh_token"), ""), 401)

	// carol, added with --admin, uses the admin API, and finds there what
	// the commands did; alice may not.
	carol := str(expect(t, "carol's login", call(t, "POST", p.url+"/login", "", `{"username":"carol","password":"carol-password"}`), 200), "access_token")
	alice := str(expect(t, "alice's login", call(t, "POST", p.url+"/login", "", `{"username":"alice","password":"newer-password"}`), 200), "access_token")
	expect(t, "alice on the admin API", call(t, "GET", p.url+"/admin/users", alice, ""), 403)
	users := expect(t, "carol lists the users", call(t, "GET", p.url+"/admin/users", carol, ""), 200)
	var listed []string
	for _, u := range users.body["users"].([]any) {
		u := u.(map[string]any)
		listed = append(listed, fmt.Sprint(u["username"], " admin=", u["admin"]))
	}
	if strings.Join(listed, ",") != "alice admin=false,carol admin=true" {
		t.Errorf("users: %v", listed)
	}
	audit := expect(t, "carol reads the audit log", call(t, "GET", p.url+"/admin/audit?type=admin.", carol, ""), 200)
	var done []string
	for _, e := range audit.body["events"].([]any) {
		e := e.(map[string]any)
		done = append(done, fmt.Sprint(e["actor"], " ", e["type"], " ", e["subject"]))
	}
	want := "alice admin.denied alice,cli admin.user.password_reset alice,cli admin.user.add carol,cli admin.user.delete bob,cli admin.user.password_reset alice,cli admin.user.add bob,cli admin.user.add alice"
	if strings.Join(done, ",") != want {
		t.Errorf("admin events, newest first:\n%s\nwant\n%s", strings.Join(done, ","), want)
	}
	p.stop(t)
}

// TestServeGracefulShutdown sends SIGTERM while a login request is half
// sent: the request still completes, then the process exits cleanly.
func TestServeGracefulShutdown(t *testing.T) {
	p := startServe(t, nil, "-data-dir", filepath.Join(t.TempDir(), "data"))
	pw := logField(p.Logs(), "password", "username=admin")
	body := `{"username":"admin","password":"` + pw + `"}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue makes the server say when the handler starts
	// reading the body: the request is then surely in flight.
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("no 100 Continue: %v %v", cont, err)
	}
	half := len(body) / 2
	io.WriteString(conn, body[:half])

	// Stop the server while the body is incomplete, wait until the
	// shutdown has begun, then finish the request: it must be served.
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(p.Logs(), "msg=\"shutting down\""); i++ {
		if i == 300 {
			t.Fatalf("no shutdown logged:\n%s", p.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-p.Done():
		t.Fatalf("exited with a request in flight: %v\n%s", p.Err(), p.Logs())
	case <-time.After(200 * time.Millisecond):
	}
	io.WriteString(conn, body[half:])
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request: %v\n%s", err, p.Logs())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("in-flight login: status %d", resp.StatusCode)
	}
	<-p.Done() // go test's -timeout catches a server that never exits
	if p.Err() != nil || !strings.Contains(p.Logs(), "msg=stopped") {
		t.Fatalf("unclean exit: %v\n%s", p.Err(), p.Logs())
	}
}
