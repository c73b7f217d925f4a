package sqlstore

import (
	"context"
	"fmt"

	"github.com/jwtgate/jwtgate/revoke"
)

var _ revoke.Prober = (*Store)(nil)

// probeTable returns the name of the probe table of a table prefix: one
// row, rewritten by every Probe.
func probeTable(prefix string) string { return prefix + "probe" }

// probeSchema returns the statement that creates the probe table.
func probeSchema(d Dialect, prefix string) string {
	big := "BIGINT"
	if d == SQLite {
		big = "INTEGER"
	}
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (id INTEGER PRIMARY KEY, probed_at %s NOT NULL)`, probeTable(prefix), big)
}

// probeQuery returns the write of Probe: an UPSERT of the probe table's
// only row.
func probeQuery(d Dialect, prefix string) string {
	q := `INSERT INTO ` + probeTable(prefix) + ` (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`
	if d == Postgres {
		q = rebind(q)
	}
	return q
}

// Probe implements revoke.Prober: it commits one write, an UPSERT of the
// single row of the probe table (PREFIXprobe), which the answer cache
// never serves. It fails, within ctx, when the database cannot be reached
// or cannot keep a write: disk full, a read-only file system or database
// (a PostgreSQL standby), a write lock held by someone else past ctx. The
// write is a commit like any other: on SQLite it also empties the answer
// caches of every process on the database (they refill with one query
// each), so call it for readiness checks, not per request.
func (s *Store) Probe(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, s.probe, ms(s.clock())); err != nil {
		return fmt.Errorf("sqlstore: probe: %w", err)
	}
	return nil
}
