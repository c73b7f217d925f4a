// Package postgres opens PostgreSQL databases for the SQL revocation store
// (package sqlstore) with pgx's database/sql driver
// (github.com/jackc/pgx/v5/stdlib):
//
//	db, err := postgres.Open("postgres://app@db.internal/app")
//	...
//	store, err := sqlstore.New(ctx, db, sqlstore.Postgres, sqlstore.Options{})
//
// It is its own module, so that only PostgreSQL users compile the driver.
package postgres

import (
	"database/sql"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// Open returns a pool on the PostgreSQL database that dsn names (a URL,
// postgres://user@host:port/db?sslmode=..., or key=value pairs as libpq
// takes them). Like sql.Open it does not connect: ping it to check.
func Open(dsn string) (*sql.DB, error) {
	return sql.Open("pgx", dsn)
}
