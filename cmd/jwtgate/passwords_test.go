package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsersPasswordPolicy: users add and passwd refuse a password that
// breaks the policy, with an error that states the rule; the minimum
// length comes from the flag, the environment or serve's config file.
func TestUsersPasswordPolicy(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "data")
	conf := writeTemp(t, dir, "jwtgate.json", `{"data-dir": "`+dd+`", "min-password-length": 12}`)
	for _, tc := range []struct {
		name  string
		env   []string
		stdin string
		args  []string
		code  int
		want  string // in stderr
	}{
		{"short", nil, "1234567\n", []string{"users", "add", "--data-dir", dd, "alice"}, exitUsage, "at least 8 characters"},
		{"the username", nil, "alice-liddell\n", []string{"users", "add", "--data-dir", dd, "alice-liddell"}, exitUsage, "must not be the username"},
		{"too long", nil, strings.Repeat("x", 1025) + "\n", []string{"users", "add", "--data-dir", dd, "alice"}, exitUsage, "at most 1024 bytes"},
		{"8 characters", nil, "12345678\n", []string{"users", "add", "--data-dir", dd, "alice"}, exitOK, ""},
		{"flag", nil, "123456789\n", []string{"users", "add", "--data-dir", dd, "--min-password-length", "10", "bob"}, exitUsage, "at least 10 characters"},
		{"environment", []string{"JWTGATE_MIN_PASSWORD_LENGTH=4"}, "1234\n", []string{"users", "add", "--data-dir", dd, "bob"}, exitOK, ""},
		{"config file", nil, "12345678901\n", []string{"users", "passwd", "--config", conf, "alice"}, exitUsage, "at least 12 characters"},
		{"passwd short", nil, "1234567\n", []string{"users", "passwd", "--data-dir", dd, "alice"}, exitUsage, "at least 8 characters"},
		{"passwd the username", nil, "alice\n", []string{"users", "passwd", "--data-dir", dd, "--min-password-length", "1", "alice"}, exitUsage, "must not be the username"},
		{"bad setting", nil, "12345678\n", []string{"users", "add", "--data-dir", dd, "--min-password-length", "0", "carol"}, exitUsage, "--min-password-length 0: want 1 to 1024"},
		{"passwd ok", nil, "a good new password\n", []string{"users", "passwd", "--data-dir", dd, "alice"}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEnv(t, dir, tc.env, tc.stdin, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
			if strings.Contains(r.stderr, "server:") {
				t.Fatalf("the error names a Go package: %q", r.stderr)
			}
		})
	}
	// A password set under an older (or looser) rule still signs in.
	p := startServe(t, nil, "-data-dir", dd)
	expect(t, "bob's 4-character password", call(t, "POST", p.url+"/auth", "", `{"username":"bob","password":"1234"}`), 200)
	p.stop(t)
	for _, cmd := range [][]string{{"serve"}, {"users", "add"}, {"users", "passwd"}} {
		help := mustRun(t, dir, "", append(cmd, "--help")...)
		if !strings.Contains(help, "-min-password-length") || !strings.Contains(help, "JWTGATE_MIN_PASSWORD_LENGTH") {
			t.Errorf("%s --help does not list --min-password-length:\n%s", strings.Join(cmd, " "), help)
		}
	}
	if r := jwtgate(t, dir, "", "serve", "-addr", "127.0.0.1:0", "-data-dir", dd, "-min-password-length", "2000"); r.code != exitUsage || !strings.Contains(r.stderr, "--min-password-length") {
		t.Fatalf("serve -min-password-length 2000: exit %d %q", r.code, r.stderr)
	}
}

// TestFirstAdminPassword: a start that fails its checks creates no user
// (so the password it would log is never lost); while the generated
// password has never been used, every start says how to set one; the
// first sign-in, or "users passwd", ends that. On a data directory, and
// on PostgreSQL (with Redis).
func TestFirstAdminPassword(t *testing.T) {
	t.Run("data directory", func(t *testing.T) {
		dir := t.TempDir()
		n := 0
		testFirstAdminPassword(t, func() ([]string, []string) {
			n++
			return nil, []string{"-data-dir", filepath.Join(dir, fmt.Sprint("data", n))}
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		testFirstAdminPassword(t, func() ([]string, []string) { return sharedStores(t), nil })
	})
}

// testFirstAdminPassword runs TestFirstAdminPassword on new, empty
// stores, which newStores names by environment variables and flags.
func testFirstAdminPassword(t *testing.T, newStores func() (env, args []string)) {
	dir := t.TempDir()
	const hint = "has never been used: if it is lost, set one with 'jwtgate users passwd admin'"
	env, args := newStores()
	usersArgs := func(cmd ...string) []string { return append(append(cmd, args...), "admin") }

	// serve refuses HS256 after opening the stores: no admin.
	r := runEnv(t, dir, env, "", append([]string{"serve", "-addr", "127.0.0.1:0", "-alg", "HS256"}, args...)...)
	if r.code != exitUsage || strings.Contains(r.stderr, "password=") {
		t.Fatalf("serve -alg HS256: exit %d\n%s", r.code, r.stderr)
	}
	if r := runEnv(t, dir, env, "", append([]string{"users", "list"}, args...)...); r.code != 0 || r.stdout != "" {
		t.Fatalf("users after a failed start: exit %d %q %s", r.code, r.stdout, r.stderr)
	}

	// The first good start creates admin and logs its password, once.
	p := startServe(t, env, args...)
	pw := logField(p.Logs(), "password", "username=admin")
	if pw == "" || strings.Contains(p.Logs(), hint) {
		t.Fatalf("first start:\n%s", p.Logs())
	}
	p.stop(t)

	// Restarts without a sign-in say how to set the password.
	for i := range 2 {
		p = startServe(t, env, args...)
		if !strings.Contains(p.Logs(), hint) || strings.Contains(p.Logs(), "password=") {
			t.Fatalf("restart %d: want the hint and no password:\n%s", i+1, p.Logs())
		}
		// A failed sign-in is no proof that anyone knows it.
		expect(t, "wrong password", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"not the one"}`), 401)
		p.stop(t)
	}

	// The first sign-in ends the hint.
	p = startServe(t, env, args...)
	expect(t, "login", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 200)
	p.stop(t)
	p = startServe(t, env, args...)
	if strings.Contains(p.Logs(), hint) {
		t.Fatalf("hint after the first sign-in:\n%s", p.Logs())
	}
	p.stop(t)

	// So does a password change, with no sign-in at all.
	env, args = newStores()
	p = startServe(t, env, args...)
	p.stop(t)
	if r := runEnv(t, dir, env, "a password of my own\n", usersArgs("users", "passwd")...); r.code != 0 {
		t.Fatalf("users passwd admin: exit %d %s", r.code, r.stderr)
	}
	p = startServe(t, env, args...)
	if strings.Contains(p.Logs(), hint) || strings.Contains(p.Logs(), "password=") {
		t.Fatalf("start after users passwd:\n%s", p.Logs())
	}
	expect(t, "login with the new password", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"a password of my own"}`), 200)
	p.stop(t)
}

// TestNewDataDirLogged: the first start on a data directory says so, with
// its absolute path; later starts do not.
func TestNewDataDirLogged(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, nil, "-data-dir", filepath.Join(dir, "data"))
	want := "dir=" + filepath.Join(dir, "data")
	if !strings.Contains(p.Logs(), "new data directory") || !strings.Contains(p.Logs(), want) {
		t.Fatalf("no new data directory with %s logged:\n%s", want, p.Logs())
	}
	p.stop(t)
	p = startServe(t, nil, "-data-dir", filepath.Join(dir, "data"), "-log-level", "warn")
	if strings.Contains(p.Logs(), "new data directory") {
		t.Fatalf("a known data directory announced as new:\n%s", p.Logs())
	}
	p.stop(t)
	// A relative --data-dir is logged absolute, whatever --log-level says.
	r := runEnv(t, dir, nil, "", "users", "list", "--data-dir", "typo-dir")
	if r.code != 0 || !strings.Contains(r.stderr, "dir="+filepath.Join(dir, "typo-dir")) {
		t.Fatalf("users list on a new directory: exit %d %q", r.code, r.stderr)
	}
}
