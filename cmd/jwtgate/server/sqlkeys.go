package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// SQLKeys is a KeyStore in a PostgreSQL database (the table
// jwtgate_signing_keys), shared by every instance that uses it: the first
// instance to start generates the signer, "jwtgate keys rotate
// --database-url" adds the next one, and each instance's LiveKeys picks
// it up.
//
// The private keys are stored as PKCS #8 PEM text: whoever can read the
// table can sign tokens. Give the database the protection the signing
// keys need (its own role, encrypted storage and backups).
//
// Writes take a transaction-level advisory lock, so two instances
// starting on an empty table, or two rotations at once, cannot both
// create a signer.
//
// Each key is bound to its algorithm (column alg) and has an activation
// time (activate_ms): a rotated key is published at once and signs from
// then on.
type SQLKeys struct {
	db *sql.DB
}

// The table has had activate_ms since keys are published before they
// sign; a key without one (NULL, as every key of an older table) is
// active since it was made.
const signingKeysSchema = `CREATE TABLE IF NOT EXISTS jwtgate_signing_keys (
	kid         TEXT PRIMARY KEY,
	alg         TEXT NOT NULL,
	private_key TEXT NOT NULL,
	created_ms  BIGINT NOT NULL,
	retire_ms   BIGINT,
	activate_ms BIGINT
)`

const signingKeysMigration = `ALTER TABLE jwtgate_signing_keys ADD COLUMN IF NOT EXISTS activate_ms BIGINT`

// signingKeysLock is the advisory lock key of writes to the table.
const signingKeysLock = 0x6a7767_6b657973 // "jwg" "keys"

// NewSQLKeys returns the key store of a PostgreSQL database, creating its
// table if it is missing and adding the columns a table made by an older
// version lacks. The *sql.DB stays the caller's.
func NewSQLKeys(ctx context.Context, db *sql.DB) (*SQLKeys, error) {
	s := &SQLKeys{db: db}
	err := s.locked(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, signingKeysSchema); err != nil {
			return fmt.Errorf("server: create signing keys table: %w", err)
		}
		// ALTER TABLE takes the table's ACCESS EXCLUSIVE lock even when the
		// column is there: look first, so that a usual start blocks no
		// instance's key reload.
		var have bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'jwtgate_signing_keys' AND column_name = 'activate_ms')`).Scan(&have); err != nil {
			return fmt.Errorf("server: inspect signing keys table: %w", err)
		}
		if have {
			return nil
		}
		if _, err := tx.ExecContext(ctx, signingKeysMigration); err != nil {
			return fmt.Errorf("server: migrate signing keys table: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Probe implements revoke.Prober, for readiness checks: one read of the
// table, a round trip to the database.
func (s *SQLKeys) Probe(ctx context.Context) error {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM jwtgate_signing_keys`).Scan(&n); err != nil {
		return fmt.Errorf("server: key store probe: %w", err)
	}
	if n == 0 {
		return errors.New("server: key store probe: no signing key in the table")
	}
	return nil
}

type keyRow struct {
	kid, alg, pem    string
	created          int64
	retire, activate sql.NullInt64
}

// rows returns the keys not retired at now, oldest first.
func (s *SQLKeys) rows(ctx context.Context, q querier, now time.Time) ([]keyRow, error) {
	rs, err := q.QueryContext(ctx, `SELECT kid, alg, private_key, created_ms, retire_ms, activate_ms FROM jwtgate_signing_keys
		WHERE retire_ms IS NULL OR retire_ms > $1 ORDER BY created_ms, kid`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("server: read signing keys: %w", err)
	}
	defer rs.Close()
	var out []keyRow
	for rs.Next() {
		var r keyRow
		if err := rs.Scan(&r.kid, &r.alg, &r.pem, &r.created, &r.retire, &r.activate); err != nil {
			return nil, fmt.Errorf("server: read signing keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("server: read signing keys: %w", err)
	}
	return out, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// hasCurrent reports whether rows has a key without a retire time: a
// signer, or one that will sign.
func hasCurrent(rows []keyRow) bool {
	for _, r := range rows {
		if !r.retire.Valid {
			return true
		}
	}
	return false
}

// parse loads the private key of r, checks that it carries r's kid and
// binds it to r's algorithm.
func (r keyRow) parse() (StoredKey, error) {
	set, err := jwk.Load([]byte(r.pem))
	if err != nil {
		return StoredKey{}, fmt.Errorf("server: signing key %s: %w", r.kid, err)
	}
	key, err := set.SigningKey("")
	if err != nil {
		return StoredKey{}, fmt.Errorf("server: signing key %s: %w", r.kid, err)
	}
	if key, err = jwk.EnsureKeyID(key); err != nil {
		return StoredKey{}, fmt.Errorf("server: signing key %s: %w", r.kid, err)
	}
	if key.ID() != r.kid {
		return StoredKey{}, fmt.Errorf("server: the signing key stored as %s is key %s", r.kid, key.ID())
	}
	alg := jwt.Algorithm(r.alg)
	if key, err = bindKey(key, alg); err != nil {
		return StoredKey{}, err
	}
	sk := StoredKey{Key: key, Alg: alg}
	for _, t := range []struct {
		column string
		ms     sql.NullInt64
		dst    *time.Time
	}{{"activate_ms", r.activate, &sk.ActivateAt}, {"retire_ms", r.retire, &sk.RetireAt}} {
		if !t.ms.Valid {
			continue
		}
		if *t.dst, err = storedTime(t.column, t.ms.Int64); err != nil {
			return StoredKey{}, fmt.Errorf("server: signing key %s: %w", r.kid, err)
		}
	}
	return sk, nil
}

// parseAll parses rows.
func parseAll(rows []keyRow) (Keys, error) {
	var keys Keys
	for _, r := range rows {
		sk, err := r.parse()
		if err != nil {
			return Keys{}, err
		}
		keys.Keys = append(keys.Keys, sk)
	}
	return keys, nil
}

// LoadKeys implements KeyStore.
func (s *SQLKeys) LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error) {
	rows, err := s.rows(ctx, s.db, now)
	if err != nil {
		return Keys{}, err
	}
	if !hasCurrent(rows) {
		if err := s.create(ctx, alg, now); err != nil {
			return Keys{}, err
		}
		if rows, err = s.rows(ctx, s.db, now); err != nil {
			return Keys{}, err
		}
	}
	keys, err := parseAll(rows)
	if err != nil {
		return Keys{}, err
	}
	if keys.signer(now) < 0 {
		return Keys{}, fmt.Errorf("server: the key store has no signing key active at %s", now.UTC().Format(time.RFC3339))
	}
	return keys, nil
}

// create adds a first signer for alg unless a signer exists (made by
// another instance meanwhile).
func (s *SQLKeys) create(ctx context.Context, alg jwt.Algorithm, now time.Time) error {
	if err := checkSigningAlg(alg); err != nil {
		return err
	}
	return s.locked(ctx, func(tx *sql.Tx) error {
		rows, err := s.rows(ctx, tx, now)
		if err != nil || hasCurrent(rows) {
			return err
		}
		_, err = s.insert(ctx, tx, alg, now, sql.NullInt64{})
		return err
	})
}

// insert generates a key for alg and inserts it as the newest key,
// signing from activate (NULL: at once).
func (s *SQLKeys) insert(ctx context.Context, tx *sql.Tx, alg jwt.Algorithm, now time.Time, activate sql.NullInt64) (string, error) {
	key, err := jwk.Generate(alg, 0)
	if err != nil {
		return "", err
	}
	if key, err = jwk.EnsureKeyID(key); err != nil {
		return "", err
	}
	pemData, err := jwk.MarshalPrivatePEM(key)
	if err != nil {
		return "", err
	}
	// created_ms is strictly after every existing key's, so that the order
	// of the keys is the order of their creation even within a millisecond.
	_, err = tx.ExecContext(ctx, `INSERT INTO jwtgate_signing_keys (kid, alg, private_key, created_ms, activate_ms)
		SELECT $1, $2, $3, GREATEST($4::BIGINT, COALESCE(MAX(created_ms) + 1, 0)), $5 FROM jwtgate_signing_keys`,
		key.ID(), string(alg), string(pemData), now.UnixMilli(), activate)
	if err != nil {
		return "", fmt.Errorf("server: store the signing key: %w", err)
	}
	return key.ID(), nil
}

// locked runs f in a transaction holding the table's advisory lock.
func (s *SQLKeys) locked(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("server: signing keys: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(signingKeysLock)); err != nil {
		return fmt.Errorf("server: lock the signing keys: %w", err)
	}
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("server: signing keys: %w", err)
	}
	return nil
}

// RotateKey implements KeyStore. It also deletes the keys whose retire
// time has passed: they verify nothing any more.
func (s *SQLKeys) RotateKey(ctx context.Context, r Rotation, now time.Time) (oldKID, newKID string, err error) {
	if r.ActivateAfter < 0 || r.RetireAfter < 0 {
		return "", "", errors.New("server: negative activation or retire delay")
	}
	err = s.locked(ctx, func(tx *sql.Tx) error {
		rows, err := s.rows(ctx, tx, now)
		if err != nil {
			return err
		}
		keys, err := parseAll(rows)
		if err != nil {
			return err
		}
		si := keys.signer(now)
		if si < 0 {
			return errors.New("server: the key store has no signing key yet (start jwtgate serve once)")
		}
		alg := r.Alg
		if alg == "" {
			alg = keys.Keys[si].Alg
		}
		if err := checkSigningAlg(alg); err != nil {
			return err
		}
		activate := now.Add(r.ActivateAfter)
		if _, err := tx.ExecContext(ctx, `UPDATE jwtgate_signing_keys SET retire_ms = $1 WHERE retire_ms IS NULL`,
			activate.Add(r.RetireAfter).UnixMilli()); err != nil {
			return fmt.Errorf("server: retire the current keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM jwtgate_signing_keys WHERE retire_ms <= $1`, now.UnixMilli()); err != nil {
			return fmt.Errorf("server: delete retired keys: %w", err)
		}
		oldKID = rows[si].kid
		newKID, err = s.insert(ctx, tx, alg, now, sql.NullInt64{Int64: activate.UnixMilli(), Valid: true})
		return err
	})
	if err != nil {
		return "", "", err
	}
	return oldKID, newKID, nil
}
