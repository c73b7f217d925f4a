package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

func openSQLite(t testing.TB, path string, now func() time.Time) (*sql.DB, *sqlstore.Store) {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.New(context.Background(), db, sqlstore.SQLite, sqlstore.Options{Clock: now})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Close() })
	return db, s
}

func TestSQLiteConformance(t *testing.T) {
	paths := map[revoke.Store]string{}
	clocks := map[revoke.Store]func() time.Time{}
	dbs := map[revoke.Store]*sql.DB{}
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, now func() time.Time) revoke.Store {
			path := filepath.Join(t.TempDir(), "revoke.db")
			db, s := openSQLite(t, path, now)
			paths[s], clocks[s], dbs[s] = path, now, db
			return s
		},
		Reopen: func(t *testing.T, old revoke.Store) revoke.Store {
			old.(*sqlstore.Store).Close()
			if err := dbs[old].Close(); err != nil {
				t.Fatal(err)
			}
			_, s := openSQLite(t, paths[old], clocks[old])
			return s
		},
	})
}

func TestSQLiteInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	_, a := openSQLite(t, path, nil)
	_, b := openSQLite(t, path, nil)
	storetest.RunInstances(t, a, b)
}

func TestSQLiteFaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.db")
	_, good := openSQLite(t, path, nil)
	db2, down := openSQLite(t, path, nil)
	db2.Close() // a store whose database handle is closed
	storetest.RunFaults(t, good, down)
}

// TestSQLiteGarbage: rows the store cannot read are errors, not panics and
// not "not revoked".
func TestSQLiteGarbage(t *testing.T) {
	db, s := openSQLite(t, filepath.Join(t.TempDir(), "garbage.db"), nil)
	ctx := context.Background()
	if err := s.RevokeSubject(ctx, "eve", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE jwtgate_revoked_subject SET cutoff = 'not a number' WHERE subject = 'eve'`); err != nil {
		t.Fatal(err)
	}
	if r, err := s.CheckToken(ctx, revoke.Query{JTI: "j", Subject: "eve", IssuedAt: time.Now()}); err == nil {
		t.Fatalf("garbage cutoff: CheckToken = %v, nil; want an error", r)
	}
	if _, err := s.SubjectCutoff(ctx, "eve"); err == nil {
		t.Fatal("garbage cutoff: SubjectCutoff gave no error")
	}
	in := storetest.NewInstance(t, s)
	access, _ := in.Login(t, "/login", "eve")
	if code, body := in.Do(t, "GET", "/protected", access); code != 503 {
		t.Fatalf("garbage in store: %d %s; want 503", code, body)
	}
}

func TestNewErrors(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		d sqlstore.Dialect
		o sqlstore.Options
	}{
		{0, sqlstore.Options{}},
		{sqlstore.SQLite, sqlstore.Options{TablePrefix: "x; DROP TABLE y"}},
	} {
		if _, err := sqlstore.New(context.Background(), db, c.d, c.o); err == nil {
			t.Errorf("New(%v, %+v): no error", c.d, c.o)
		}
	}
	if _, err := sqlstore.New(context.Background(), nil, sqlstore.SQLite, sqlstore.Options{}); err == nil {
		t.Error("New(nil db): no error")
	}
}

// TestSQLiteKill9: a revocation acknowledged by a process killed with
// SIGKILL right after is still there when the database is opened again.
func TestSQLiteKill9(t *testing.T) {
	if path := os.Getenv("SQLSTORE_KILL9_CHILD"); path != "" {
		db, err := sqlite.Open(path)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		s, err := sqlstore.New(context.Background(), db, sqlstore.SQLite, sqlstore.Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		for i := range 50 {
			if err := s.Revoke(context.Background(), fmt.Sprintf("k%d", i), time.Now().Add(time.Hour)); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
		}
		fmt.Println("acknowledged")
		time.Sleep(time.Minute) // killed before this ends
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "kill9.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteKill9$")
	cmd.Env = append(os.Environ(), "SQLSTORE_KILL9_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if strings.TrimSpace(line) != "acknowledged" {
		t.Fatalf("child said %q", line)
	}
	_, s := openSQLite(t, path, nil)
	for i := range 50 {
		r, err := s.Revoked(context.Background(), fmt.Sprintf("k%d", i))
		if err != nil || !r {
			t.Fatalf("k%d after kill -9: %v, %v", i, r, err)
		}
	}
	if err := s.Revoke(context.Background(), "after", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("store unusable after kill -9: %v", err)
	}
}

// TestSQLiteUseGroupCommit: Use calls made together are committed
// together, each with its own answer: every new id is first once, a
// repeated id exactly once, whatever group it lands in; a caller whose
// context has ended gets an error, never first.
func TestSQLiteUseGroupCommit(t *testing.T) {
	_, s := openSQLite(t, filepath.Join(t.TempDir(), "use.db"), nil)
	until := time.Now().Add(time.Hour)
	const n, repeats = 300, 40
	ids := make([]string, n)
	for i := range ids {
		ids[i] = storetest.ID("id")
	}
	shared := storetest.ID("shared")
	var wg sync.WaitGroup
	var sharedFirst atomic.Int32
	errs := make(chan error, n+repeats)
	for i := range n + repeats {
		wg.Go(func() {
			id := shared
			if i < n {
				id = ids[i]
			}
			first, err := s.Use(context.Background(), id, until)
			switch {
			case err != nil:
				errs <- err
			case id == shared && first:
				sharedFirst.Add(1)
			case id != shared && !first:
				errs <- fmt.Errorf("new id %s: not first", id)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := sharedFirst.Load(); got != 1 {
		t.Fatalf("an id used by %d callers at once was first %d times, want 1", repeats, got)
	}
	for _, id := range ids[:10] {
		if first, err := s.Use(context.Background(), id, until); err != nil || first {
			t.Fatalf("Use(%s) again = %v, %v; want false", id, first, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if first, err := s.Use(ctx, storetest.ID("id"), until); first || err == nil {
		t.Fatalf("Use with an ended context = %v, %v; want false and an error", first, err)
	}
}
