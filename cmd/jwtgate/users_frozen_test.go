package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres/pgtest"
)

// TestUsersStoreNotAnswering: the users commands give up on a PostgreSQL
// that does not answer (here its users table is locked by another
// session, so that queries wait without an error) and say so, instead of
// waiting for it without end; "users passwd" says that the password was
// changed but the sessions were not ended. Durations are logged; the
// commands get a generous minute before the test counts them stuck.
func TestUsersStoreNotAnswering(t *testing.T) {
	dsn := pgSchema(t)
	env := []string{"JWTGATE_DATABASE_URL=" + dsn, "JWTGATE_REDIS="}
	dir := t.TempDir()
	if r := runEnv(t, dir, env, "bob-password\n", "users", "add", "bob"); r.code != 0 {
		t.Fatalf("users add: exit %d %s", r.code, r.stderr)
	}
	db := pgtest.Postgres(t, dsn)
	ctx := context.Background()
	// hold runs stmt in a transaction of its own, which keeps its locks
	// until the returned function (or the end of the test) rolls it back.
	hold := func(stmt string) func() {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback() }) // before the schema is dropped
		return func() { tx.Rollback() }
	}
	run := func(what, stdin string, args ...string) result {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, args...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, append(os.Environ(), env...), strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
		if cctx.Err() != nil {
			t.Fatalf("%s: still waiting for the store after a minute", what)
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code, out.String(), errb.String()}
	}

	// The users table locked: the stores cannot even be opened.
	release := hold("LOCK TABLE jwtgate_users IN ACCESS EXCLUSIVE MODE")
	if r := run("users passwd, users locked", "new-password\n", "users", "passwd", "bob"); r.code == 0 || !strings.Contains(r.stderr, "did not answer") {
		t.Errorf("users passwd, users locked: exit %d %q", r.code, r.stderr)
	}
	release()

	// The password is changed, then the revocation store does not answer:
	// bob's cutoff row (made by a first passwd) is locked.
	if r := run("users passwd", "second-password\n", "users", "passwd", "bob"); r.code != 0 {
		t.Fatalf("users passwd: exit %d %s", r.code, r.stderr)
	}
	release = hold("SELECT * FROM jwtgate_revoked_subject WHERE subject = 'bob' FOR UPDATE")
	r := run("users passwd, bob's cutoff locked", "third-password\n", "users", "passwd", "bob")
	if r.code == 0 || !strings.Contains(r.stderr, "password of bob was changed") || !strings.Contains(r.stderr, "run 'jwtgate users passwd bob' again") {
		t.Errorf("users passwd, bob's cutoff locked: exit %d %q", r.code, r.stderr)
	}
	r = run("users delete, bob's cutoff locked", "", "users", "delete", "bob")
	if r.code == 0 || !strings.Contains(r.stderr, "deleted user bob, but its sessions could not be ended") {
		t.Errorf("users delete, bob's cutoff locked: exit %d %q", r.code, r.stderr)
	}
	release()
	// Run again, the delete ends the sessions of the user it deleted, and
	// says that the user is gone.
	if r := run("users delete again", "", "users", "delete", "bob"); r.code != exitRejected || !strings.Contains(r.stderr, "no such user") {
		t.Errorf("users delete again: exit %d %q", r.code, r.stderr)
	}
}
