package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// errCorruptRow is wrapped by the errors of a stored row whose values no
// version of the service writes: the row is refused rather than read
// into values that would wrap around or could not be written back (as
// JSON or RFC 3339).
var errCorruptRow = errors.New("corrupt stored row")

// The stored times the service reads, in Unix milliseconds: years 1 to
// 9999, the range JSON and RFC 3339 can hold. The first is the zero
// time.Time, which some columns hold for "none".
const (
	minStoredMillis = -62135596800000 // 0001-01-01T00:00:00Z
	maxStoredMillis = 253402300799999 // 9999-12-31T23:59:59.999Z
)

// storedTime returns the time of a column of Unix milliseconds, or an
// error wrapping errCorruptRow when it is out of years 1 to 9999.
func storedTime(column string, ms int64) (time.Time, error) {
	if ms < minStoredMillis || ms > maxStoredMillis {
		return time.Time{}, fmt.Errorf("%w: %s %d is not a time of years 1 to 9999", errCorruptRow, column, ms)
	}
	return time.UnixMilli(ms), nil
}
