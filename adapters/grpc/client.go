package grpcjwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate"
)

// CredentialsOptions tune Credentials. The zero value is the safe default.
type CredentialsOptions struct {
	// RefreshBefore is how long before its exp a cached token is replaced:
	// a token about to expire could expire on its way. 30 seconds when
	// zero; a negative value means at expiry.
	RefreshBefore time.Duration

	// AllowInsecure lets the credentials travel on connections without
	// transport security (a test over bufconn, a Unix socket, a service
	// mesh that encrypts). Without it, grpc refuses to send them on an
	// insecure connection, where anyone on the path could take the token.
	AllowInsecure bool

	// Clock returns the time to compare with a token's exp; time.Now when
	// nil.
	Clock func() time.Time
}

// Credentials are per-RPC credentials (credentials.PerRPCCredentials)
// that send "authorization: Bearer <token>" with every call. The token
// comes from a fetch callback (a login, a refresh-token exchange, a file
// a sidecar renews) and is cached: the callback runs again when the
// cached token comes within RefreshBefore of its exp (read from the
// token's payload, without verifying it: the server verifies) and after
// Invalidate. Concurrent calls that need a new token share one fetch.
//
// A server that refuses the token (a revoked or rotated token, a clock
// ahead of ours) answers Unauthenticated; RetryUnary, as a client
// interceptor, then invalidates the token and retries the call once with
// a new one. Streams are not retried: a stream that ends with
// Unauthenticated can call Invalidate and start over.
type Credentials struct {
	fetch  func(ctx context.Context) (string, error)
	before time.Duration
	secure bool
	clock  func() time.Time

	mu   sync.Mutex
	tok  string
	exp  time.Time     // zero: the token has no exp
	wait chan struct{} // closed when the fetch in flight ends; nil if none
}

// NewCredentials returns Credentials whose tokens come from fetch.
func NewCredentials(fetch func(ctx context.Context) (string, error), opts CredentialsOptions) *Credentials {
	c := &Credentials{fetch: fetch, before: opts.RefreshBefore, secure: !opts.AllowInsecure, clock: opts.Clock}
	if c.before == 0 {
		c.before = 30 * time.Second
	}
	if c.before < 0 {
		c.before = 0
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	return c
}

// GetRequestMetadata returns the authorization metadata of a call. When
// no token can be had (the fetch callback failed), grpc fails the call
// with Unauthenticated and the callback's error in the message, or with
// the callback's own status error.
func (c *Credentials) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	if u, ok := ctx.Value(usedKey{c}).(*atomic.Pointer[string]); ok {
		u.Store(&tok)
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

// RequireTransportSecurity reports whether the credentials need a secure
// connection: true unless CredentialsOptions.AllowInsecure.
func (c *Credentials) RequireTransportSecurity() bool { return c.secure }

// Token returns the cached token, or fetches one if there is none or it
// is about to expire.
func (c *Credentials) Token(ctx context.Context) (string, error) {
	if c.fetch == nil {
		return "", errors.New("grpcjwt: Credentials without a fetch callback")
	}
	for {
		c.mu.Lock()
		if c.tok != "" && (c.exp.IsZero() || c.clock().Add(c.before).Before(c.exp)) {
			tok := c.tok
			c.mu.Unlock()
			return tok, nil
		}
		if ch := c.wait; ch != nil {
			// Another call is fetching: wait for its token; if it failed,
			// try ourselves.
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		ch := make(chan struct{})
		c.wait = ch
		c.mu.Unlock()
		tok, err := c.fetchOne(ctx)
		c.mu.Lock()
		c.wait = nil
		if err == nil {
			c.tok, c.exp = tok, expOf(tok)
		}
		close(ch)
		c.mu.Unlock()
		// A token that is already about to expire is still this call's
		// best: use it rather than fetch in a loop.
		return tok, err
	}
}

// fetchOne calls the fetch callback and checks what it gave.
func (c *Credentials) fetchOne(ctx context.Context) (tok string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("grpcjwt: token fetch callback panicked: %v", p)
		}
	}()
	tok, err = c.fetch(ctx)
	switch {
	case err != nil:
		return "", fmt.Errorf("grpcjwt: fetching a token: %w", err)
	case tok == "" || !oneWord(tok) || !printable(tok):
		return "", errors.New("grpcjwt: the token fetch callback returned an empty or malformed token")
	}
	return tok, nil
}

// printable reports whether s is visible ASCII, as a metadata value must
// be.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// expOf reads the exp claim of a JWT without verifying it; zero if the
// token is not a JWT or has no numeric exp.
func expOf(tok string) time.Time {
	claims, err := jwtgate.UnverifiedClaims(tok)
	if err != nil {
		return time.Time{}
	}
	n, ok := claims["exp"].(json.Number)
	if !ok {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9))
}

// Invalidate drops the cached token if it is tok (a token a server
// refused), so that the next call fetches a new one. A token fetched
// since is kept.
func (c *Credentials) Invalidate(tok string) {
	c.mu.Lock()
	if c.tok == tok {
		c.tok, c.exp = "", time.Time{}
	}
	c.mu.Unlock()
}

// usedKey carries, in a call's context, where GetRequestMetadata records
// the token it sent.
type usedKey struct{ c *Credentials }

// RetryUnary is a grpc.UnaryClientInterceptor
// (grpc.WithChainUnaryInterceptor(creds.RetryUnary)) for connections that
// use c: when a call that carried a token fails with Unauthenticated, it
// invalidates that token and makes the call once more with a new one.
// The server's interceptor refuses a call before its handler runs, so
// the retry does not repeat work; a handler that itself answers
// Unauthenticated gets the call twice.
func (c *Credentials) RetryUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	used := new(atomic.Pointer[string])
	err := invoker(context.WithValue(ctx, usedKey{c}, used), method, req, reply, cc, opts...)
	if status.Code(err) != codes.Unauthenticated {
		return err
	}
	tok := used.Load()
	if tok == nil {
		return err
	}
	c.Invalidate(*tok)
	return invoker(ctx, method, req, reply, cc, opts...)
}
