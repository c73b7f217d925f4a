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
type SQLKeys struct {
	db *sql.DB
}

const signingKeysSchema = `CREATE TABLE IF NOT EXISTS jwtgate_signing_keys (
	kid         TEXT PRIMARY KEY,
	alg         TEXT NOT NULL,
	private_key TEXT NOT NULL,
	created_ms  BIGINT NOT NULL,
	retire_ms   BIGINT
)`

// signingKeysLock is the advisory lock key of writes to the table.
const signingKeysLock = 0x6a7767_6b657973 // "jwg" "keys"

// NewSQLKeys returns the key store of a PostgreSQL database, creating its
// table if it is missing. The *sql.DB stays the caller's.
func NewSQLKeys(ctx context.Context, db *sql.DB) (*SQLKeys, error) {
	if _, err := db.ExecContext(ctx, signingKeysSchema); err != nil {
		return nil, fmt.Errorf("server: create signing keys table: %w", err)
	}
	return &SQLKeys{db: db}, nil
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
	kid, alg, pem string
	created       int64
	retire        sql.NullInt64
}

// rows returns the keys not retired at now, oldest first.
func (s *SQLKeys) rows(ctx context.Context, q querier, now time.Time) ([]keyRow, error) {
	rs, err := q.QueryContext(ctx, `SELECT kid, alg, private_key, created_ms, retire_ms FROM jwtgate_signing_keys
		WHERE retire_ms IS NULL OR retire_ms > $1 ORDER BY created_ms, kid`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("server: read signing keys: %w", err)
	}
	defer rs.Close()
	var out []keyRow
	for rs.Next() {
		var r keyRow
		if err := rs.Scan(&r.kid, &r.alg, &r.pem, &r.created, &r.retire); err != nil {
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

// signer returns the index of the newest key without a retire time.
func signerRow(rows []keyRow) int {
	for i := len(rows) - 1; i >= 0; i-- {
		if !rows[i].retire.Valid {
			return i
		}
	}
	return -1
}

// parse loads the private key of r and checks that it carries r's kid
// and allows r's algorithm.
func (r keyRow) parse() (*jwt.Key, jwt.Algorithm, error) {
	set, err := jwk.Load([]byte(r.pem))
	if err != nil {
		return nil, "", fmt.Errorf("server: signing key %s: %w", r.kid, err)
	}
	key, err := set.SigningKey("")
	if err != nil {
		return nil, "", fmt.Errorf("server: signing key %s: %w", r.kid, err)
	}
	if key, err = jwk.EnsureKeyID(key); err != nil {
		return nil, "", fmt.Errorf("server: signing key %s: %w", r.kid, err)
	}
	if key.ID() != r.kid {
		return nil, "", fmt.Errorf("server: the signing key stored as %s is key %s", r.kid, key.ID())
	}
	alg := jwt.Algorithm(r.alg)
	if err := checkSigningAlg(alg); err != nil || !key.Allows(alg) {
		return nil, "", fmt.Errorf("server: key %s cannot sign with %q", r.kid, alg)
	}
	return key, alg, nil
}

// LoadKeys implements KeyStore.
func (s *SQLKeys) LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error) {
	rows, err := s.rows(ctx, s.db, now)
	if err != nil {
		return Keys{}, err
	}
	if signerRow(rows) < 0 {
		if err := s.create(ctx, alg, now); err != nil {
			return Keys{}, err
		}
		if rows, err = s.rows(ctx, s.db, now); err != nil {
			return Keys{}, err
		}
	}
	si := signerRow(rows)
	if si < 0 {
		return Keys{}, errors.New("server: the key store has no signing key")
	}
	signer, salg, err := rows[si].parse()
	if err != nil {
		return Keys{}, err
	}
	keys := Keys{Signer: signer, Algorithm: salg}
	for i, r := range rows {
		if i == si {
			continue
		}
		key, _, err := r.parse()
		if err != nil {
			return Keys{}, err
		}
		var at time.Time
		if r.retire.Valid {
			at = time.UnixMilli(r.retire.Int64)
		}
		keys.Retiring = append(keys.Retiring, RetiringKey{Key: key, RetireAt: at})
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
		if err != nil || signerRow(rows) >= 0 {
			return err
		}
		_, err = s.insert(ctx, tx, alg, now)
		return err
	})
}

// insert generates a key for alg and inserts it as the newest signer.
func (s *SQLKeys) insert(ctx context.Context, tx *sql.Tx, alg jwt.Algorithm, now time.Time) (string, error) {
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
	_, err = tx.ExecContext(ctx, `INSERT INTO jwtgate_signing_keys (kid, alg, private_key, created_ms)
		SELECT $1, $2, $3, GREATEST($4::BIGINT, COALESCE(MAX(created_ms) + 1, 0)) FROM jwtgate_signing_keys`,
		key.ID(), string(alg), string(pemData), now.UnixMilli())
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
func (s *SQLKeys) RotateKey(ctx context.Context, alg jwt.Algorithm, retireAfter time.Duration, now time.Time) (oldKID, newKID string, err error) {
	if retireAfter < 0 {
		return "", "", errors.New("server: negative retire delay")
	}
	err = s.locked(ctx, func(tx *sql.Tx) error {
		rows, err := s.rows(ctx, tx, now)
		if err != nil {
			return err
		}
		si := signerRow(rows)
		if si < 0 {
			return errors.New("server: the key store has no signing key yet (start jwtgate serve once)")
		}
		old, oldAlg, err := rows[si].parse()
		if err != nil {
			return err
		}
		if alg == "" {
			alg = oldAlg
		}
		if err := checkSigningAlg(alg); err != nil {
			return err
		}
		if !old.Allows(alg) {
			return fmt.Errorf("server: the current key signs %s; a rotation keeps the algorithm (got %s)", oldAlg, alg)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jwtgate_signing_keys SET retire_ms = $1 WHERE kid = $2`,
			now.Add(retireAfter).UnixMilli(), rows[si].kid); err != nil {
			return fmt.Errorf("server: retire key %s: %w", rows[si].kid, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM jwtgate_signing_keys WHERE retire_ms <= $1`, now.UnixMilli()); err != nil {
			return fmt.Errorf("server: delete retired keys: %w", err)
		}
		oldKID = rows[si].kid
		newKID, err = s.insert(ctx, tx, alg, now)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return oldKID, newKID, nil
}
