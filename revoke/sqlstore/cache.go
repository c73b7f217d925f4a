package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The SQLite answer cache.
//
// A check on SQLite through database/sql and modernc.org/sqlite costs
// 20-50 µs (BenchmarkCheckTokenCached/query: preparing and stepping the
// statement in the transpiled C library, and database/sql), and the same token
// is checked on every request of its session. The cache keeps, in process,
// the rows last read for each jti, subject and family: the raw expires_at
// (and cutoff), never a "revoked" verdict, so an answer still depends on the
// clock exactly as the query's "expires_at > now" does.
//
// Its validity comes from PRAGMA data_version
// (https://www.sqlite.org/pragma.html#pragma_data_version): on one
// connection, two reads of it differ if and only if another connection, in
// this process or any other, committed a change to the database file in
// between. The store keeps one pool connection (the "dedicated connection")
// that only ever reads data_version; it never writes, so every commit
// (other processes, such as `jwtgate users delete`, the store's own writes,
// which go through other pool connections, and anything else writing to
// the file) changes the value it reads next. Each check reads data_version
// first; a new value empties the cache.
//
// Why an answer from the cache is never older than a commit that finished
// before the check began: the reads of data_version are serialised on the
// dedicated connection. Let R be this check's read, which begins after the
// check began and so after the commit; the cache is used only if R returned
// the value v the cache was last synchronised to. The reads returning v
// form an unbroken run R_a..R (a different value in between would have
// emptied the cache and started a new generation), so no commit happened
// between R_a and R; the commit in question happened before R_a. Every
// entry of the generation was filled by a query started after one of those
// reads (a fill is tagged with the generation its own read of data_version
// returned, and is dropped if the generation changed before it is stored),
// so the query's snapshot contains every commit made before R_a. The same
// holds across a replaced dedicated connection (its values start afresh):
// replacing it starts a new generation, and the first read on the new
// connection empties the cache.
//
// The store's own writes also empty the cache (and start a new generation)
// right after they return, whether or not they failed: data_version alone
// would do, this makes it plain.
//
// Cost, measured on a shared 2-core VM (modernc.org/sqlite v1.61.1, WAL;
// BenchmarkDataVersion, BenchmarkCheckTokenCached; README.md has the
// table): reading data_version through database/sql (QueryRowContext on
// the *sql.Conn) costs 8.5-10 µs, about the same with a *sql.Stmt prepared
// on the conn, and 6-7.5 µs through (*sql.Conn).Raw with a driver statement
// prepared once, which is what the cache does. Half of that is the two
// fcntl system calls SQLite makes to take and drop the WAL read lock: the
// price of starting a read transaction, which is what makes data_version
// current, and not avoidable soundly (holding a read transaction open
// would freeze the value and the checkpoints; reading the -shm file's
// header ourselves would depend on SQLite's internals). A context with a
// deadline (revoke.Check always gives one) adds about 2-3 µs: the driver
// starts a goroutine per statement to interrupt it when the context ends.
// The cache passes the caller's context anyway, so a read waiting on a
// lock (busy_timeout is 5 s) ends with the check's timeout. A cached
// CheckToken with such a context costs 8-17 µs against 28-48 µs for the
// query (a protected request: 22-26 µs against 47-55 µs).
type cache struct {
	db  *sql.DB
	max int // entries (jti, subject and family together) before the maps are emptied
	// stale is Options.MaxStaleness: how long a read of data_version
	// stands for the ones after it.
	stale time.Duration

	// sem (capacity 1) serialises the use of the dedicated connection and
	// the synchronisation of the cache with a value read on it.
	sem    chan struct{}
	conn   *sql.Conn   // the dedicated connection, nil until opened
	stmt   driver.Stmt // PRAGMA data_version, prepared on conn
	closed bool        // Close was called: no more connection
	// For the driver call: set under sem, read by readFn.
	readCtx context.Context
	readVal int64
	dest    []driver.Value
	readFn  func(any) error

	mu      sync.Mutex
	gen     uint64 // changes whenever entries may have become stale
	synced  bool   // version holds a value read on the current conn
	version int64
	readAt  time.Time             // when the read of version began
	jti     map[string]int64      // jti -> expires_at (ms), 0: no row
	subject map[string]subjectRow // subject -> its row, zero: no row
	family  map[string]int64      // family -> expires_at (ms) if revoked, 0: none

	queries atomic.Int64 // fills (queries made with the cache in use): CacheStats.Misses
}

type subjectRow struct{ cutoff, expires int64 }

// rows are the stored rows of a token: its jti's expires_at, its subject's
// row and its family's expires_at when revoked (0: no such row).
type rows struct {
	jti     int64
	subject subjectRow
	family  int64
}

// lookup names the rows a call reads: those of need.
type lookup struct {
	jti, subject, family string
	need                 need
}

type need uint8

const (
	needJTI need = 1 << iota
	needSubject
	needFamily
)

func newCache(db *sql.DB, max int, stale time.Duration) *cache {
	c := &cache{
		db:      db,
		max:     max,
		stale:   stale,
		sem:     make(chan struct{}, 1),
		dest:    make([]driver.Value, 1),
		jti:     map[string]int64{},
		subject: map[string]subjectRow{},
		family:  map[string]int64{},
	}
	c.readFn = c.read
	return c
}

// sync reads data_version and brings the cache to it. ok false: the cache
// cannot be used for this call (no connection, a failed read, ctx ended,
// closed); the caller must query without it and store nothing.
func (c *cache) sync(ctx context.Context) (gen uint64, ok bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	if gen, ok := c.fresh(); ok {
		return gen, true
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, false
	}
	defer func() { <-c.sem }()
	if c.closed {
		return 0, false
	}
	// The dedicated connection is one of the pool's: with a pool of one it
	// would starve every query.
	if c.db.Stats().MaxOpenConnections == 1 {
		c.dropConn()
		return 0, false
	}
	if c.conn == nil {
		if err := c.open(ctx); err != nil {
			return 0, false
		}
	}
	c.readCtx = ctx
	began := time.Now()
	err := c.conn.Raw(c.readFn)
	c.readCtx = nil
	if err != nil {
		c.dropConn()
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced || c.version != c.readVal {
		c.clearLocked()
		c.synced, c.version = true, c.readVal
	}
	c.readAt = began
	return c.gen, true
}

// fresh returns the current generation when the last read of
// data_version stands for now (MaxStaleness): a read that began less than
// stale ago reflects every commit made before it began, so only commits
// of the last stale can be missed.
func (c *cache) fresh() (gen uint64, ok bool) {
	if c.stale <= 0 {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.synced && time.Since(c.readAt) < c.stale {
		return c.gen, true
	}
	return 0, false
}

// open takes the dedicated connection from the pool and prepares the
// statement on it. Under sem.
func (c *cache) open(ctx context.Context) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	var stmt driver.Stmt
	err = conn.Raw(func(dc any) error {
		var err error
		if p, ok := dc.(driver.ConnPrepareContext); ok {
			stmt, err = p.PrepareContext(ctx, "PRAGMA data_version")
		} else {
			stmt, err = dc.(driver.Conn).Prepare("PRAGMA data_version")
		}
		if err != nil {
			return err
		}
		if _, ok := stmt.(driver.StmtQueryContext); !ok {
			stmt.Close()
			return errors.New("sqlstore: driver statement without QueryContext")
		}
		return nil
	})
	if err != nil {
		conn.Close()
		return err
	}
	c.conn, c.stmt = conn, stmt
	// Values read on a new connection are not comparable with the old
	// one's.
	c.mu.Lock()
	c.synced = false
	c.clearLocked()
	c.mu.Unlock()
	return nil
}

// read runs inside Raw, under sem: one read of data_version into readVal.
func (c *cache) read(any) error {
	rows, err := c.stmt.(driver.StmtQueryContext).QueryContext(c.readCtx, nil)
	if err != nil {
		return err
	}
	// Close resets the statement, which ends the read transaction: the
	// connection holds no snapshot between checks.
	err = rows.Next(c.dest)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	v, ok := c.dest[0].(int64)
	if !ok {
		return fmt.Errorf("sqlstore: data_version is %T", c.dest[0])
	}
	c.readVal = v
	return nil
}

// dropConn gives the dedicated connection back (closing the statement) and
// starts a new generation. Under sem.
func (c *cache) dropConn() {
	if c.conn != nil {
		stmt := c.stmt
		_ = c.conn.Raw(func(any) error { return stmt.Close() })
		_ = c.conn.Close()
		c.conn, c.stmt = nil, nil
	}
	c.mu.Lock()
	c.synced = false
	c.clearLocked()
	c.mu.Unlock()
}

// invalidate empties the cache and starts a new generation: fills from
// queries begun before are dropped.
func (c *cache) invalidate() {
	c.mu.Lock()
	c.clearLocked()
	c.mu.Unlock()
}

func (c *cache) clearLocked() {
	c.gen++
	clear(c.jti)
	clear(c.subject)
	clear(c.family)
}

// get returns the cached rows k asks for; ok only if every one is there
// and gen is still the current generation.
func (c *cache) get(gen uint64, k lookup) (r rows, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return rows{}, false
	}
	if k.need&needJTI != 0 {
		if r.jti, ok = c.jti[k.jti]; !ok {
			return rows{}, false
		}
	}
	if k.need&needSubject != 0 {
		if r.subject, ok = c.subject[k.subject]; !ok {
			return rows{}, false
		}
	}
	if k.need&needFamily != 0 {
		if r.family, ok = c.family[k.family]; !ok {
			return rows{}, false
		}
	}
	return r, true
}

// put stores rows read by a query that began after the read of
// data_version that returned gen; nothing if the generation changed since.
func (c *cache) put(gen uint64, k lookup, r rows) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.jti)+len(c.subject)+len(c.family)+3 > c.max {
		// Full: start again rather than track use. Entries only save
		// queries; dropping them is always safe.
		clear(c.jti)
		clear(c.subject)
		clear(c.family)
	}
	if k.need&needJTI != 0 {
		c.jti[k.jti] = r.jti
	}
	if k.need&needSubject != 0 {
		c.subject[k.subject] = r.subject
	}
	if k.need&needFamily != 0 {
		c.family[k.family] = r.family
	}
}

// close gives the dedicated connection back for good.
func (c *cache) close() {
	c.sem <- struct{}{}
	c.closed = true
	c.dropConn()
	<-c.sem
}

// len returns the number of entries.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.jti) + len(c.subject) + len(c.family)
}
