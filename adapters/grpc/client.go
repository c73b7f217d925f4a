package grpcjwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/internal/rpcauth"
	"github.com/jwtgate/jwtgate/dpop"
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

	// DPoP, if set, makes the credentials send DPoP-bound tokens (RFC
	// 9449): "authorization: DPoP <token>" and, in the dpop metadata, a
	// proof made by DPoP for the call, method POST to the URL
	// scheme://authority/package.Service/Method, where the scheme is
	// https on a connection with TLS and http on one without, and the
	// authority has no port 443 (grpc leaves it out; the Interceptor
	// too). The fetch
	// callback must return tokens bound to the prover's key
	// (Prover.Thumbprint). A server that wants a nonce refuses the call
	// with a dpop-nonce header; RetryUnary and StreamNonces remember it
	// for the next calls to that server, and RetryUnary retries the call
	// once with it.
	DPoP *dpop.Prover
}

// Credentials are per-RPC credentials (credentials.PerRPCCredentials)
// that send "authorization: Bearer <token>" with every call (or, with
// CredentialsOptions.DPoP, "DPoP <token>" and a proof). The token
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
	prover *dpop.Prover

	mu     sync.Mutex
	tok    string
	exp    time.Time         // zero: the token has no exp
	wait   chan struct{}     // closed when the fetch in flight ends; nil if none
	nonces map[string]string // DPoP nonces by origin (scheme://authority)
}

// maxNonces bounds the DPoP nonces remembered, one per server origin.
const maxNonces = 64

// NewCredentials returns Credentials whose tokens come from fetch.
func NewCredentials(fetch func(ctx context.Context) (string, error), opts CredentialsOptions) *Credentials {
	c := &Credentials{fetch: fetch, before: opts.RefreshBefore, secure: !opts.AllowInsecure, clock: opts.Clock, prover: opts.DPoP}
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

// GetRequestMetadata returns the authorization metadata of a call (and
// its DPoP proof, with CredentialsOptions.DPoP). When no token can be had
// (the fetch callback failed), grpc fails the call with Unauthenticated
// and the callback's error in the message, or with the callback's own
// status error.
func (c *Credentials) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	if c.prover == nil {
		if u, ok := ctx.Value(usedKey{c}).(*atomic.Pointer[sent]); ok {
			u.Store(&sent{tok: tok})
		}
		return map[string]string{"authorization": "Bearer " + tok}, nil
	}
	target, err := callURL(ctx, uri)
	if err != nil {
		return nil, err
	}
	origin := target.Scheme + "://" + target.Host
	nonce := c.nonce(origin)
	proof, err := c.prover.Proof("POST", target, tok, nonce)
	if err != nil {
		return nil, fmt.Errorf("grpcjwt: DPoP proof: %w", err)
	}
	if u, ok := ctx.Value(usedKey{c}).(*atomic.Pointer[sent]); ok {
		u.Store(&sent{tok: tok, origin: origin, nonce: nonce})
	}
	return map[string]string{"authorization": "DPoP " + tok, "dpop": proof}, nil
}

// callURL returns the URL of the call whose credentials are asked for:
// the authority of the service's URI that grpc passes, the connection's
// scheme and the call's full method. grpc writes that URI as https with
// a port 443 left out, whatever the connection: so a plaintext call to
// host:443 is signed for http://host/..., and the Interceptor drops a
// port 443 from the :authority to check the same URL.
func callURL(ctx context.Context, uri []string) (*url.URL, error) {
	ri, ok := credentials.RequestInfoFromContext(ctx)
	if !ok || len(uri) == 0 || ri.Method == "" {
		return nil, errors.New("grpcjwt: DPoP credentials outside a call: no method or service URI to make the proof for")
	}
	u, err := url.Parse(uri[0])
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("grpcjwt: DPoP proof: service URI %q has no authority", uri[0])
	}
	scheme := "http"
	if ri.AuthInfo != nil && ri.AuthInfo.AuthType() == "tls" {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: u.Host, Path: ri.Method}, nil
}

// nonce returns the DPoP nonce last given by the server at origin.
func (c *Credentials) nonce(origin string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nonces[origin]
}

// remember keeps the nonce that a refusal of a call, which sent s,
// carried in its dpop-nonce header or trailer, and reports whether there
// was one that differs from the one s had.
func (c *Credentials) remember(s *sent, mds ...metadata.MD) bool {
	var n string
	for _, md := range mds {
		if vs := md.Get("dpop-nonce"); len(vs) > 0 && vs[0] != "" {
			n = vs[0]
			break
		}
	}
	if n == "" || s.origin == "" || !printable(n) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nonces == nil || len(c.nonces) >= maxNonces {
		c.nonces = make(map[string]string)
	}
	c.nonces[s.origin] = n
	return n != s.nonce
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
	case tok == "" || !rpcauth.OneWord(tok) || !printable(tok):
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
// what it sent.
type usedKey struct{ c *Credentials }

// sent is the token a call carried, and with DPoP the origin its proof
// was for and the nonce it had.
type sent struct{ tok, origin, nonce string }

// RetryUnary is a grpc.UnaryClientInterceptor
// (grpc.WithChainUnaryInterceptor(creds.RetryUnary)) for connections that
// use c: when a call that carried a token fails with Unauthenticated, it
// makes the call once more. With DPoP, a refusal that carries a new
// nonce (the dpop-nonce header) is retried with that nonce, and the
// nonce kept for later calls; any other refusal invalidates the token,
// and the retry fetches a new one. The server's interceptor refuses a
// call before its handler runs, so the retry does not repeat work; a
// handler that itself answers Unauthenticated gets the call twice.
func (c *Credentials) RetryUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	used := new(atomic.Pointer[sent])
	var header, trailer metadata.MD
	first := opts
	if c.prover != nil {
		first = append(opts[:len(opts):len(opts)], grpc.Header(&header), grpc.Trailer(&trailer))
	}
	err := invoker(context.WithValue(ctx, usedKey{c}, used), method, req, reply, cc, first...)
	if status.Code(err) != codes.Unauthenticated {
		return err
	}
	s := used.Load()
	if s == nil {
		return err
	}
	if !c.remember(s, header, trailer) {
		c.Invalidate(s.tok)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// StreamNonces is a grpc.StreamClientInterceptor
// (grpc.WithChainStreamInterceptor(creds.StreamNonces)) for connections
// that use c with DPoP: when a stream ends with Unauthenticated and a
// dpop-nonce header or trailer, it keeps the nonce for later calls, so
// that the caller's next attempt carries it. Streams are not retried.
func (c *Credentials) StreamNonces(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if c.prover == nil {
		return streamer(ctx, desc, cc, method, opts...)
	}
	used := new(atomic.Pointer[sent])
	cs, err := streamer(context.WithValue(ctx, usedKey{c}, used), desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	return &nonceStream{ClientStream: cs, c: c, used: used}, nil
}

// nonceStream watches a client stream's end for a DPoP nonce.
type nonceStream struct {
	grpc.ClientStream
	c    *Credentials
	used *atomic.Pointer[sent]
}

func (s *nonceStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil && status.Code(err) == codes.Unauthenticated {
		if u := s.used.Load(); u != nil {
			h, _ := s.ClientStream.Header()
			s.c.remember(u, h, s.ClientStream.Trailer())
		}
	}
	return err
}
