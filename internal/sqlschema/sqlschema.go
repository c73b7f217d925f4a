// Package sqlschema creates the tables of jwtgate's SQL stores so that
// processes starting at once on a database without them all succeed.
package sqlschema

import (
	"context"
	"database/sql"
	"fmt"
)

// lockKey is the PostgreSQL advisory lock that creations of tables take
// in turn: "jwgschm".
const lockKey = 0x6a7767_7363686d

// Create runs stmts, statements that create what is missing (CREATE TABLE
// IF NOT EXISTS, CREATE INDEX IF NOT EXISTS), in one transaction. On
// PostgreSQL the transaction first takes an advisory lock (released at
// its end): two sessions that create one table at once do not wait for
// each other there, the second fails on a unique index of the catalog,
// so creations take turns. Elsewhere (SQLite, whose writers take the
// database's lock) the statements run as they are.
func Create(ctx context.Context, db *sql.DB, postgres bool, stmts ...string) error {
	if !postgres {
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return fmt.Errorf("waiting for other instances creating tables: %w", err)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return tx.Commit()
}
