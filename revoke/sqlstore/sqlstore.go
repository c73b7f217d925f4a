// Package sqlstore is a revoke.Store on database/sql, for SQLite and
// PostgreSQL. It imports no driver: it takes a *sql.DB and its Dialect.
// The modules github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite (the pure
// Go driver modernc.org/sqlite, no cgo) and .../sqlstore/postgres (pgx's
// database/sql driver) open a database with the driver and the settings
// the store needs, so that a PostgreSQL user does not compile SQLite, nor
// the reverse. Revocations survive restarts and, on PostgreSQL, are shared
// by every instance using the database.
//
// New creates the tables if they are missing (the schema is in README.md),
// and removes expired rows every Options.CleanupInterval. Refresh-token
// rotation runs in one transaction: SELECT ... FOR UPDATE on PostgreSQL,
// BEGIN IMMEDIATE on SQLite, so two instances rotating the same token
// cannot both succeed.
//
// A check (CheckToken) reads the token's jti, subject and session (its
// refresh family) in one query. On SQLite, answers are cached in process
// and kept for as long as PRAGMA data_version shows that nothing was
// committed to the database since they were read, by this process or any
// other (Options.CacheEntries; README.md has the measurements).
//
// Times are stored as Unix milliseconds.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/internal/sqlschema"
	"github.com/jwtgate/jwtgate/revoke"
)

// Dialect is the SQL dialect of the database.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Options configure New.
type Options struct {
	// TablePrefix is put before the table names: "jwtgate_" by default.
	// Letters, digits and underscores only.
	TablePrefix string

	// CleanupInterval is how often expired rows are deleted: 5 minutes by
	// default; negative turns the background cleanup off (call Cleanup
	// yourself).
	CleanupInterval time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time

	// CacheEntries bounds the SQLite answer cache (jti, subject and family rows
	// together; the cache is emptied when full): 100_000 by default (up
	// to about 10 MB), at least 3; negative turns the cache off. Answers
	// are kept only while PRAGMA data_version, read on a connection the
	// store keeps for it, shows no commit to the database by anyone (this
	// store, other stores, other processes) since they were read, so a
	// revocation committed before a check began is always seen. The cache holds one
	// connection of the pool; with db.SetMaxOpenConns(1) it stays off.
	// PostgreSQL is never cached (use revoke/redisstore for that).
	CacheEntries int

	// MaxStaleness lets one read of data_version stand for the checks of
	// the next MaxStaleness (SQLite with the cache only): a commit by
	// another connection or process is then seen by the checks that begin
	// MaxStaleness after it, at the latest. This store's own writes are
	// seen at once whatever it is. 0, the default: data_version is read
	// on every check (7-10 µs each here), and a commit made anywhere is
	// seen by every check that begins after it.
	MaxStaleness time.Duration
}

// DefaultCacheEntries is the default Options.CacheEntries.
const DefaultCacheEntries = 100_000

// Store is a revoke.Store in a SQL database. Close it to stop the
// background cleanup; the *sql.DB stays the caller's.
type Store struct {
	db      *sql.DB
	dialect Dialect
	clock   func() time.Time
	t       tables
	q       queries
	probe   string      // the write of Probe
	cache   *cache      // SQLite only; nil when off
	uses    *useBatcher // SQLite only: the group commits of Use

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

type tables struct{ jti, subject, family, used string }

type queries struct {
	revoke, revoked, revokeSubject, cutoff, check string
	rows                                          string // for the cache: raw rows, no time filter
	famInsert, famSelect, famUpdate, famRevoke    string
	famEnd, famRevoked                            string
	cleanJTI, cleanSubject, cleanFamily           string
	use, useTakeover, cleanUsed                   string
}

var (
	_ revoke.Store         = (*Store)(nil)
	_ revoke.TokenChecker  = (*Store)(nil)
	_ revoke.CachedChecker = (*Store)(nil)
	_ revoke.OneTimeStore  = (*Store)(nil)
)

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// New returns a store over db, creating its tables if they are missing.
func New(ctx context.Context, db *sql.DB, dialect Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	if opts.MaxStaleness < 0 {
		return nil, errors.New("sqlstore: negative MaxStaleness")
	}
	p := opts.TablePrefix
	if p == "" {
		p = "jwtgate_"
	}
	if !prefixRE.MatchString(p) {
		return nil, fmt.Errorf("sqlstore: TablePrefix %q: use letters, digits and underscores", p)
	}
	s := &Store{
		db:      db,
		dialect: dialect,
		clock:   opts.Clock,
		t:       tables{jti: p + "revoked_jti", subject: p + "revoked_subject", family: p + "refresh_family", used: p + "used_id"},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.q = s.buildQueries()
	if dialect == SQLite {
		s.uses = &useBatcher{s: s}
	}
	s.probe = probeQuery(dialect, p)
	if n := opts.CacheEntries; dialect == SQLite && n >= 0 {
		if n == 0 {
			n = DefaultCacheEntries
		}
		s.cache = newCache(db, max(n, 3), opts.MaxStaleness)
	}
	if err := createSchema(ctx, db, dialect, p); err != nil {
		return nil, err
	}
	interval := opts.CleanupInterval
	if interval == 0 {
		interval = 5 * time.Minute
	}
	if interval > 0 {
		go s.cleanupLoop(interval)
	} else {
		close(s.done)
	}
	return s, nil
}

// createSchema creates the store's tables and indexes that are missing.
// On PostgreSQL it first looks whether they all exist: CREATE INDEX IF NOT
// EXISTS takes its table's SHARE lock before it finds the index there, so
// a start would wait behind every write queued on a busy row (and those
// behind it); a usual start, on tables that exist, takes no lock at all.
func createSchema(ctx context.Context, db *sql.DB, d Dialect, prefix string) error {
	if d == Postgres {
		missing := false
		for _, name := range schemaRelations(prefix) {
			var found bool
			if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&found); err != nil {
				return fmt.Errorf("sqlstore: creating schema: looking for its tables: %w", err)
			}
			if !found {
				missing = true
				break
			}
		}
		if !missing {
			return nil
		}
	}
	if err := sqlschema.Create(ctx, db, d == Postgres, Schema(d, prefix)...); err != nil {
		return fmt.Errorf("sqlstore: creating schema: %w", err)
	}
	return nil
}

// schemaRelations names the tables and indexes that Schema creates.
func schemaRelations(prefix string) []string {
	return []string{
		prefix + "revoked_jti", prefix + "revoked_jti_expires",
		prefix + "revoked_subject", prefix + "revoked_subject_expires",
		prefix + "refresh_family", prefix + "refresh_family_expires",
		prefix + "used_id", prefix + "used_id_expires",
		probeTable(prefix),
	}
}

// Schema returns the statements that create the store's tables (if
// missing) for a dialect and table prefix.
func Schema(d Dialect, prefix string) []string {
	text, big := "TEXT", "BIGINT"
	if d == SQLite {
		big = "INTEGER"
	}
	return []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %srevoked_jti (jti %s PRIMARY KEY, expires_at %s NOT NULL)`, prefix, text, big),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %srevoked_jti_expires ON %srevoked_jti (expires_at)`, prefix, prefix),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %srevoked_subject (subject %s PRIMARY KEY, cutoff %s NOT NULL, expires_at %s NOT NULL)`, prefix, text, big, big),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %srevoked_subject_expires ON %srevoked_subject (expires_at)`, prefix, prefix),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %srefresh_family (family %s PRIMARY KEY, current_jti %s NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, expires_at %s NOT NULL)`, prefix, text, text, big),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %srefresh_family_expires ON %srefresh_family (expires_at)`, prefix, prefix),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %sused_id (id %s PRIMARY KEY, expires_at %s NOT NULL)`, prefix, text, big),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %sused_id_expires ON %sused_id (expires_at)`, prefix, prefix),
		probeSchema(d, prefix),
	}
}

func (s *Store) buildQueries() queries {
	j, sb, f, u := s.t.jti, s.t.subject, s.t.family, s.t.used
	q := queries{
		revoke:  `INSERT INTO ` + j + ` (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET expires_at = CASE WHEN excluded.expires_at > ` + j + `.expires_at THEN excluded.expires_at ELSE ` + j + `.expires_at END`,
		revoked: `SELECT COUNT(*) FROM ` + j + ` WHERE jti = ? AND expires_at > ?`,
		revokeSubject: `INSERT INTO ` + sb + ` (subject, cutoff, expires_at) VALUES (?, ?, ?) ON CONFLICT (subject) DO UPDATE SET ` +
			`cutoff = CASE WHEN ` + sb + `.expires_at <= ? OR excluded.cutoff > ` + sb + `.cutoff THEN excluded.cutoff ELSE ` + sb + `.cutoff END, ` +
			`expires_at = CASE WHEN excluded.expires_at > ` + sb + `.expires_at THEN excluded.expires_at ELSE ` + sb + `.expires_at END`,
		cutoff: `SELECT cutoff FROM ` + sb + ` WHERE subject = ? AND expires_at > ?`,
		check: `SELECT (SELECT COUNT(*) FROM ` + j + ` WHERE jti = ? AND expires_at > ?), (SELECT cutoff FROM ` + sb + ` WHERE subject = ? AND expires_at > ?), ` +
			`(SELECT COUNT(*) FROM ` + f + ` WHERE family = ? AND revoked <> 0 AND expires_at > ?)`,
		rows: `SELECT (SELECT expires_at FROM ` + j + ` WHERE jti = ?), (SELECT cutoff FROM ` + sb + ` WHERE subject = ?), (SELECT expires_at FROM ` + sb + ` WHERE subject = ?), ` +
			`(SELECT expires_at FROM ` + f + ` WHERE family = ? AND revoked <> 0)`,

		famInsert: `INSERT INTO ` + f + ` (family, current_jti, revoked, expires_at) VALUES (?, ?, 0, ?) ON CONFLICT (family) DO NOTHING`,
		famSelect: `SELECT current_jti, revoked, expires_at FROM ` + f + ` WHERE family = ?`,
		famUpdate: `UPDATE ` + f + ` SET current_jti = ?, revoked = 0, expires_at = ? WHERE family = ?`,
		famRevoke: `UPDATE ` + f + ` SET revoked = 1 WHERE family = ?`,
		// A row that is new or expired gets until; a live one keeps the
		// later expiry. current_jti '' matches no token.
		famEnd: `INSERT INTO ` + f + ` (family, current_jti, revoked, expires_at) VALUES (?, '', 1, ?) ON CONFLICT (family) DO UPDATE SET revoked = 1, ` +
			`expires_at = CASE WHEN excluded.expires_at > ` + f + `.expires_at THEN excluded.expires_at ELSE ` + f + `.expires_at END`,
		famRevoked: `SELECT COUNT(*) FROM ` + f + ` WHERE family = ? AND revoked <> 0 AND expires_at > ?`,

		cleanJTI:     `DELETE FROM ` + j + ` WHERE expires_at <= ?`,
		cleanSubject: `DELETE FROM ` + sb + ` WHERE expires_at <= ?`,
		cleanFamily:  `DELETE FROM ` + f + ` WHERE expires_at <= ?`,

		// A new id is inserted; an id already there is left alone
		// (without a lock: a replay writes nothing), unless its row has
		// expired (the cleanup may not have run yet): then the second
		// statement takes it over. Either changes a row if and only if
		// this call is the first use.
		use:         `INSERT INTO ` + u + ` (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		useTakeover: `UPDATE ` + u + ` SET expires_at = ? WHERE id = ? AND expires_at <= ?`,
		cleanUsed:   `DELETE FROM ` + u + ` WHERE expires_at <= ?`,
	}
	if s.dialect == Postgres {
		q.famSelect += ` FOR UPDATE`
		for _, p := range []*string{&q.revoke, &q.revoked, &q.revokeSubject, &q.cutoff, &q.check, &q.famInsert, &q.famSelect, &q.famUpdate, &q.famRevoke, &q.famEnd, &q.famRevoked, &q.cleanJTI, &q.cleanSubject, &q.cleanFamily, &q.use, &q.useTakeover, &q.cleanUsed} {
			*p = rebind(*p)
		}
	}
	return q
}

// rebind turns ? placeholders into $1, $2, ...
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// Close stops the background cleanup and gives the cache's connection
// back to the pool. It does not close the *sql.DB; close the store first.
// The store still answers after Close, without cache.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	if s.cache != nil {
		s.cache.close()
	}
	return nil
}

// invalidate empties the cache after a write of the store (done or not:
// a failed commit may still have been made).
func (s *Store) invalidate() {
	if s.cache != nil {
		s.cache.invalidate()
	}
}

// cachedRows returns the stored rows that k asks for, from the cache or
// by a query whose answer it then keeps. ok false: no cache, or it cannot
// be used now; the caller queries as without it.
func (s *Store) cachedRows(ctx context.Context, k lookup) (r rows, ok bool, err error) {
	c := s.cache
	if c == nil {
		return rows{}, false, nil
	}
	gen, ok := c.sync(ctx)
	if !ok {
		return rows{}, false, nil
	}
	if r, ok := c.get(gen, k); ok {
		return r, true, nil
	}
	c.queries.Add(1)
	var e, cut, sexp, fexp sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.q.rows, k.jti, k.subject, k.subject, k.family).Scan(&e, &cut, &sexp, &fexp); err != nil {
		return rows{}, true, err
	}
	r.jti, r.family = e.Int64, fexp.Int64
	if sexp.Valid {
		if !cut.Valid {
			return rows{}, true, errors.New("NULL cutoff")
		}
		r.subject = subjectRow{cutoff: cut.Int64, expires: sexp.Int64}
	}
	c.put(gen, k, r)
	return r, true, nil
}

func (s *Store) cleanupLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = s.Cleanup(ctx)
			cancel()
		}
	}
}

// Cleanup deletes expired rows.
func (s *Store) Cleanup(ctx context.Context) error {
	defer s.invalidate()
	now := ms(s.clock())
	for _, q := range []string{s.q.cleanJTI, s.q.cleanSubject, s.q.cleanFamily, s.q.cleanUsed} {
		if _, err := s.db.ExecContext(ctx, q, now); err != nil {
			return fmt.Errorf("sqlstore: cleanup: %w", err)
		}
	}
	return nil
}

// Revoke implements revoke.Store.
func (s *Store) Revoke(ctx context.Context, jti string, until time.Time) error {
	if err := revoke.Validate("jti", jti, until); err != nil {
		return err
	}
	if !until.After(s.clock()) {
		return nil
	}
	defer s.invalidate()
	if _, err := s.db.ExecContext(ctx, s.q.revoke, jti, ms(until)); err != nil {
		return fmt.Errorf("sqlstore: revoke: %w", err)
	}
	return nil
}

// Revoked implements revoke.Store.
func (s *Store) Revoked(ctx context.Context, jti string) (bool, error) {
	if r, ok, err := s.cachedRows(ctx, lookup{jti: jti, need: needJTI}); ok {
		if err != nil {
			return false, fmt.Errorf("sqlstore: revoked: %w", err)
		}
		return r.jti > ms(s.clock()), nil
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, s.q.revoked, jti, ms(s.clock())).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: revoked: %w", err)
	}
	return n > 0, nil
}

// RevokeSubject implements revoke.Store.
func (s *Store) RevokeSubject(ctx context.Context, subject string, before, until time.Time) error {
	if err := revoke.Validate("subject", subject, until); err != nil {
		return err
	}
	now := s.clock()
	if !until.After(now) {
		return nil
	}
	defer s.invalidate()
	if _, err := s.db.ExecContext(ctx, s.q.revokeSubject, subject, ms(before), ms(until), ms(now)); err != nil {
		return fmt.Errorf("sqlstore: revoke subject: %w", err)
	}
	return nil
}

// SubjectCutoff implements revoke.Store.
func (s *Store) SubjectCutoff(ctx context.Context, subject string) (time.Time, error) {
	if r, ok, err := s.cachedRows(ctx, lookup{subject: subject, need: needSubject}); ok {
		if err != nil {
			return time.Time{}, fmt.Errorf("sqlstore: subject cutoff: %w", err)
		}
		if r.subject.expires > ms(s.clock()) {
			return time.UnixMilli(r.subject.cutoff), nil
		}
		return time.Time{}, nil
	}
	var c int64
	err := s.db.QueryRowContext(ctx, s.q.cutoff, subject, ms(s.clock())).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: subject cutoff: %w", err)
	}
	return time.UnixMilli(c), nil
}

// RevokeFamily implements revoke.Store.
func (s *Store) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if err := revoke.Validate("family", family, until); err != nil {
		return err
	}
	if !until.After(s.clock()) {
		return nil
	}
	defer s.invalidate()
	if _, err := s.db.ExecContext(ctx, s.q.famEnd, family, ms(until)); err != nil {
		return fmt.Errorf("sqlstore: revoke family: %w", err)
	}
	return nil
}

// FamilyRevoked implements revoke.Store.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	if r, ok, err := s.cachedRows(ctx, lookup{family: family, need: needFamily}); ok {
		if err != nil {
			return false, fmt.Errorf("sqlstore: family revoked: %w", err)
		}
		return r.family > ms(s.clock()), nil
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, s.q.famRevoked, family, ms(s.clock())).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: family revoked: %w", err)
	}
	return n > 0, nil
}

// lookupOf returns what a check of q reads.
func lookupOf(q revoke.Query) lookup {
	k := lookup{jti: q.JTI, subject: q.Subject, family: q.Family, need: needJTI}
	if q.Subject != "" {
		k.need |= needSubject
	}
	if q.Family != "" {
		k.need |= needFamily
	}
	return k
}

// CheckToken implements revoke.TokenChecker in one query, or from the
// cache on SQLite.
func (s *Store) CheckToken(ctx context.Context, q revoke.Query) (bool, error) {
	if r, ok, err := s.cachedRows(ctx, lookupOf(q)); ok {
		if err != nil {
			return false, fmt.Errorf("sqlstore: check: %w", err)
		}
		return s.answer(r, q), nil
	}
	now := ms(s.clock())
	var n, fam int64
	var cutoff sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.q.check, q.JTI, now, q.Subject, now, q.Family, now).Scan(&n, &cutoff, &fam); err != nil {
		return false, fmt.Errorf("sqlstore: check: %w", err)
	}
	if n > 0 || (fam > 0 && q.Family != "") {
		return true, nil
	}
	if !cutoff.Valid || q.Subject == "" {
		return false, nil
	}
	return revoke.CutoffRevokes(time.UnixMilli(cutoff.Int64), q.IssuedAt), nil
}

// CheckCached implements revoke.CachedChecker: with MaxStaleness, a
// token whose rows are in the cache is answered without I/O while the
// last read of data_version stands; ok is false otherwise (CheckToken
// then reads).
func (s *Store) CheckCached(q revoke.Query) (revoked, ok bool) {
	c := s.cache
	if c == nil {
		return false, false
	}
	gen, ok := c.fresh()
	if !ok {
		return false, false
	}
	r, ok := c.get(gen, lookupOf(q))
	if !ok {
		return false, false
	}
	return s.answer(r, q), true
}

// answer decides from cached rows.
func (s *Store) answer(r rows, q revoke.Query) bool {
	now := ms(s.clock())
	if r.jti > now || (q.Family != "" && r.family > now) {
		return true
	}
	if q.Subject == "" || r.subject.expires <= now {
		return false
	}
	return revoke.CutoffRevokes(time.UnixMilli(r.subject.cutoff), q.IssuedAt)
}

// Use implements revoke.OneTimeStore: INSERT ... ON CONFLICT (id) DO
// NOTHING, and when the id was there, an UPDATE that takes its row over
// only if it has expired. Each statement is atomic on both databases (on
// PostgreSQL a concurrent insert of the same id waits for the other
// transaction and then finds its row; an UPDATE re-reads a row changed
// meanwhile; on SQLite writes are serialised), so exactly one caller
// changes a row. A replay of a live id locks and writes nothing. The row
// is deleted by the cleanup after until. On SQLite the calls that arrive
// together are committed together (one transaction, one flush to disk,
// for up to 256 of them: see usebatch.go), and, like any commit, empty
// the answer caches of the database.
func (s *Store) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := revoke.Validate("single-use id", id, until); err != nil {
		return false, err
	}
	now := s.clock()
	if !until.After(now) {
		return false, fmt.Errorf("%w: single-use id %q: until %v is not in the future", revoke.ErrInvalidArgument, id, until)
	}
	// until rounded up to the millisecond, so that the row outlives it.
	u := ms(until.Add(time.Millisecond - 1))
	if s.uses != nil {
		return s.uses.use(ctx, &useReq{id: id, until: u, now: ms(now)})
	}
	first, err := s.use(ctx, s.db, id, u, ms(now))
	if err != nil {
		return false, fmt.Errorf("sqlstore: use: %w", err)
	}
	return first, nil
}

// use runs Use's statements on x (the pool, or a transaction).
func (s *Store) use(ctx context.Context, x execer, id string, until, now int64) (bool, error) {
	changed := func(q string, args ...any) (bool, error) {
		res, err := x.ExecContext(ctx, q, args...)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, err
		}
		if n > 1 {
			return false, fmt.Errorf("%d rows changed for one id", n)
		}
		return n == 1, nil
	}
	if first, err := changed(s.q.use, id, until); err != nil || first {
		return first, err
	}
	return changed(s.q.useTakeover, until, id, now)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Rotate implements revoke.Store in one transaction.
func (s *Store) Rotate(ctx context.Context, family, oldJTI, newJTI string, until time.Time) error {
	if err := revoke.Validate("family", family, until); err != nil {
		return err
	}
	if oldJTI == "" || newJTI == "" || oldJTI == newJTI {
		return fmt.Errorf("%w: rotate needs two different jtis", revoke.ErrInvalidArgument)
	}
	now := s.clock()
	if !until.After(now) {
		return fmt.Errorf("%w: until is in the past", revoke.ErrInvalidArgument)
	}
	var reused error
	defer s.invalidate()
	err := s.inTx(ctx, func(tx execer) error {
		var err error
		reused, err = s.rotate(ctx, tx, family, oldJTI, newJTI, ms(until), ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: rotate: %w", err)
	}
	return reused
}

func (s *Store) rotate(ctx context.Context, tx execer, family, oldJTI, newJTI string, until, now int64) (reused, err error) {
	// A family the store does not know starts with oldJTI as current. On
	// PostgreSQL a concurrent insert of the same family waits here for the
	// other transaction, then finds its row below.
	if _, err := tx.ExecContext(ctx, s.q.famInsert, family, oldJTI, until); err != nil {
		return nil, err
	}
	var cur string
	var revoked, exp int64
	if err := tx.QueryRowContext(ctx, s.q.famSelect, family).Scan(&cur, &revoked, &exp); err != nil {
		return nil, err
	}
	switch {
	case exp <= now:
		// Expired: every token of the old family has expired too.
	case revoked != 0 || cur != oldJTI:
		if revoked == 0 {
			if _, err := tx.ExecContext(ctx, s.q.famRevoke, family); err != nil {
				return nil, err
			}
		}
		return fmt.Errorf("%w: family %q, token %q", revoke.ErrReused, family, oldJTI), nil
	default:
		until = max(until, exp)
	}
	if _, err := tx.ExecContext(ctx, s.q.famUpdate, newJTI, until, family); err != nil {
		return nil, err
	}
	return nil, nil
}

// inTx runs f in a write transaction: BEGIN IMMEDIATE on SQLite (the write
// lock is taken first, so no two rotations interleave), a READ COMMITTED
// transaction with row locks on PostgreSQL.
func (s *Store) inTx(ctx context.Context, f func(execer) error) error {
	if s.dialect == Postgres {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := f(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := f(conn); err != nil {
		s.rollback(conn)
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.rollback(conn)
		return err
	}
	return nil
}

func (s *Store) rollback(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		// A connection left inside a transaction must not go back to the
		// pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// CacheStats describe the SQLite answer cache of a store.
type CacheStats struct {
	// On is false when the store keeps no cache (PostgreSQL, or
	// Options.CacheEntries negative).
	On bool
	// Entries is the number of jti, subject and family rows cached.
	Entries int
	// Misses counts the checks that queried the database with the cache
	// on: those it could not answer.
	Misses int64
}

// CacheStats returns the state of the answer cache, to size
// Options.CacheEntries and see how often checks reach the database.
func (s *Store) CacheStats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	return CacheStats{On: true, Entries: s.cache.len(), Misses: s.cache.queries.Load()}
}
