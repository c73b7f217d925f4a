package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/sqlite"
)

// Files in the data directory.
const (
	dbFile  = "jwtgate.db"      // SQLite: users, sessions, audit log and revocations
	keyFile = "signing-key.pem" // PKCS #8 private key, mode 0600
)

// crossProcessDelay bounds how long a revocation committed to a data
// directory by another process (the "jwtgate users" commands, or another
// server on the same directory) may take to be refused by a server: its
// revocation checks read SQLite's change counter at most once per
// crossProcessDelay (reading it costs about as much as the rest of a
// request). The server's own logouts are refused at once, and the users
// commands wait endSessionsWait before they return.
const crossProcessDelay = 50 * time.Millisecond

// endSessionsWait is how long Stores.EndSessions waits after revoking,
// so that when it returns every server refuses the sessions it ended:
// twice crossProcessDelay (Redis's invalidation messages and PostgreSQL
// take less).
const endSessionsWait = 2 * crossProcessDelay

// DataDir is an opened data directory: its SQLite database with the users
// and the revocations.
type DataDir struct {
	Path string
	// Logger reports a key generated on first start: slog.Default()
	// when nil.
	Logger      *slog.Logger
	DB          *sql.DB
	Users       *SQLUsers
	Revocations *sqlstore.Store
	Sessions    *SQLSessions
	Audit       *SQLAudit
	// Created reports that OpenDataDir made the database: the directory
	// is new (or held no database).
	Created bool
}

// OpenDataDir creates dir (mode 0700) if needed and opens its database.
func OpenDataDir(ctx context.Context, dir string) (*DataDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, dbFile)
	_, err := os.Stat(path)
	created := errors.Is(err, fs.ErrNotExist)
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	// The database holds password hashes: owner only. SQLite gives its
	// -wal and -shm files the database file's mode.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, err
	}
	users, err := newSQLUsers(ctx, db, sqlstore.SQLite)
	if err != nil {
		db.Close()
		return nil, err
	}
	sessions, err := newSQLSessions(ctx, db, sqlstore.SQLite)
	if err != nil {
		db.Close()
		return nil, err
	}
	audit, err := newSQLAudit(ctx, db, sqlstore.SQLite)
	if err != nil {
		db.Close()
		return nil, err
	}
	rs, err := sqlstore.New(ctx, db, sqlstore.SQLite, sqlstore.Options{MaxStaleness: crossProcessDelay})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &DataDir{Path: dir, DB: db, Users: users, Revocations: rs, Sessions: sessions, Audit: audit, Created: created}, nil
}

func (d *DataDir) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// Close closes the stores and the database.
func (d *DataDir) Close() error {
	return errors.Join(d.Revocations.Close(), d.DB.Close())
}

// SigningKey loads the signing key of the data directory, or generates
// one for alg and writes it (mode 0600) when there is none. A key loaded
// must allow alg. HMAC algorithms are refused: the service publishes its
// keys as a JWKS.
func (d *DataDir) SigningKey(alg jwt.Algorithm, log *slog.Logger) (*jwt.Key, error) {
	if err := checkSigningAlg(alg); err != nil {
		return nil, err
	}
	path := filepath.Join(d.Path, keyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		set, err := jwk.Load(data)
		if err != nil {
			return nil, fmt.Errorf("server: %s: %w", path, err)
		}
		key, err := set.SigningKey("")
		if err != nil {
			return nil, fmt.Errorf("server: %s: %w", path, err)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	key, err := jwk.Generate(alg, 0)
	if err != nil {
		return nil, err
	}
	pemData, err := jwk.MarshalPrivatePEM(key)
	if err != nil {
		return nil, err
	}
	// Write to a temporary file and link it into place, so that a reader
	// never sees a partial key and, of two processes starting at once,
	// the first key wins and the other loads it.
	tmp, err := os.CreateTemp(d.Path, ".signing-key-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.Write(pemData); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return d.SigningKey(alg, log)
	} else if err != nil {
		return nil, err
	}
	log.Info("generated a signing key", "alg", string(alg), "file", path)
	return key, nil
}

// Bootstrap creates the user "admin" with a random password when the user
// store is empty, and logs that password once: it is never shown again.
// When a generated password has never been used nor changed since, it
// may be known to no one: every start then says how to set one.
func (d *DataDir) Bootstrap(ctx context.Context, log *slog.Logger) error {
	return bootstrap(ctx, d.Users, d.Audit, log)
}

// bootstrap makes the first user; with an audit log, the user and its
// event (actor "jwtgate", the service itself) are written together.
func bootstrap(ctx context.Context, users *SQLUsers, audit *SQLAudit, log *slog.Logger) error {
	n, err := users.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		names, err := users.Unclaimed(ctx)
		for _, name := range names {
			log.Warn("the generated password of "+name+" has never been used: if it is lost, set one with 'jwtgate users passwd "+name+"'",
				"username", name)
		}
		return err
	}
	pw := RandomPassword()
	add := func() error { return users.add(ctx, "admin", pw, true, true) }
	if audit != nil {
		add = func() error {
			h, err := users.newHash("admin", pw)
			if err != nil {
				return err
			}
			a := &Accounts{Users: users, Audit: audit}
			e := a.event(Actor{Name: "jwtgate"}, evUserAdd, "admin", outcomeSuccess, map[string]any{"admin": true, "first_user": true})
			return a.change(ctx, e, func(tx *sql.Tx) error { return users.insert(ctx, tx, "admin", h, true, true) })
		}
	}
	if err := add(); errors.Is(err, ErrUserExists) {
		return nil // another process started at the same time and made it
	} else if err != nil {
		return err
	}
	log.Warn("created the first user with a random password; it is logged ONLY THIS ONCE: "+
		"change it with 'jwtgate users passwd admin'", "username", "admin", "password", pw)
	return nil
}

// EndSessions revokes every token of username issued until now, for
// maxLifetime (the longest token lifetime the server issues, its refresh
// TTL): after a password change or a deletion, so that old sessions end
// and a user later made with the same name inherits none. Tokens issued
// in the same millisecond are revoked too (revoke.CutoffRevokes).
func (d *DataDir) EndSessions(ctx context.Context, username string, maxLifetime time.Duration) error {
	return revoke.LogoutEverywhere(ctx, d.Revocations, username, time.Now(), maxLifetime)
}
