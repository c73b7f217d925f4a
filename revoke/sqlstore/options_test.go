package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// noDB is a connector that never connects: New must refuse bad options
// before it touches the database.
type noDB struct{}

var errNoDB = errors.New("no database here")

func (noDB) Connect(context.Context) (driver.Conn, error) { return nil, errNoDB }
func (noDB) Driver() driver.Driver                        { return nil }

func TestNewRefuses(t *testing.T) {
	db := sql.OpenDB(noDB{})
	defer db.Close()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		db   *sql.DB
		d    sqlstore.Dialect
		o    sqlstore.Options
		want string
	}{
		{"nil db", nil, sqlstore.SQLite, sqlstore.Options{}, "nil *sql.DB"},
		{"no dialect", db, 0, sqlstore.Options{}, "unknown dialect"},
		{"unknown dialect", db, 3, sqlstore.Options{}, "unknown dialect"},
		{"negative staleness", db, sqlstore.SQLite, sqlstore.Options{MaxStaleness: -time.Second}, "MaxStaleness"},
		{"bad prefix", db, sqlstore.Postgres, sqlstore.Options{TablePrefix: "x; DROP TABLE y"}, "TablePrefix"},
		{"schema fails", db, sqlstore.Postgres, sqlstore.Options{}, "creating schema"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.New(ctx, c.db, c.d, c.o)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to say %q", err, c.want)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	for _, c := range []struct {
		d      sqlstore.Dialect
		bigint bool // 64-bit columns are BIGINT (PostgreSQL), INTEGER is 64-bit on SQLite
	}{
		{sqlstore.SQLite, false},
		{sqlstore.Postgres, true},
	} {
		stmts := sqlstore.Schema(c.d, "app_")
		if len(stmts) < 3 {
			t.Fatalf("%v: %d statements", c.d, len(stmts))
		}
		all := strings.Join(stmts, "\n")
		for _, table := range []string{"app_revoked_jti", "app_revoked_subject", "app_refresh_family", "app_used_id"} {
			if !strings.Contains(all, table) {
				t.Errorf("%v: no table %s in %s", c.d, table, all)
			}
		}
		if got := strings.Contains(all, "BIGINT"); got != c.bigint {
			t.Errorf("%v: BIGINT in the schema: %v, want %v: %s", c.d, got, c.bigint, all)
		}
	}
	if got := sqlstore.Dialect(7).String(); got != "Dialect(7)" {
		t.Errorf("Dialect(7).String() = %q", got)
	}
}
