package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Changes to the OAuth client registry, shared by the admin API and the
// "jwtgate clients" commands. Each change and its audit event are written
// in one SQL transaction (the registry and the audit log share the
// users' database): a change the audit log cannot record is not made.
// Events name the client (subject: its client_id; details: its name and
// the settings changed), never a secret nor its hash.

// Audit event types of the client registry.
const (
	evClientAdd          = "client.add"
	evClientUpdate       = "client.update"
	evClientRotateSecret = "client.rotate_secret"
	evClientDelete       = "client.delete"
	// evClientAuthFailure: a client authentication refused at the token,
	// introspection or revocation endpoint (after the login limiter let
	// it through).
	evClientAuthFailure = "client.auth_failure"
)

// Reasons the registry gives the sessions of a client it ends.
const (
	endedClientDisabled = "client_disabled"
	endedClientDeleted  = "client_deleted"
)

// MaxSecretGrace bounds how long a client's previous secret stays valid
// after a rotation.
const MaxSecretGrace = 30 * 24 * time.Hour

// ClientUpdate is a change to a client's settings: nil fields are left
// as they are.
type ClientUpdate struct {
	Name      *string
	Scopes    *[]string
	Audiences *[]string
	TTL       *time.Duration
	Refresh   *bool
	Disabled  *bool
	// JWKS and JWKSURI replace the client's keys; setting one clears the
	// other unless both are given.
	JWKS    *string
	JWKSURI *string
}

// apply sets the fields of u on c and returns the names of the settings
// that changed, in a fixed order.
func (u ClientUpdate) apply(c *Client) []string {
	var changed []string
	set := func(name string, differs bool, do func()) {
		if differs {
			do()
			changed = append(changed, name)
		}
	}
	if u.Name != nil {
		set("name", *u.Name != c.Name, func() { c.Name = *u.Name })
	}
	if u.Scopes != nil {
		set("scopes", !slices.Equal(*u.Scopes, c.Scopes), func() { c.Scopes = slices.Clone(*u.Scopes) })
	}
	if u.Audiences != nil {
		set("audiences", !slices.Equal(*u.Audiences, c.Audiences), func() { c.Audiences = slices.Clone(*u.Audiences) })
	}
	if u.TTL != nil {
		set("ttl", *u.TTL != c.TTL, func() { c.TTL = *u.TTL })
	}
	if u.Refresh != nil {
		set("refresh", *u.Refresh != c.Refresh, func() { c.Refresh = *u.Refresh })
	}
	if u.Disabled != nil {
		set("disabled", *u.Disabled != c.Disabled, func() { c.Disabled = *u.Disabled })
	}
	jwks, uri := c.JWKS, c.JWKSURI
	switch {
	case u.JWKS != nil && u.JWKSURI != nil:
		jwks, uri = *u.JWKS, *u.JWKSURI
	case u.JWKS != nil:
		jwks, uri = *u.JWKS, ""
	case u.JWKSURI != nil:
		jwks, uri = "", *u.JWKSURI
	}
	set("jwks", jwks != c.JWKS, func() { c.JWKS = jwks })
	set("jwks_uri", uri != c.JWKSURI, func() { c.JWKSURI = uri })
	return changed
}

func (a *Accounts) clientEvent(actor Actor, typ string, c *Client, details map[string]any) Event {
	if details == nil {
		details = map[string]any{}
	}
	details["name"] = truncate(c.Name, 200)
	return a.event(actor, typ, c.ID, outcomeSuccess, details)
}

// clientChange writes a change to the registry and its event in one
// transaction.
func (a *Accounts) clientChange(ctx context.Context, e Event, f func(tx *sql.Tx) error) error {
	if a.Clients == nil {
		return errors.New("server: no client registry")
	}
	return inTx(ctx, a.Clients.db, func(tx *sql.Tx) error {
		if err := f(tx); err != nil {
			return err
		}
		return a.Audit.record(ctx, tx, e)
	})
}

// AddClient registers c (c.ID and c.Created are set when empty). A client
// that registers no keys (JWKS, JWKSURI) gets a new secret, returned here
// once: only its hash is stored.
func (a *Accounts) AddClient(ctx context.Context, actor Actor, c *Client) (secret string, err error) {
	c.SecretHash, c.OldSecretHash, c.OldSecretUntil = "", "", time.Time{}
	if c.JWKS == "" && c.JWKSURI == "" {
		secret, c.SecretHash = NewClientSecret()
	}
	if c.ID == "" {
		c.ID = NewClientID()
	}
	if c.Created.IsZero() {
		c.Created = a.now()
	}
	auth := "client_secret"
	if secret == "" {
		auth = "private_key_jwt"
	}
	e := a.clientEvent(actor, evClientAdd, c, map[string]any{"auth": auth})
	if err := a.clientChange(ctx, e, func(tx *sql.Tx) error { return a.Clients.add(ctx, tx, c) }); err != nil {
		return "", err
	}
	return secret, nil
}

// UpdateClient changes the settings u gives of the client whose id or
// name is key, and returns the client as stored and the names of the
// settings that changed (none: nothing is written). Disabling a client
// ends its tokens: when that fails, the error wraps ErrSessionsNotEnded
// and the update, made again with Disabled, ends them.
func (a *Accounts) UpdateClient(ctx context.Context, actor Actor, key string, u ClientUpdate) (*Client, []string, error) {
	if a.Clients == nil {
		return nil, nil, errors.New("server: no client registry")
	}
	c, err := a.Clients.Find(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	changed := u.apply(c)
	if len(changed) > 0 {
		if err := c.Validate(); err != nil {
			return nil, nil, err
		}
		e := a.clientEvent(actor, evClientUpdate, c, map[string]any{"changed": changed})
		if err := a.clientChange(ctx, e, func(tx *sql.Tx) error { return a.Clients.setFields(ctx, tx, c, changed) }); err != nil {
			return nil, nil, err
		}
	}
	if c.Disabled && u.Disabled != nil {
		// An instance that read the client before it was disabled refuses
		// it tokens once it sees the first cutoff (Server.clientCutOff); a
		// token it issued before then is revoked by the second.
		if _, err := a.endAllAgain(ctx, c.ID, endedClientDisabled); err != nil {
			return c, changed, err
		}
	}
	return c, changed, nil
}

// RotateClientSecret gives the client whose id or name is key a new
// secret, returned here once, and keeps its current secret valid for
// grace (0 to MaxSecretGrace).
func (a *Accounts) RotateClientSecret(ctx context.Context, actor Actor, key string, grace time.Duration) (*Client, string, error) {
	if grace < 0 || grace > MaxSecretGrace {
		return nil, "", fmt.Errorf("%w: grace period %v: want 0 to %v", ErrBadClient, grace, MaxSecretGrace)
	}
	if a.Clients == nil {
		return nil, "", errors.New("server: no client registry")
	}
	// A rotation made at the same time wins: this one reads again, and
	// keeps the secret that rotation made valid for grace in its turn.
	for range 3 {
		c, err := a.Clients.Find(ctx, key)
		if err != nil {
			return nil, "", err
		}
		prev := c.SecretHash
		secret, err := c.rotateSecret(grace, a.now())
		if err != nil {
			return nil, "", err
		}
		e := a.clientEvent(actor, evClientRotateSecret, c, map[string]any{"grace": grace.String()})
		err = a.clientChange(ctx, e, func(tx *sql.Tx) error { return a.Clients.setSecret(ctx, tx, c, prev) })
		if errors.Is(err, errSecretChanged) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return c, secret, nil
	}
	return nil, "", fmt.Errorf("server: rotate the secret of %q: %w", key, errSecretChanged)
}

// DeleteClient ends the tokens of the client whose id or name is key,
// then deletes it, and returns the client deleted. Its tokens are ended
// first so that a failure leaves a client that can be deleted again,
// never a deleted client whose tokens still work: when they cannot be
// ended, the error wraps ErrSessionsNotEnded and the client is kept,
// disabled. It is disabled before its tokens are ended, so that the
// cutoff follows every reading of it as enabled: an instance that read
// it before then issues it nothing more (Server.clientCutOff).
func (a *Accounts) DeleteClient(ctx context.Context, actor Actor, key string) (*Client, error) {
	if a.Clients == nil {
		return nil, errors.New("server: no client registry")
	}
	c, err := a.Clients.Find(ctx, key)
	if err != nil {
		return nil, err
	}
	if !c.Disabled {
		c.Disabled = true
		if err := a.Clients.setFields(ctx, a.Clients.db, c, []string{"disabled"}); err != nil {
			return nil, err
		}
	}
	if _, err := a.endAllAgain(ctx, c.ID, endedClientDeleted); err != nil {
		return nil, err
	}
	e := a.clientEvent(actor, evClientDelete, c, nil)
	if err := a.clientChange(ctx, e, func(tx *sql.Tx) error { return a.Clients.delete(ctx, tx, c.ID) }); err != nil {
		return nil, err
	}
	return c, nil
}
