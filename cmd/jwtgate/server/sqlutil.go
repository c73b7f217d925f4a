package server

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// rebind returns query with PostgreSQL's $n placeholders instead of ? when
// dialect is PostgreSQL.
func rebind(dialect sqlstore.Dialect, query string) string {
	if dialect != sqlstore.Postgres {
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

// execer runs statements: a *sql.DB, or a *sql.Tx when a change and its
// audit event are written together.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs f in a transaction of db, committed when f returns nil.
// Statements in f should write before they read: on SQLite a transaction
// that reads first cannot wait for another writer (it fails busy).
func inTx(ctx context.Context, db *sql.DB, f func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
