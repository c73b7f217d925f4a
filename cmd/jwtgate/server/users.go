package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/internal/sqlschema"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// UserStore keeps users and their password hashes.
type UserStore interface {
	// PasswordHash returns the PHC password hash of username; ok is false
	// when there is no such user.
	PasswordHash(ctx context.Context, username string) (hash string, ok bool, err error)
	// Exists reports whether username is a user.
	Exists(ctx context.Context, username string) (bool, error)
	// Ping reports whether the store can answer.
	Ping(ctx context.Context) error
}

// passwordClaimer is implemented by a UserStore that remembers which
// generated passwords have never been used (SQLUsers): the server tells
// it of every successful sign-in.
type passwordClaimer interface {
	ClaimPassword(ctx context.Context, username string) error
}

// Errors of the user store. Their texts carry no package name: they
// reach users as they are, in JSON error answers and the users commands.
var (
	ErrUserExists   = errors.New("user already exists")
	ErrUserNotFound = errors.New("no such user")
	ErrBadUsername  = errors.New("invalid username")
	ErrBadPassword  = errors.New("invalid password")
)

// ValidUsername checks a username: 1 to 256 bytes of UTF-8
// without control characters or surrounding white space.
func ValidUsername(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadUsername)
	case len(name) > maxUsernameLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrBadUsername, maxUsernameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrBadUsername)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: leading or trailing white space", ErrBadUsername)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: control character", ErrBadUsername)
	case strings.ContainsRune(name, utf8.RuneError):
		return fmt.Errorf("%w: U+FFFD, the mark of undecodable bytes", ErrBadUsername)
	}
	return nil
}

// ValidPassword checks a password: 1 to MaxPasswordLen bytes of UTF-8
// (as JSON carries it) without U+FFFD: JSON decoders put that character
// in place of invalid bytes and lone surrogate escapes, so two different
// passwords would become the same one.
func ValidPassword(pw string) error {
	switch {
	case pw == "":
		return fmt.Errorf("%w: empty", ErrBadPassword)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: it must be at most %d bytes long", ErrBadPassword, MaxPasswordLen)
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: not UTF-8", ErrBadPassword)
	case strings.ContainsRune(pw, utf8.RuneError):
		return fmt.Errorf("%w: U+FFFD, the mark of undecodable bytes", ErrBadPassword)
	}
	return nil
}

// SQLUsers is a UserStore in a SQLite or PostgreSQL database (the table
// jwtgate_users).
type SQLUsers struct {
	// Policy is the rule Add and SetPassword apply to new passwords.
	Policy PasswordPolicy

	db      *sql.DB
	dialect sqlstore.Dialect
	// unclaimed is set while a user may have a generated password that
	// has never been used (see ClaimPassword).
	unclaimed atomic.Bool
}

// The users table. password_unclaimed is 1 while the password is one the
// service generated (the first admin's) and it has neither been used to
// sign in nor been changed: it may be known to no one. is_admin gives the
// admin role (the admin API); disabled users cannot sign in, refresh or
// use their tokens. Tables made before those columns existed get them
// when opened: password_unclaimed and disabled as 0, is_admin as 1 for
// the user "admin" (the first user the service makes) and 0 for others.
const usersSchema = `CREATE TABLE IF NOT EXISTS jwtgate_users (
	username           TEXT PRIMARY KEY,
	password_hash      TEXT NOT NULL,
	created_ms         BIGINT NOT NULL,
	password_unclaimed INTEGER NOT NULL DEFAULT 0,
	is_admin           INTEGER NOT NULL DEFAULT 0,
	disabled           INTEGER NOT NULL DEFAULT 0
)`

// usersProbeSchema is the table of Probe: one row, rewritten by each.
const usersProbeSchema = `CREATE TABLE IF NOT EXISTS jwtgate_users_probe (
	id        INTEGER PRIMARY KEY,
	probed_ms BIGINT NOT NULL
)`

// newSQLUsers returns a user store over a SQLite or PostgreSQL database,
// creating its table if it is missing (or adding the columns an older
// version did not have). The *sql.DB stays the caller's.
func newSQLUsers(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (*SQLUsers, error) {
	if dialect != sqlstore.SQLite && dialect != sqlstore.Postgres {
		return nil, fmt.Errorf("server: unknown SQL dialect %v", dialect)
	}
	if err := sqlschema.Create(ctx, db, dialect == sqlstore.Postgres, usersSchema, usersProbeSchema); err != nil {
		return nil, fmt.Errorf("server: create users table: %w", err)
	}
	if err := migrateUsers(ctx, db, dialect); err != nil {
		return nil, fmt.Errorf("server: upgrade users table: %w", err)
	}
	s := &SQLUsers{db: db, dialect: dialect}
	if _, err := s.Unclaimed(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// migrateUsers adds the columns a table made by an older version lacks.
// It looks first, so that the usual start takes no lock on the table; of
// two processes adding a column at once, the loser finds it there.
func migrateUsers(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) error {
	for _, col := range []struct{ name, then string }{
		{"password_unclaimed", ""},
		{"is_admin", `UPDATE jwtgate_users SET is_admin = 1 WHERE username = 'admin'`},
		{"disabled", ""},
	} {
		has := func() bool {
			rows, err := db.QueryContext(ctx, `SELECT `+col.name+` FROM jwtgate_users WHERE 1 = 0`)
			if err != nil {
				return false
			}
			rows.Close()
			return true
		}
		if has() {
			continue
		}
		add := `ALTER TABLE jwtgate_users ADD COLUMN ` + col.name + ` INTEGER NOT NULL DEFAULT 0`
		if dialect == sqlstore.Postgres {
			add = `ALTER TABLE jwtgate_users ADD COLUMN IF NOT EXISTS ` + col.name + ` INTEGER NOT NULL DEFAULT 0`
		}
		if _, err := db.ExecContext(ctx, add); err != nil {
			if !has() {
				return err
			}
			continue // another process added it (and ran col.then)
		}
		if col.then != "" {
			if _, err := db.ExecContext(ctx, col.then); err != nil {
				return err
			}
		}
	}
	return nil
}

// q returns query with PostgreSQL's $n placeholders instead of ? when
// the store is on PostgreSQL.
func (s *SQLUsers) q(query string) string { return rebind(s.dialect, query) }

// PasswordHash implements UserStore. A disabled user is reported as
// missing: its sign-ins are refused like those of an unknown user.
func (s *SQLUsers) PasswordHash(ctx context.Context, username string) (string, bool, error) {
	var h string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT password_hash FROM jwtgate_users WHERE username = ? AND disabled = 0`), username).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return h, true, nil
}

// Exists implements UserStore: a disabled user does not exist for the
// service (its tokens are refused).
func (s *SQLUsers) Exists(ctx context.Context, username string) (bool, error) {
	_, ok, err := s.PasswordHash(ctx, username)
	return ok, err
}

// Ping implements UserStore.
func (s *SQLUsers) Ping(ctx context.Context) error {
	var n int
	return s.db.QueryRowContext(ctx, `SELECT count(*) FROM jwtgate_users WHERE 1 = 0`).Scan(&n)
}

// Probe implements revoke.Prober, for readiness checks: it commits one
// write, an UPSERT of the single row of jwtgate_users_probe, and so fails
// when the database cannot be reached or cannot write (disk full,
// read-only file system, a PostgreSQL standby), where Ping, a read, would
// pass.
func (s *SQLUsers) Probe(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx,
		s.q(`INSERT INTO jwtgate_users_probe (id, probed_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_ms = excluded.probed_ms`),
		time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("server: user store probe: %w", err)
	}
	return nil
}

// Count returns the number of users.
func (s *SQLUsers) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM jwtgate_users`).Scan(&n)
	return n, err
}

// Add creates a user; it fails with ErrUserExists if the name is taken,
// and with ErrBadPassword if the password breaks s.Policy.
func (s *SQLUsers) Add(ctx context.Context, username, password string) error {
	return s.add(ctx, username, password, false, false)
}

// add creates a user; generated marks its password as unclaimed, admin
// gives it the admin role.
func (s *SQLUsers) add(ctx context.Context, username, password string, generated, admin bool) error {
	h, err := s.newHash(username, password)
	if err != nil {
		return err
	}
	return s.insert(ctx, s.db, username, h, generated, admin)
}

// newHash checks username and the policy, and hashes password.
func (s *SQLUsers) newHash(username, password string) (string, error) {
	if err := ValidUsername(username); err != nil {
		return "", err
	}
	if strings.HasPrefix(username, clientIDPrefix) {
		// A client's tokens have its id as sub: a user must never have
		// one (RFC 9068 section 5).
		return "", fmt.Errorf("%w: names starting with %q are OAuth client ids", ErrBadUsername, clientIDPrefix)
	}
	if err := s.Policy.Check(username, password); err != nil {
		return "", err
	}
	return HashPassword(password)
}

// insert adds a user with password hash h.
func (s *SQLUsers) insert(ctx context.Context, x execer, username, h string, generated, admin bool) error {
	if generated {
		s.unclaimed.Store(true)
	}
	res, err := x.ExecContext(ctx,
		s.q(`INSERT INTO jwtgate_users (username, password_hash, created_ms, password_unclaimed, is_admin) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`),
		username, h, time.Now().UnixMilli(), b2i(generated), b2i(admin))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrUserExists, username)
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetPassword changes a user's password; it fails with ErrBadPassword if
// the password breaks s.Policy.
func (s *SQLUsers) SetPassword(ctx context.Context, username, password string) error {
	h, err := s.newHash(username, password)
	if err != nil {
		return err
	}
	return s.setHash(ctx, s.db, username, h)
}

func (s *SQLUsers) setHash(ctx context.Context, x execer, username, h string) error {
	return s.affectOne(ctx, x, username, `UPDATE jwtgate_users SET password_hash = ?, password_unclaimed = 0 WHERE username = ?`, h, username)
}

// SetDisabled disables or enables a user. A disabled user cannot sign in,
// and the service refuses its tokens (end its sessions too: see
// Accounts.SetDisabled).
func (s *SQLUsers) SetDisabled(ctx context.Context, username string, disabled bool) error {
	return s.setDisabled(ctx, s.db, username, disabled)
}

func (s *SQLUsers) setDisabled(ctx context.Context, x execer, username string, disabled bool) error {
	return s.affectOne(ctx, x, username, `UPDATE jwtgate_users SET disabled = ? WHERE username = ?`, b2i(disabled), username)
}

func (s *SQLUsers) setAdmin(ctx context.Context, x execer, username string, admin bool) error {
	return s.affectOne(ctx, x, username, `UPDATE jwtgate_users SET is_admin = ? WHERE username = ?`, b2i(admin), username)
}

// User is a user as the admin API shows it: never its password hash.
type User struct {
	Username string
	Created  time.Time
	Admin    bool
	Disabled bool
}

const userColumns = `SELECT username, created_ms, is_admin, disabled FROM jwtgate_users`

// Get returns a user, disabled or not; the error wraps ErrUserNotFound
// when there is none.
func (s *SQLUsers) Get(ctx context.Context, username string) (User, error) {
	list, err := s.users(ctx, userColumns+` WHERE username = ?`, username)
	if err != nil {
		return User{}, err
	}
	if len(list) == 0 {
		return User{}, fmt.Errorf("%w: %q", ErrUserNotFound, username)
	}
	return list[0], nil
}

// MaxUsersPage is the most users one call of Page returns.
const maxUsersPage = 500

// Page returns, in username order, at most limit users (MaxUsersPage when
// limit is out of 1..MaxUsersPage) whose name comes after after and
// contains search (as bytes, letter case included).
func (s *SQLUsers) Page(ctx context.Context, search, after string, limit int) ([]User, error) {
	if limit <= 0 || limit > maxUsersPage {
		limit = maxUsersPage
	}
	q, args := userColumns+` WHERE username > ?`, []any{after}
	if search != "" {
		// strpos/instr: no LIKE wildcards to escape.
		if s.dialect == sqlstore.Postgres {
			q += ` AND strpos(username, ?) > 0`
		} else {
			q += ` AND instr(username, ?) > 0`
		}
		args = append(args, search)
	}
	return s.users(ctx, q+` ORDER BY username LIMIT ?`, append(args, limit)...)
}

func (s *SQLUsers) users(ctx context.Context, query string, args ...any) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var name string
		var ms int64
		var admin, disabled int
		if err := rows.Scan(&name, &ms, &admin, &disabled); err != nil {
			return nil, err
		}
		u, err := userFromRow(name, ms, admin, disabled)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// userFromRow returns the user of a row of userColumns; the error wraps
// errCorruptRow for a creation time out of years 1 to 9999.
func userFromRow(username string, createdMS int64, admin, disabled int) (User, error) {
	created, err := storedTime("created_ms", createdMS)
	if err != nil {
		return User{}, fmt.Errorf("server: user %q: %w", truncate(username, 64), err)
	}
	return User{Username: username, Created: created, Admin: admin != 0, Disabled: disabled != 0}, nil
}

// Unclaimed returns, in order, the users whose password was generated by
// the service and has since been neither used to sign in nor changed: a
// password that may be known to no one.
func (s *SQLUsers) Unclaimed(ctx context.Context) ([]string, error) {
	names, err := s.list(ctx, `SELECT username FROM jwtgate_users WHERE password_unclaimed <> 0 ORDER BY username`)
	if err != nil {
		return nil, err
	}
	s.unclaimed.Store(len(names) > 0)
	return names, nil
}

// ClaimPassword records that username has signed in with its password,
// so that it is no longer Unclaimed. It costs nothing while no user of the
// store has an unclaimed password, as far as this process knows (the
// first admin is made by the process that serves it).
func (s *SQLUsers) ClaimPassword(ctx context.Context, username string) error {
	if !s.unclaimed.Load() {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE jwtgate_users SET password_unclaimed = 0 WHERE username = ? AND password_unclaimed <> 0`), username); err != nil {
		return err
	}
	_, err := s.Unclaimed(ctx)
	return err
}

// Delete removes a user.
func (s *SQLUsers) Delete(ctx context.Context, username string) error {
	return s.delete(ctx, s.db, username)
}

func (s *SQLUsers) delete(ctx context.Context, x execer, username string) error {
	return s.affectOne(ctx, x, username, `DELETE FROM jwtgate_users WHERE username = ?`, username)
}

func (s *SQLUsers) affectOne(ctx context.Context, x execer, username, query string, args ...any) error {
	res, err := x.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrUserNotFound, username)
	}
	return nil
}

// List returns the usernames in order.
func (s *SQLUsers) List(ctx context.Context) ([]string, error) {
	return s.list(ctx, `SELECT username FROM jwtgate_users ORDER BY username`)
}

func (s *SQLUsers) list(ctx context.Context, query string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
