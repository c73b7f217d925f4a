package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres"
)

// StoreConfig says where the service keeps its state.
//
// With neither DatabaseURL nor Redis, everything is in DataDir: users,
// revocations and rate limits in one instance. DatabaseURL moves the
// users, the signing keys and (without Redis) the revocations to
// PostgreSQL; Redis moves the revocations and the login rate limits to
// Redis. With both, any number of instances serve the same users behind
// a load balancer, and the data directory is not used.
type StoreConfig struct {
	// DataDir is the directory of the SQLite database and the key files.
	DataDir string
	// DatabaseURL is a PostgreSQL connection string (postgres://... or
	// key=value form, as pgx reads it).
	DatabaseURL string
	// Redis is where Redis is: an address (host:port), several addresses
	// separated by commas (nodes of a Redis Cluster: any one is enough,
	// more are fallbacks; a single address of a Cluster node is detected
	// as a Cluster too), or a URL (redis://..., rediss:// for TLS, with
	// more addresses as ?addr=HOST:PORT). With RedisSentinelMaster, the
	// addresses are those of the Sentinels.
	Redis string
	// RedisSentinelMaster is the name of the master the Sentinels at
	// Redis watch (their "sentinel monitor NAME ..."): "" when Redis is
	// not behind Sentinel. (A URL may give it as ?master_set=NAME.)
	RedisSentinelMaster string
	// RedisPrefix is put before the Redis keys: "jwtgate:" by default.
	RedisPrefix string
	// RedisBound is how long an answer from the client-side cache of
	// Redis is trusted after the connections to Redis last proved alive:
	// redisstore.DefaultBound (1 s) when zero. Past it, every check goes
	// to Redis, and fails (503) while Redis cannot answer.
	RedisBound time.Duration
	// RedisWaitReplicas, when positive, makes every revocation wait until
	// that many replicas have it (redisstore.Options.WaitReplicas), so a
	// failover after a master dies loses none; a revocation that does
	// not reach them in time is an error (503).
	RedisWaitReplicas int
	// Logger reports a new data directory and a key generated on first
	// start: slog.Default() when nil.
	Logger *slog.Logger
}

// Stores are the opened stores of the service. Close them when done.
type Stores struct {
	Users       *SQLUsers
	Clients     *SQLClients
	Revocations revoke.Store
	// Sessions is the session registry and Audit the audit log, in the
	// users' database.
	Sessions *SQLSessions
	Audit    *SQLAudit
	Keys     KeyStore
	// Redis is the Redis client when StoreConfig.Redis is set: give it to
	// NewRedisLimiter to share login limits.
	Redis rueidis.Client
	// RedisPrefix is the prefix of the service's Redis keys.
	RedisPrefix string
	// Where describes the stores for the logs (no secrets).
	Where string

	closers []func() error
}

// Open opens the stores cfg names, creating tables as needed.
func Open(ctx context.Context, cfg StoreConfig) (_ *Stores, err error) {
	st := &Stores{}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	var where []string
	if cfg.DatabaseURL == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("server: no data directory and no database URL")
		}
		d, err := OpenDataDir(ctx, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		d.Logger = cfg.Logger
		if d.Created {
			// Said at once, so that a mistyped directory is noticed.
			abs, err := filepath.Abs(cfg.DataDir)
			if err != nil {
				abs = cfg.DataDir
			}
			d.logger().Info("new data directory: created its database", "dir", abs)
		}
		st.closers = append(st.closers, d.Close)
		st.Users, st.Clients, st.Revocations, st.Keys = d.Users, d.Clients, d.Revocations, d
		st.Sessions, st.Audit = d.Sessions, d.Audit
		where = append(where, "data directory "+cfg.DataDir)
	} else {
		db, err := OpenPostgres(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		st.closers = append(st.closers, db.Close)
		if st.Users, err = newSQLUsers(ctx, db, sqlstore.Postgres); err != nil {
			return nil, err
		}
		if st.Clients, err = newSQLClients(ctx, db, sqlstore.Postgres); err != nil {
			return nil, err
		}
		if st.Keys, err = NewSQLKeys(ctx, db); err != nil {
			return nil, err
		}
		if st.Sessions, err = newSQLSessions(ctx, db, sqlstore.Postgres); err != nil {
			return nil, err
		}
		if st.Audit, err = newSQLAudit(ctx, db, sqlstore.Postgres); err != nil {
			return nil, err
		}
		if cfg.Redis == "" {
			rs, err := sqlstore.New(ctx, db, sqlstore.Postgres, sqlstore.Options{})
			if err != nil {
				return nil, err
			}
			st.closers = append(st.closers, rs.Close)
			st.Revocations = rs
		}
		where = append(where, "PostgreSQL")
	}
	if cfg.Redis != "" {
		opt, err := redisOptions(cfg.Redis, cfg.RedisSentinelMaster)
		if err != nil {
			return nil, err
		}
		prefix := cfg.RedisPrefix
		if prefix == "" {
			prefix = "jwtgate:"
		}
		if cfg.RedisBound < 0 {
			return nil, fmt.Errorf("server: negative Redis bound %v", cfg.RedisBound)
		}
		rs, err := redisstore.New(opt, redisstore.Options{Prefix: prefix, Bound: cfg.RedisBound, WaitReplicas: cfg.RedisWaitReplicas})
		if err != nil {
			return nil, fmt.Errorf("server: Redis: %w", err)
		}
		st.closers = append(st.closers, func() error { rs.Close(); return nil })
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rs.Client().Do(pctx, rs.Client().B().Ping().Build()).Error(); err != nil {
			return nil, fmt.Errorf("server: Redis: %w", err)
		}
		st.Revocations = rs
		st.Redis, st.RedisPrefix = rs.Client(), prefix
		switch rs.Client().Mode() {
		case rueidis.ClientModeCluster:
			where = append(where, "Redis Cluster")
		case rueidis.ClientModeSentinel:
			where = append(where, "Redis (Sentinel)")
		default:
			where = append(where, "Redis")
		}
	}
	st.Where = strings.Join(where, " + ")
	st.Audit.SetLogger(cfg.Logger)
	return st, nil
}

// postgresConns bounds the connections of one instance to PostgreSQL.
const postgresConns = 8

// OpenPostgres opens and pings a PostgreSQL database with pgx's
// database/sql driver.
func OpenPostgres(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := postgres.Open(dsn)
	if err != nil {
		return nil, fmt.Errorf("server: PostgreSQL: %w", redactErr(err, dsn))
	}
	// A bounded pool that keeps its connections: many instances share the
	// server's max_connections (100 by default), and opening a connection
	// costs a PostgreSQL process.
	db.SetMaxOpenConns(postgresConns)
	db.SetMaxIdleConns(postgresConns)
	db.SetConnMaxIdleTime(10 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("server: PostgreSQL: %w", redactErr(err, dsn))
	}
	return db, nil
}

// redactErr keeps a connection string, which may hold a password, out of
// an error message.
func redactErr(err error, dsn string) error {
	if dsn != "" && strings.Contains(err.Error(), dsn) {
		return errors.New(strings.ReplaceAll(err.Error(), dsn, "<database URL>"))
	}
	return err
}

// redisDialTimeout bounds a connection to Redis (or to a Sentinel).
const redisDialTimeout = 5 * time.Second

// redisOptions reads a Redis address, a list of addresses or a URL, and
// the Sentinel master name if any.
func redisOptions(s, sentinelMaster string) (rueidis.ClientOption, error) {
	var opt rueidis.ClientOption
	if strings.Contains(s, "://") {
		var err error
		if opt, err = rueidis.ParseURL(s); err != nil {
			// Not the parser's message: it may quote part of the URL,
			// password included.
			return opt, errors.New("server: the Redis URL cannot be read (want redis://[USER:PASSWORD@]HOST:PORT[/DB][?addr=HOST:PORT&master_set=NAME] or rediss://...; percent-encode special characters in the password)")
		}
	} else {
		for _, a := range strings.Split(s, ",") {
			a = strings.TrimSpace(a)
			if _, _, err := net.SplitHostPort(a); err != nil {
				return rueidis.ClientOption{}, fmt.Errorf("server: Redis address %q: want host:port, several separated by commas, or a redis:// URL", a)
			}
			opt.InitAddress = append(opt.InitAddress, a)
		}
	}
	if sentinelMaster != "" {
		if opt.Sentinel.MasterSet != "" && opt.Sentinel.MasterSet != sentinelMaster {
			return rueidis.ClientOption{}, fmt.Errorf("server: two Sentinel master names, %q in the URL and %q", opt.Sentinel.MasterSet, sentinelMaster)
		}
		opt.Sentinel.MasterSet = sentinelMaster
	}
	opt.Dialer.Timeout = redisDialTimeout
	if opt.Sentinel.MasterSet != "" {
		opt.Sentinel.Dialer.Timeout = redisDialTimeout
		// The Sentinels are reached like the servers (TLS or not), without
		// a password.
		opt.Sentinel.TLSConfig = opt.TLSConfig
		// Follow a failover even if a +switch-master message was missed.
		opt.Sentinel.TopologyRefreshInterval = 5 * time.Second
	}
	return opt, nil
}

// Close closes every store opened.
func (st *Stores) Close() error {
	var errs []error
	for i := len(st.closers) - 1; i >= 0; i-- {
		errs = append(errs, st.closers[i]())
	}
	st.closers = nil
	return errors.Join(errs...)
}

// Bootstrap creates the user "admin" with a random password when the user
// store is empty, and logs that password once: it is never shown again.
// When a generated password has never been used nor changed since, it
// may be known to no one: every start then says how to set one. Call it
// once everything else has been checked, so that a start that fails
// never makes a password that no one will see again.
func (st *Stores) Bootstrap(ctx context.Context, log *slog.Logger) error {
	return bootstrap(ctx, st.Users, st.Audit, log)
}

// Accounts returns the shared account operations on these stores, for a
// service whose longest token lifetime is maxLifetime.
func (st *Stores) Accounts(maxLifetime time.Duration) *Accounts {
	return &Accounts{Users: st.Users, Clients: st.Clients, Revocations: st.Revocations, Sessions: st.Sessions, Audit: st.Audit, MaxLifetime: maxLifetime}
}

// EndSessions revokes every token of username issued until now, for
// maxLifetime (the longest token lifetime the server issues, its refresh
// TTL): after a password change or a deletion, so that old sessions end
// and a user later made with the same name inherits none. Tokens issued
// in the same millisecond are revoked too (revoke.CutoffRevokes).
//
// It also marks the sessions ended in the registry, when there is one,
// and returns 100 ms (twice the interval at which SQLite data directories
// look for revocations) after the revocation is stored, when every
// server sharing the stores refuses those sessions. It writes no audit
// event: Accounts makes the audited changes that end sessions.
func (st *Stores) EndSessions(ctx context.Context, username string, maxLifetime time.Duration) error {
	if _, err := st.Accounts(maxLifetime).endAll(ctx, username, endedLogoutAll); err != nil {
		return err
	}
	return st.WaitRevocations(ctx)
}

// WaitRevocations waits until every server sharing the stores refuses
// what was revoked before it was called: 100 ms, twice the interval at
// which SQLite data directories look for revocations made by another
// process.
func (st *Stores) WaitRevocations(ctx context.Context) error {
	select {
	case <-time.After(endSessionsWait):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
