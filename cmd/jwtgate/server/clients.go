package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/internal/loopback"
	"github.com/jwtgate/jwtgate/internal/sqlschema"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// Client is an OAuth 2.0 client of the token endpoint: a service that
// asks for tokens with its own credentials (RFC 6749 section 4.4).
type Client struct {
	// ID is the client_id: "jc_" and 26 random base32 characters, made by
	// NewClientID. It is the sub of the client's tokens, so that it cannot
	// be a username (ValidUsername refuses the prefix; RFC 9068 section 5).
	ID string
	// Name describes the client for people.
	Name string
	// SecretHash is the hex SHA-256 of the client's secret, "" when it
	// has none (a client with keys only).
	SecretHash string
	// OldSecretHash stays valid until OldSecretUntil after a rotation.
	OldSecretHash  string
	OldSecretUntil time.Time
	// Scopes are the scopes the client may ask for; its tokens get them
	// all when it asks for none.
	Scopes []string
	// Audiences are the resource servers (RFC 8707 resource indicators,
	// absolute URIs) its tokens may name; empty: the service's audience
	// only. The first is the default.
	Audiences []string
	// TTL overrides the service's access token lifetime when positive.
	TTL time.Duration
	// JWKS is a JWK Set (JSON) of the client's public keys for
	// private_key_jwt, or JWKSURI where to fetch it (https:).
	JWKS    string
	JWKSURI string
	// Refresh lets the client have refresh tokens with its access tokens
	// (off by default: RFC 6749 section 4.4.3).
	Refresh bool
	// Disabled clients get no token and may not introspect nor revoke.
	Disabled bool
	Created  time.Time
}

// Errors of the client registry.
var (
	ErrClientNotFound = errors.New("no such client")
	ErrClientExists   = errors.New("a client with that name exists")
	ErrBadClient      = errors.New("invalid client settings")
)

// clientIDPrefix starts every generated client_id.
const clientIDPrefix = "jc_"

// NewClientID returns a new client_id: clientIDPrefix and 128 random bits.
func NewClientID() string { return clientIDPrefix + rand.Text() }

// NewClientSecret returns a new client secret, 256 random bits in
// base64url (43 characters) after "jcs_", and the hash to store.
func NewClientSecret() (secret, hash string) {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather)
	secret = "jcs_" + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashClientSecret(secret)
}

// HashClientSecret returns the stored form of a client secret: the hex
// SHA-256 of it. Secrets are 256 random bits, so a fast hash cannot be
// inverted by guessing (see docs/SECURITY.md); a slow one would only make
// each token request cost what a password check does.
func HashClientSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// secretMatches compares secret with a stored hash in constant time.
func secretMatches(secret, hash string) bool {
	if hash == "" {
		return false
	}
	h := sha256.Sum256([]byte(secret))
	var want [sha256.Size]byte
	if n, err := hex.Decode(want[:], []byte(hash)); err != nil || n != len(want) {
		return false
	}
	return subtle.ConstantTimeCompare(h[:], want[:]) == 1
}

// CheckSecret reports whether secret is the client's secret, or its
// previous one before OldSecretUntil.
func (c *Client) CheckSecret(secret string, now time.Time) bool {
	cur := secretMatches(secret, c.SecretHash)
	old := secretMatches(secret, c.OldSecretHash) && now.Before(c.OldSecretUntil)
	return cur || old
}

// Limits of client settings.
const (
	maxClientNameLen = 256
	maxScopes        = 64
	maxScopeLen      = 128
	maxAudiences     = 16
	maxAudienceLen   = 512
	maxClientJWKS    = 64 << 10
	maxClientTTL     = 24 * time.Hour
)

// ValidScope checks a scope token (RFC 6749 section 3.3: printable ASCII
// without space, quote or backslash).
func ValidScope(s string) error {
	if s == "" || len(s) > maxScopeLen {
		return fmt.Errorf("%w: scope %q: want 1 to %d characters", ErrBadClient, truncate(s, 64), maxScopeLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("%w: scope %q: only printable ASCII without space, \" or \\", ErrBadClient, truncate(s, 64))
		}
	}
	return nil
}

// validAudience checks a resource indicator: an absolute URI without a
// fragment (RFC 8707 section 2).
func validAudience(a string) error {
	u, err := url.Parse(a)
	if err != nil || !u.IsAbs() || u.Fragment != "" || len(a) > maxAudienceLen || strings.ContainsAny(a, " \t\r\n") {
		return fmt.Errorf("%w: audience %q: want an absolute URI without fragment, at most %d bytes", ErrBadClient, truncate(a, 64), maxAudienceLen)
	}
	return nil
}

// Validate checks the client's settings, its inline JWKS included.
func (c *Client) Validate() error {
	switch {
	case !strings.HasPrefix(c.ID, clientIDPrefix) || len(c.ID) > 64:
		return fmt.Errorf("%w: client id %q", ErrBadClient, truncate(c.ID, 64))
	case c.Name == "" || len(c.Name) > maxClientNameLen || !utf8.ValidString(c.Name) ||
		strings.TrimSpace(c.Name) != c.Name || strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: name: 1 to %d bytes of UTF-8, no control character or surrounding space", ErrBadClient, maxClientNameLen)
	case len(c.Scopes) > maxScopes:
		return fmt.Errorf("%w: at most %d scopes", ErrBadClient, maxScopes)
	case len(c.Audiences) > maxAudiences:
		return fmt.Errorf("%w: at most %d audiences", ErrBadClient, maxAudiences)
	case c.TTL < 0 || c.TTL > maxClientTTL:
		return fmt.Errorf("%w: token lifetime: want 0 (the service's) to %v", ErrBadClient, maxClientTTL)
	case c.JWKS != "" && c.JWKSURI != "":
		return fmt.Errorf("%w: keys inline or at a URL, not both", ErrBadClient)
	case c.SecretHash == "" && c.JWKS == "" && c.JWKSURI == "":
		return fmt.Errorf("%w: the client needs a secret or keys", ErrBadClient)
	}
	for _, s := range c.Scopes {
		if err := ValidScope(s); err != nil {
			return err
		}
	}
	for _, a := range c.Audiences {
		if err := validAudience(a); err != nil {
			return err
		}
	}
	if c.JWKS != "" {
		if _, err := parseClientJWKS(c.JWKS); err != nil {
			return err
		}
	}
	if c.JWKSURI != "" {
		u, err := url.Parse(c.JWKSURI)
		if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && loopback.Host(u.Hostname()))) || u.Host == "" || len(c.JWKSURI) > maxAudienceLen {
			return fmt.Errorf("%w: jwks_uri %q: want an https: URL (http: on loopback only)", ErrBadClient, truncate(c.JWKSURI, 64))
		}
	}
	return nil
}

// parseClientJWKS reads a client's JWK Set: public keys only, each
// asymmetric (a secret key or a private key refuses the set).
func parseClientJWKS(s string) (*jwk.Set, error) {
	if len(s) > maxClientJWKS {
		return nil, fmt.Errorf("%w: the JWK Set is larger than %d bytes", ErrBadClient, maxClientJWKS)
	}
	set, err := jwk.ParsePublicSet([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: JWK Set: %w", ErrBadClient, err)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("%w: the JWK Set has no usable key", ErrBadClient)
	}
	if set.IsSymmetric() {
		return nil, fmt.Errorf("%w: the JWK Set holds a secret key: private_key_jwt takes public keys", ErrBadClient)
	}
	return set, nil
}

// ClientStore keeps the OAuth clients.
type ClientStore interface {
	// Client returns the client with that id; ok is false when there is
	// none.
	Client(ctx context.Context, id string) (c *Client, ok bool, err error)
}

// SQLClients is a ClientStore in the users' database (the table
// jwtgate_clients), with what the clients commands need.
type SQLClients struct {
	db      *sql.DB
	dialect sqlstore.Dialect
}

const clientsSchema = `CREATE TABLE IF NOT EXISTS jwtgate_clients (
	client_id        TEXT PRIMARY KEY,
	name             TEXT NOT NULL UNIQUE,
	secret_hash      TEXT NOT NULL DEFAULT '',
	old_secret_hash  TEXT NOT NULL DEFAULT '',
	old_secret_until BIGINT NOT NULL DEFAULT 0,
	scopes           TEXT NOT NULL DEFAULT '',
	audiences        TEXT NOT NULL DEFAULT '',
	ttl_ms           BIGINT NOT NULL DEFAULT 0,
	jwks             TEXT NOT NULL DEFAULT '',
	jwks_uri         TEXT NOT NULL DEFAULT '',
	refresh          INTEGER NOT NULL DEFAULT 0,
	disabled         INTEGER NOT NULL DEFAULT 0,
	created_ms       BIGINT NOT NULL
)`

// newSQLClients returns the client registry of a database, creating its
// table if it is missing.
func newSQLClients(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (*SQLClients, error) {
	if dialect != sqlstore.SQLite && dialect != sqlstore.Postgres {
		return nil, fmt.Errorf("server: unknown SQL dialect %v", dialect)
	}
	if err := sqlschema.Create(ctx, db, dialect == sqlstore.Postgres, clientsSchema); err != nil {
		return nil, fmt.Errorf("server: create clients table: %w", err)
	}
	return &SQLClients{db: db, dialect: dialect}, nil
}

func (s *SQLClients) q(query string) string { return (&SQLUsers{dialect: s.dialect}).q(query) }

const clientColumns = `client_id, name, secret_hash, old_secret_hash, old_secret_until, scopes, audiences, ttl_ms, jwks, jwks_uri, refresh, disabled, created_ms`

type rowScanner interface{ Scan(dest ...any) error }

func scanClient(r rowScanner) (*Client, error) {
	var row clientRow
	if err := r.Scan(&row.id, &row.name, &row.secretHash, &row.oldSecretHash, &row.oldSecretUntil, &row.scopes, &row.audiences,
		&row.ttl, &row.jwks, &row.jwksURI, &row.refresh, &row.disabled, &row.created); err != nil {
		return nil, err
	}
	return row.client()
}

// clientRow is a row of clientColumns.
type clientRow struct {
	id, name, secretHash, oldSecretHash string
	oldSecretUntil                      int64
	scopes, audiences                   string
	ttl                                 int64 // milliseconds
	jwks, jwksURI                       string
	refresh, disabled                   int
	created                             int64
}

// maxStoredTTL is the largest ttl_ms a time.Duration holds.
const maxStoredTTL = int64(1<<63-1) / int64(time.Millisecond)

// client returns the client of r; the error wraps errCorruptRow for a
// time out of years 1 to 9999 or a lifetime that does not fit a
// time.Duration.
func (r clientRow) client() (*Client, error) {
	c := Client{ID: r.id, Name: r.name, SecretHash: r.secretHash, OldSecretHash: r.oldSecretHash,
		Scopes: strings.Fields(r.scopes), Audiences: strings.Fields(r.audiences), JWKS: r.jwks, JWKSURI: r.jwksURI,
		Refresh: r.refresh != 0, Disabled: r.disabled != 0}
	if r.ttl < -maxStoredTTL || r.ttl > maxStoredTTL {
		return nil, fmt.Errorf("server: client %q: %w: ttl_ms %d does not fit a duration", truncate(r.id, 64), errCorruptRow, r.ttl)
	}
	c.TTL = time.Duration(r.ttl) * time.Millisecond
	var err error
	if c.OldSecretUntil, err = storedTime("old_secret_until", r.oldSecretUntil); err != nil {
		return nil, fmt.Errorf("server: client %q: %w", truncate(r.id, 64), err)
	}
	if c.Created, err = storedTime("created_ms", r.created); err != nil {
		return nil, fmt.Errorf("server: client %q: %w", truncate(r.id, 64), err)
	}
	return &c, nil
}

// Client implements ClientStore.
func (s *SQLClients) Client(ctx context.Context, id string) (*Client, bool, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, s.q(`SELECT `+clientColumns+` FROM jwtgate_clients WHERE client_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// Find returns the client whose id or name is key.
func (s *SQLClients) Find(ctx context.Context, key string) (*Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, s.q(`SELECT `+clientColumns+` FROM jwtgate_clients WHERE client_id = ? OR name = ? ORDER BY client_id = ? DESC LIMIT 1`), key, key, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", ErrClientNotFound, key)
	}
	return c, err
}

// List returns every client, by name.
func (s *SQLClients) List(ctx context.Context) ([]*Client, error) {
	return s.clients(ctx, `SELECT `+clientColumns+` FROM jwtgate_clients ORDER BY name`)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Add stores a new client (c.ID, c.Created are set when empty). It
// writes no audit event: Accounts.AddClient does.
func (s *SQLClients) Add(ctx context.Context, c *Client) error { return s.add(ctx, s.db, c) }

func (s *SQLClients) add(ctx context.Context, x execer, c *Client) error {
	if c.ID == "" {
		c.ID = NewClientID()
	}
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	if err := c.Validate(); err != nil {
		return err
	}
	res, err := x.ExecContext(ctx, s.q(`INSERT INTO jwtgate_clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		c.ID, c.Name, c.SecretHash, c.OldSecretHash, c.OldSecretUntil.UnixMilli(), strings.Join(c.Scopes, " "), strings.Join(c.Audiences, " "),
		c.TTL.Milliseconds(), c.JWKS, c.JWKSURI, boolInt(c.Refresh), boolInt(c.Disabled), c.Created.UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrClientExists, c.Name)
	}
	return nil
}

// Update stores every setting of c, an existing client. It writes no
// audit event: Accounts.UpdateClient does.
func (s *SQLClients) Update(ctx context.Context, c *Client) error { return s.update(ctx, s.db, c) }

func (s *SQLClients) update(ctx context.Context, x execer, c *Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	res, err := x.ExecContext(ctx, s.q(`UPDATE jwtgate_clients SET name = ?, secret_hash = ?, old_secret_hash = ?, old_secret_until = ?, scopes = ?, audiences = ?, ttl_ms = ?, jwks = ?, jwks_uri = ?, refresh = ?, disabled = ? WHERE client_id = ?`),
		c.Name, c.SecretHash, c.OldSecretHash, c.OldSecretUntil.UnixMilli(), strings.Join(c.Scopes, " "), strings.Join(c.Audiences, " "),
		c.TTL.Milliseconds(), c.JWKS, c.JWKSURI, boolInt(c.Refresh), boolInt(c.Disabled), c.ID)
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "unique") {
			return fmt.Errorf("%w: %q", ErrClientExists, c.Name)
		}
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrClientNotFound, c.ID)
	}
	return nil
}

// clientFields are the columns of the settings an update may change,
// by the names ClientUpdate.apply reports.
var clientFields = map[string]struct {
	column string
	value  func(c *Client) any
}{
	"name":      {"name", func(c *Client) any { return c.Name }},
	"scopes":    {"scopes", func(c *Client) any { return strings.Join(c.Scopes, " ") }},
	"audiences": {"audiences", func(c *Client) any { return strings.Join(c.Audiences, " ") }},
	"ttl":       {"ttl_ms", func(c *Client) any { return c.TTL.Milliseconds() }},
	"refresh":   {"refresh", func(c *Client) any { return boolInt(c.Refresh) }},
	"disabled":  {"disabled", func(c *Client) any { return boolInt(c.Disabled) }},
	"jwks":      {"jwks", func(c *Client) any { return c.JWKS }},
	"jwks_uri":  {"jwks_uri", func(c *Client) any { return c.JWKSURI }},
}

// setFields stores the settings of c named by fields, and only those:
// a concurrent change to other settings, or to the secret, is kept.
func (s *SQLClients) setFields(ctx context.Context, x execer, c *Client, fields []string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var set []string
	var args []any
	for _, f := range fields {
		col, ok := clientFields[f]
		if !ok {
			return fmt.Errorf("server: unknown client setting %q", f)
		}
		set = append(set, col.column+" = ?")
		args = append(args, col.value(c))
	}
	if len(set) == 0 {
		return nil
	}
	res, err := x.ExecContext(ctx, s.q(`UPDATE jwtgate_clients SET `+strings.Join(set, ", ")+` WHERE client_id = ?`), append(args, c.ID)...)
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "unique") {
			return fmt.Errorf("%w: %q", ErrClientExists, c.Name)
		}
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrClientNotFound, c.ID)
	}
	return nil
}

// errSecretChanged: the client's secret changed since it was read.
var errSecretChanged = errors.New("the client's secret changed meanwhile")

// setSecret stores the secrets of c if the stored secret is still
// prevHash (errSecretChanged otherwise), so that of two rotations made
// at once, one fails rather than both answer a secret.
func (s *SQLClients) setSecret(ctx context.Context, x execer, c *Client, prevHash string) error {
	res, err := x.ExecContext(ctx, s.q(`UPDATE jwtgate_clients SET secret_hash = ?, old_secret_hash = ?, old_secret_until = ? WHERE client_id = ? AND secret_hash = ?`),
		c.SecretHash, c.OldSecretHash, c.OldSecretUntil.UnixMilli(), c.ID, prevHash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errSecretChanged
	}
	return nil
}

// RotateSecret gives the client a new secret and keeps the current one
// valid for grace (not at all when grace is 0). It returns the new
// secret, which is stored only as its hash. It writes no audit event:
// Accounts.RotateClientSecret does.
func (s *SQLClients) RotateSecret(ctx context.Context, id string, grace time.Duration, now time.Time) (string, error) {
	c, ok, err := s.Client(ctx, id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrClientNotFound, id)
	}
	secret, err := c.rotateSecret(grace, now)
	if err != nil {
		return "", err
	}
	return secret, s.Update(ctx, c)
}

// rotateSecret sets a new secret on c, keeping the current one valid for
// grace, and returns the new secret.
func (c *Client) rotateSecret(grace time.Duration, now time.Time) (string, error) {
	if grace < 0 {
		return "", fmt.Errorf("%w: negative grace period", ErrBadClient)
	}
	secret, hash := NewClientSecret()
	c.OldSecretHash, c.OldSecretUntil = "", time.UnixMilli(0)
	if grace > 0 && c.SecretHash != "" {
		c.OldSecretHash, c.OldSecretUntil = c.SecretHash, now.Add(grace)
	}
	c.SecretHash = hash
	return secret, nil
}

// Delete removes a client. It writes no audit event:
// Accounts.DeleteClient does.
func (s *SQLClients) Delete(ctx context.Context, id string) error { return s.delete(ctx, s.db, id) }

func (s *SQLClients) delete(ctx context.Context, x execer, id string) error {
	res, err := x.ExecContext(ctx, s.q(`DELETE FROM jwtgate_clients WHERE client_id = ?`), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrClientNotFound, id)
	}
	return nil
}

// Page returns at most limit clients (maxClientsPage when limit is not
// 1 to maxClientsPage) whose name is after after, by name.
func (s *SQLClients) Page(ctx context.Context, after string, limit int) ([]*Client, error) {
	if limit <= 0 || limit > maxClientsPage {
		limit = maxClientsPage
	}
	return s.clients(ctx, `SELECT `+clientColumns+` FROM jwtgate_clients WHERE name > ? ORDER BY name LIMIT ?`, after, limit)
}

// maxClientsPage bounds a page of Page.
const maxClientsPage = 500

func (s *SQLClients) clients(ctx context.Context, query string, args ...any) ([]*Client, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// HasScope reports whether the client may ask for scope s.
func (c *Client) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }
