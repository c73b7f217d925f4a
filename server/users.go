package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

// Errors of the user store.
var (
	ErrUserExists   = errors.New("server: user already exists")
	ErrUserNotFound = errors.New("server: no such user")
	ErrBadUsername  = errors.New("server: invalid username")
	ErrBadPassword  = errors.New("server: invalid password")
)

// ValidUsername checks a username: 1 to MaxUsernameLen bytes of UTF-8
// without control characters or surrounding white space.
func ValidUsername(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadUsername)
	case len(name) > MaxUsernameLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrBadUsername, MaxUsernameLen)
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
		return fmt.Errorf("%w: longer than %d bytes", ErrBadPassword, MaxPasswordLen)
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
	db      *sql.DB
	dialect sqlstore.Dialect
}

const usersSchema = `CREATE TABLE IF NOT EXISTS jwtgate_users (
	username      TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	created_ms    BIGINT NOT NULL
)`

// usersProbeSchema is the table of Probe: one row, rewritten by each.
const usersProbeSchema = `CREATE TABLE IF NOT EXISTS jwtgate_users_probe (
	id        INTEGER PRIMARY KEY,
	probed_ms BIGINT NOT NULL
)`

// NewSQLUsers returns a user store over a SQLite or PostgreSQL database,
// creating its table if it is missing. The *sql.DB stays the caller's.
func NewSQLUsers(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (*SQLUsers, error) {
	if dialect != sqlstore.SQLite && dialect != sqlstore.Postgres {
		return nil, fmt.Errorf("server: unknown SQL dialect %v", dialect)
	}
	for _, stmt := range []string{usersSchema, usersProbeSchema} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("server: create users table: %w", err)
		}
	}
	return &SQLUsers{db: db, dialect: dialect}, nil
}

// q returns query with PostgreSQL's $n placeholders instead of ? when
// the store is on PostgreSQL.
func (s *SQLUsers) q(query string) string {
	if s.dialect != sqlstore.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PasswordHash implements UserStore.
func (s *SQLUsers) PasswordHash(ctx context.Context, username string) (string, bool, error) {
	var h string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT password_hash FROM jwtgate_users WHERE username = ?`), username).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return h, true, nil
}

// Exists implements UserStore.
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

// Add creates a user; it fails with ErrUserExists if the name is taken.
func (s *SQLUsers) Add(ctx context.Context, username, password string) error {
	if err := ValidUsername(username); err != nil {
		return err
	}
	if err := ValidPassword(password); err != nil {
		return err
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx,
		s.q(`INSERT INTO jwtgate_users (username, password_hash, created_ms) VALUES (?, ?, ?) ON CONFLICT (username) DO NOTHING`),
		username, h, time.Now().UnixMilli())
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

// SetPassword changes a user's password.
func (s *SQLUsers) SetPassword(ctx context.Context, username, password string) error {
	if err := ValidPassword(password); err != nil {
		return err
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.affectOne(ctx, username, `UPDATE jwtgate_users SET password_hash = ? WHERE username = ?`, h, username)
}

// Delete removes a user.
func (s *SQLUsers) Delete(ctx context.Context, username string) error {
	return s.affectOne(ctx, username, `DELETE FROM jwtgate_users WHERE username = ?`, username)
}

func (s *SQLUsers) affectOne(ctx context.Context, username, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
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
	rows, err := s.db.QueryContext(ctx, `SELECT username FROM jwtgate_users ORDER BY username`)
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
