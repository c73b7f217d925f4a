package dpop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Transport is an http.RoundTripper that sends a DPoP proof with every
// request, and the access token under the DPoP scheme. It remembers the
// nonce each server gives (the DPoP-Nonce response header; those of 64
// origins at most, the map starting again when full), and when a
// server refuses a proof for want of a (fresh) nonce, with the
// use_dpop_nonce error of RFC 9449 sections 8 and 9, it retries the
// request once with the new nonce, if its body can be sent again
// (http.NewRequest sets GetBody for the usual bodies).
//
// The token and the proofs are for the origin of the request the client
// made: a redirect (followed by an http.Client) to another origin is sent
// as the client made it, without a proof and without Token's token.
type Transport struct {
	// Prover makes the proofs; required.
	Prover *Prover

	// Token, if set, gives the access token to send as
	// "Authorization: DPoP <token>". Without it a request's own
	// Authorization header, if it uses the DPoP scheme, is the token
	// whose hash the proof carries.
	Token func(ctx context.Context) (string, error)

	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper

	mu     sync.Mutex
	nonces map[string]string // by origin (scheme://host), at most maxNonces
}

// maxNonces bounds the nonces a Transport remembers, one per origin.
const maxNonces = 64

// maxPeek bounds what Transport reads of an error body to find
// use_dpop_nonce.
const maxPeek = 4 << 10

// RoundTrip implements http.RoundTripper. It does not modify req, and
// closes its body, also when it fails before sending it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Prover == nil {
		closeBody(req)
		return nil, errors.New("dpop: Transport.Prover is nil")
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	origin := req.URL.Scheme + "://" + req.URL.Host
	if first := firstRequest(req); first != req && origin != first.URL.Scheme+"://"+first.URL.Host {
		return base.RoundTrip(req)
	}
	token := ""
	if t.Token != nil {
		var err error
		if token, err = t.Token(req.Context()); err != nil {
			closeBody(req)
			return nil, fmt.Errorf("dpop: access token: %w", err)
		}
	} else if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		token = tok
	}
	nonce := t.nonce(origin)
	resp, err := t.send(base, req, token, nonce, false)
	if err != nil {
		return nil, err
	}
	fresh := t.remember(origin, resp)
	if fresh == "" || fresh == nonce || !wantsNonce(resp) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
	resp.Body.Close()
	resp, err = t.send(base, req, token, fresh, true)
	if err != nil {
		return nil, err
	}
	t.remember(origin, resp)
	return resp, nil
}

// send sends a copy of req with a proof (and the token).
func (t *Transport) send(base http.RoundTripper, req *http.Request, token, nonce string, again bool) (*http.Response, error) {
	proof, err := t.Prover.Proof(req.Method, req.URL, token, nonce)
	if err != nil {
		if !again { // a retry's body is not had yet; the first was sent
			closeBody(req)
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	if again && req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("dpop: body for the retry: %w", err)
		}
	}
	r.Header.Set("DPoP", proof)
	if token != "" {
		r.Header.Set("Authorization", "DPoP "+token)
	}
	return base.RoundTrip(r)
}

// firstRequest returns the request that an http.Client made before the
// redirects that led to req, or req itself.
func firstRequest(req *http.Request) *http.Request {
	for req.Response != nil && req.Response.Request != nil {
		req = req.Response.Request
	}
	return req
}

// closeBody closes the body of a request that is not sent, as the
// RoundTripper that was given it must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func (t *Transport) nonce(origin string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonces[origin]
}

// remember keeps the DPoP-Nonce of resp, and returns it.
func (t *Transport) remember(origin string, resp *http.Response) string {
	n := resp.Header.Get("DPoP-Nonce")
	if n == "" {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.nonces[origin]; !ok && (t.nonces == nil || len(t.nonces) >= maxNonces) {
		t.nonces = make(map[string]string) // servers choose the origins a client is sent to
	}
	t.nonces[origin] = n
	return n
}

// wantsNonce reports a use_dpop_nonce refusal: a 401 whose DPoP challenge
// names it (a resource server), or a 400 whose JSON error is it (an
// authorization server). It reads at most maxPeek bytes of a 400's body
// and puts them back.
func wantsNonce(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if strings.Contains(v, `error="use_dpop_nonce"`) {
				return true
			}
		}
	case http.StatusBadRequest:
		head, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		return err == nil && bytes.Contains(head, []byte(`"use_dpop_nonce"`))
	}
	return false
}
