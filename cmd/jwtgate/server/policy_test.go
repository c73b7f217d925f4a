package server

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
)

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policy   PasswordPolicy
		user, pw string
		want     string // "" for accepted; else a part of the error
	}{
		{"default accepts 8", PasswordPolicy{}, "alice", "12345678", ""},
		{"default refuses 7", PasswordPolicy{}, "alice", "1234567", "at least 8 characters"},
		{"characters, not bytes", PasswordPolicy{}, "alice", "éééééééé", ""},
		{"7 characters in 14 bytes", PasswordPolicy{}, "alice", "ééééééé", "at least 8 characters"},
		{"the username", PasswordPolicy{}, "alice-in-wonderland", "alice-in-wonderland", "must not be the username"},
		{"empty", PasswordPolicy{}, "alice", "", "empty"},
		{"1024 bytes", PasswordPolicy{}, "alice", strings.Repeat("x", MaxPasswordLen), ""},
		{"1025 bytes", PasswordPolicy{}, "alice", strings.Repeat("x", MaxPasswordLen+1), "at most 1024 bytes"},
		{"not UTF-8", PasswordPolicy{}, "alice", "abcdefgh\xff", "not UTF-8"},
		{"configured 12 refuses 11", PasswordPolicy{MinLength: 12}, "alice", "12345678901", "at least 12 characters"},
		{"configured 12 accepts 12", PasswordPolicy{MinLength: 12}, "alice", "123456789012", ""},
		{"configured 1", PasswordPolicy{MinLength: 1}, "alice", "a", ""},
		{"configured 1, the username", PasswordPolicy{MinLength: 1}, "a", "a", "must not be the username"},
		{"the username in other letter case", PasswordPolicy{}, "Alice-In-Wonderland", "alice-in-WONDERLAND", "must not be the username"},
		{"bad policy", PasswordPolicy{MinLength: MaxPasswordLen + 1}, "alice", strings.Repeat("x", 2000), "minimum password length"},
		{"negative policy", PasswordPolicy{MinLength: -1}, "alice", "12345678", "minimum password length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.user, tc.pw)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not say %q", err, tc.want)
			case !strings.HasPrefix(tc.want, "minimum") && !errors.Is(err, ErrBadPassword):
				t.Fatalf("error %v is not ErrBadPassword", err)
			case strings.Contains(err.Error(), "server:"):
				t.Fatalf("error %q names the package", err)
			}
		})
	}
}

// TestUserStorePolicy: Add and SetPassword apply the policy; a password
// set before (here, written to the table directly) still signs in.
func TestUserStorePolicy(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	testUserStorePolicy(t, d.Users)
}

func testUserStorePolicy(t *testing.T, u *SQLUsers) {
	t.Helper()
	ctx := context.Background()
	if err := u.Add(ctx, "carol", "short"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("Add with a short password: %v", err)
	}
	if err := u.Add(ctx, "carol-password", "carol-password"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("Add with the username as password: %v", err)
	}
	if err := u.Add(ctx, "carol", "long enough"); err != nil {
		t.Fatal(err)
	}
	if err := u.SetPassword(ctx, "carol", "short"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("SetPassword with a short password: %v", err)
	}
	u.Policy = PasswordPolicy{MinLength: 3}
	if err := u.SetPassword(ctx, "carol", "abc"); err != nil {
		t.Fatalf("SetPassword under MinLength 3: %v", err)
	}
	u.Policy = PasswordPolicy{}
	h, ok, err := u.PasswordHash(ctx, "carol")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if m, err := VerifyPassword(h, "abc"); err != nil || !m {
		t.Fatalf("an older short password does not verify: %v %v", m, err)
	}
}

// TestUnclaimedPassword: the first admin's generated password is marked
// until it is used to sign in or changed, and every later Bootstrap says
// how to set it.
func TestUnclaimedPassword(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDataDir(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	testUnclaimedPassword(t, d.Users)
}

func testUnclaimedPassword(t *testing.T, u *SQLUsers) {
	t.Helper()
	ctx := context.Background()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := bootstrap(ctx, u, nil, log); err != nil {
		t.Fatal(err)
	}
	pw := logField(logs.String(), "password")
	if pw == "" {
		t.Fatalf("no password logged:\n%s", logs.String())
	}
	if names, err := u.Unclaimed(ctx); err != nil || !slices.Equal(names, []string{"admin"}) {
		t.Fatalf("Unclaimed = %q, %v", names, err)
	}
	if err := u.Add(ctx, "dave", "dave's password"); err != nil {
		t.Fatal(err)
	}
	hint := "jwtgate users passwd admin"
	for i := range 2 {
		logs.Reset()
		if err := bootstrap(ctx, u, nil, log); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), hint) || strings.Contains(logs.String(), "password=") {
			t.Fatalf("start %d after the first: want the hint and no password:\n%s", i+2, logs.String())
		}
	}
	// Another user signing in changes nothing.
	if err := u.ClaimPassword(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	if names, _ := u.Unclaimed(ctx); !slices.Equal(names, []string{"admin"}) {
		t.Fatalf("Unclaimed after dave's sign-in = %q", names)
	}
	if err := u.ClaimPassword(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if names, err := u.Unclaimed(ctx); err != nil || len(names) != 0 {
		t.Fatalf("Unclaimed after admin's sign-in = %q, %v", names, err)
	}
	logs.Reset()
	if err := bootstrap(ctx, u, nil, log); err != nil {
		t.Fatal(err)
	}
	if logs.String() != "" {
		t.Fatalf("a start after the first sign-in logged:\n%s", logs.String())
	}
	// A password change ends the mark too.
	if err := u.add(ctx, "root", RandomPassword(), true, false); err != nil {
		t.Fatal(err)
	}
	if names, _ := u.Unclaimed(ctx); !slices.Equal(names, []string{"root"}) {
		t.Fatalf("Unclaimed = %q, want root", names)
	}
	if err := u.SetPassword(ctx, "root", "root's own password"); err != nil {
		t.Fatal(err)
	}
	if names, err := u.Unclaimed(ctx); err != nil || len(names) != 0 {
		t.Fatalf("Unclaimed after SetPassword = %q, %v", names, err)
	}
}

// logField returns the value of key in a slog text line of logs.
func logField(logs, key string) string {
	for _, f := range strings.Fields(logs) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// TestUsersTableMigration: a users table made before password_unclaimed
// existed gets it, with its users unmarked and their passwords intact.
func TestUsersTableMigration(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testUsersTableMigration(t, db, sqlstore.SQLite)
}

func testUsersTableMigration(t *testing.T, db *sql.DB, dialect sqlstore.Dialect) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE jwtgate_users (
		username      TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_ms    BIGINT NOT NULL
	)`); err != nil {
		t.Fatal(err)
	}
	h, err := HashPassword("old")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"admin", "other"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO jwtgate_users VALUES ('`+name+`', '`+h+`', 1)`); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 { // the second open finds the column there
		u, err := newSQLUsers(ctx, db, dialect)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		if names, err := u.Unclaimed(ctx); err != nil || len(names) != 0 {
			t.Fatalf("Unclaimed after the upgrade = %q, %v", names, err)
		}
		got, ok, err := u.PasswordHash(ctx, "admin")
		if err != nil || !ok || got != h {
			t.Fatalf("the old user after the upgrade: %v %v", ok, err)
		}
	}
	u, _ := newSQLUsers(ctx, db, dialect)
	if err := u.SetPassword(ctx, "admin", "a new password"); err != nil {
		t.Fatal(err)
	}
	// The user admin, the first user the service made, has the admin
	// role; others do not; nobody is disabled.
	for name, admin := range map[string]bool{"admin": true, "other": false} {
		if got, err := u.Get(ctx, name); err != nil || got.Admin != admin || got.Disabled {
			t.Errorf("%s after the upgrade: %+v %v, want admin %v", name, got, err, admin)
		}
	}
	// A role taken away is not given back by the next open.
	if _, err := db.ExecContext(ctx, `UPDATE jwtgate_users SET is_admin = 0`); err != nil {
		t.Fatal(err)
	}
	u, _ = newSQLUsers(ctx, db, dialect)
	if got, _ := u.Get(ctx, "admin"); got.Admin {
		t.Error("reopening gave the admin role back")
	}
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

// TestPasswordsPostgres runs the policy, unclaimed-password and upgrade
// tests on PostgreSQL.
func TestPasswordsPostgres(t *testing.T) {
	ctx := context.Background()
	t.Run("policy", func(t *testing.T) {
		u, err := newSQLUsers(ctx, openPG(t, needPostgres(t)), sqlstore.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		testUserStorePolicy(t, u)
	})
	t.Run("unclaimed", func(t *testing.T) {
		u, err := newSQLUsers(ctx, openPG(t, needPostgres(t)), sqlstore.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		testUnclaimedPassword(t, u)
	})
	t.Run("migration", func(t *testing.T) {
		testUsersTableMigration(t, openPG(t, needPostgres(t)), sqlstore.Postgres)
	})
}
