package adaptertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// Proofs says which DPoP proofs a request of a scenario carries in its
// DPoP header (the dpop metadata of an RPC). They are made each time the
// request is sent, for the method and the URL the request is addressed
// to as the adapter reports it (HTTP.ProofURL, RPC.URL and RPC.Method),
// so that a proof is new to the replay store on each run unless Replay
// says otherwise.
type Proofs struct {
	// Token is the access token the proofs are sent with (ath).
	Token string

	// Method and URL, when not empty, replace the request's method (htm)
	// and URL (htu) in the proofs: a proof for another request.
	Method, URL string

	// Nonce puts the Gate's current DPoP nonce in the proofs.
	Nonce bool

	// OtherKey signs the proofs with Env.OtherProver instead of
	// Env.Prover, the key the scenarios' bound tokens are bound to.
	OtherKey bool

	// Count is the number of proofs (values of the header); 0 means 1,
	// and a negative count none.
	Count int

	// Replay sends the request a first time before the one whose outcome
	// is compared, with the same proofs, so that the second is a replay.
	Replay bool
}

// make returns the proofs for a request with method to u.
func (p *Proofs) make(e *Env, method string, u *url.URL) []string {
	e.T.Helper()
	n := p.Count
	if n == 0 {
		n = 1
	}
	if p.Method != "" {
		method = p.Method
	}
	if p.URL != "" {
		var err error
		if u, err = url.Parse(p.URL); err != nil {
			e.T.Fatal(err)
		}
	}
	nonce := ""
	if p.Nonce {
		nonce = e.Gate.DPoPNonce()
	}
	prover := e.Prover
	if p.OtherKey {
		prover = e.OtherProver
	}
	var out []string
	for range n {
		proof, err := prover.Proof(method, u, p.Token, nonce)
		if err != nil {
			e.T.Fatal(err)
		}
		out = append(out, proof)
	}
	return out
}

// NonceSecret keys the DPoP nonces of the scenarios that require them.
var NonceSecret = []byte("adaptertest-dpop-nonces-0123456789abcdef")

// withDPoP returns a Config hook that sets Config.DPoP: a verifier on the
// suite's clock, with a replay store of its own, and nonces if asked.
func withDPoP(nonces bool) func(e *Env, c *jwtgate.Config) {
	return func(e *Env, c *jwtgate.Config) {
		clock := func() time.Time { return Now }
		opts := dpop.Options{Replay: revoke.NewMemory(revoke.MemoryOptions{Clock: clock}), Clock: clock}
		if nonces {
			n, err := dpop.NewNonces(dpop.NonceOptions{Secret: NonceSecret, Clock: clock})
			if err != nil {
				e.T.Fatal(err)
			}
			opts.Nonces = n
		}
		v, err := dpop.NewVerifier(opts)
		if err != nil {
			e.T.Fatal(err)
		}
		c.DPoP = v
	}
}

// newProver returns a prover with a new P-256 key on the suite's clock.
func newProver(t interface{ Fatal(...any) }) *dpop.Prover {
	return NewProver(t, func() time.Time { return Now })
}

// NewProver returns a DPoP prover with a new P-256 key (ES256 proofs) on
// clock (nil: time.Now), for an adapter's own DPoP tests.
func NewProver(t interface{ Fatal(...any) }, clock func() time.Time) *dpop.Prover {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProver(key, jwt.ES256, clock)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// DPoPGate returns a Gate signing HS256 tokens with secret that takes
// DPoP-bound tokens (Config.DPoP: a verifier with a memory replay store
// of its own, and nonces if not nil), on the real clock, for an
// adapter's own DPoP tests.
func DPoPGate(t interface{ Fatal(...any) }, secret []byte, nonces *dpop.Nonces) *jwtgate.Gate {
	v, err := dpop.NewVerifier(dpop.Options{Replay: revoke.NewMemory(revoke.MemoryOptions{}), Nonces: nonces})
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.NewHMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	g, err := jwtgate.New(jwtgate.Config{SigningKey: key, DPoP: v})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Bound returns an access token of the Env's Gate for user, bound to the
// key of Prover (cnf.jkt).
func (e *Env) Bound(user string, opts ...jwtgate.TokenOption) string {
	e.T.Helper()
	return e.Access(nil, user, append(opts, jwtgate.BindTo(e.Prover.Thumbprint()))...)
}

// dpopScenarios are the DPoP scenarios (RFC 9449): a bound token with a
// proof of its key for the request, and the ways that goes wrong. A
// scenario that passes the DPoP scheme sends the token as "DPoP <token>".
func dpopScenarios() []Scenario {
	header1 := jwtgate.Location(jwtgate.InHeader{})
	on, nonces := withDPoP(false), withDPoP(true)
	dpopReq := func(p func(tok string) *Proofs) func(e *Env) Request {
		return func(e *Env) Request {
			tok := e.Bound("alice")
			return Request{Authorization: []string{"DPoP " + tok}, DPoP: p(tok)}
		}
	}
	return []Scenario{
		{Name: "dpop", Where: header1, Config: on, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok} })},
		{Name: "dpop-required", Where: header1, Config: on, Route: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired},
			Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok} })},
		{Name: "dpop-replay", Where: header1, Config: on, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, Replay: true} })},
		{Name: "dpop-no-proof", Where: header1, Config: on, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, Count: -1} })},
		{Name: "dpop-two-proofs", Where: header1, Config: on, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, Count: 2} })},
		{Name: "dpop-wrong-htu", Where: header1, Config: on,
			Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, URL: "https://elsewhere.example/other"} })},
		{Name: "dpop-wrong-htm", Where: header1, Config: on,
			Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, Method: http.MethodPatch} })},
		{Name: "dpop-wrong-ath", Where: header1, Config: on,
			Request: dpopReq(func(string) *Proofs { return &Proofs{Token: "another-token"} })},
		{Name: "dpop-wrong-key", Where: header1, Config: on,
			Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, OtherKey: true} })},
		{Name: "dpop-unbound-token", Where: header1, Config: on, Request: func(e *Env) Request {
			tok := e.Access(nil, "alice")
			return Request{Authorization: []string{"DPoP " + tok}, DPoP: &Proofs{Token: tok}}
		}},
		{Name: "dpop-bound-as-bearer", Where: header1, Config: on, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Bound("alice"))}
		}},
		{Name: "dpop-bound-as-bearer-with-proof", Where: header1, Config: on, Request: func(e *Env) Request {
			tok := e.Bound("alice")
			return Request{Authorization: bearer(tok), DPoP: &Proofs{Token: tok}}
		}},
		{Name: "dpop-bound-without-dpop", Where: header1, Request: func(e *Env) Request {
			return Request{Authorization: bearer(e.Bound("alice"))}
		}},
		{Name: "dpop-scheme-without-dpop", Where: header1, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok} })},
		{Name: "dpop-scheme-without-dpop-optional", Where: header1, Route: jwtgate.RouteOptions{Optional: true},
			HTTPOnly: "an RPC adapter refuses another scheme than Bearer even on an Optional method, where HTTP sees no token",
			Request:  dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok} })},
		{Name: "dpop-required-bearer", Where: header1, Config: on, Route: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired},
			Request: func(e *Env) Request { return Request{Authorization: bearer(e.Access(nil, "alice"))} }},
		{Name: "dpop-refused-route", Where: header1, Config: on, Route: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRefused},
			Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok} })},
		{Name: "dpop-nonce-missing", Where: header1, Config: nonces, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok} })},
		{Name: "dpop-nonce", Where: header1, Config: nonces, Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, Nonce: true} })},
		{Name: "dpop-optional-bad-proof", Where: header1, Config: on, Route: jwtgate.RouteOptions{Optional: true},
			Request: dpopReq(func(tok string) *Proofs { return &Proofs{Token: tok, Method: http.MethodPatch} })},
	}
}
