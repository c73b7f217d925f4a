package connectjwt_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
	"github.com/jwtgate/jwtgate/dpop"
)

// proofFor makes a proof for a call to procedure at origin.
func proofFor(t testing.TB, p *dpop.Prover, method, origin, procedure, token, nonce string) string {
	t.Helper()
	u, err := url.Parse(origin + svc + procedure)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Proof(method, u, token, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopCall calls procedure (Count: the stream) with the given headers
// (name, value pairs) and returns the reply (the stream's messages
// joined by "|") and the error.
func dpopCall(ctx context.Context, base string, hc *http.Client, tr transport, procedure string, kv []string, opts ...connect.ClientOption) (string, error) {
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, base+svc+procedure, append(clientOptions(tr), opts...)...)
	req := connect.NewRequest(wrapperspb.String("hi"))
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header().Add(kv[i], kv[i+1])
	}
	if procedure != "Count" {
		res, err := c.CallUnary(ctx, req)
		if err != nil {
			return "", err
		}
		return res.Msg.GetValue(), nil
	}
	s, err := c.CallServerStream(ctx, req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var got []string
	for s.Receive() {
		got = append(got, s.Msg().GetValue())
	}
	return strings.Join(got, "|"), s.Err()
}

// late is a handler set once the server's URL, which Options.Origin
// names, is known.
type late struct{ h http.Handler }

func (l *late) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.ServeHTTP(w, r) }

func TestDPoP(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p, other := adaptertest.NewProver(t, nil), adaptertest.NewProver(t, nil)
	bound, err := g.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := g.CreateAccessToken(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	policy := connectjwt.Options{Procedures: map[string]jwtgate.RouteOptions{
		svc + "Orders":    {DPoP: jwtgate.DPoPRequired},
		svc + "Unchecked": {DPoP: jwtgate.DPoPRefused},
	}}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			l := &late{}
			base, hc := server(t, l, tr)
			policy.Origin = base
			l.h = handler(mustNew(t, g, policy))
			proof := func(procedure string) string { return proofFor(t, p, "POST", base, procedure, bound, "") }
			replayed := proof("Hello")
			dp := "DPoP " + bound
			tests := []struct {
				name, procedure string
				kv              []string
				code            connect.Code // 0: success
				want            string       // the reply, or a part of the message
			}{
				{"bound token with its proof", "Hello", []string{"Authorization", dp, "DPoP", replayed}, 0, "hello alice"},
				{"stream with its proof", "Count", []string{"Authorization", dp, "DPoP", proof("Count")}, 0, "hello alice 0|hello alice 1|hello alice 2"},
				{"replayed proof", "Hello", []string{"Authorization", dp, "DPoP", replayed}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"proof for another procedure", "Hello", []string{"Authorization", dp, "DPoP", proof("Fresh")}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"stream, proof for another procedure", "Count", []string{"Authorization", dp, "DPoP", proof("Hello")}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"proof for GET", "Hello", []string{"Authorization", dp, "DPoP", proofFor(t, p, "GET", base, "Hello", bound, "")}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"proof for https", "Hello", []string{"Authorization", dp, "DPoP", proofFor(t, p, "POST", strings.Replace(base, "http:", "https:", 1), "Hello", bound, "")}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"proof by another key", "Hello", []string{"Authorization", dp, "DPoP", proofFor(t, other, "POST", base, "Hello", bound, "")}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"no proof", "Hello", []string{"Authorization", dp}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"two proofs", "Hello", []string{"Authorization", dp, "DPoP", proof("Hello"), "DPoP", proof("Hello")}, connect.CodeUnauthenticated, "Invalid DPoP proof"},
				{"bound token as bearer", "Hello", []string{"Authorization", "Bearer " + bound}, connect.CodeUnauthenticated, "bound to a DPoP key"},
				{"stream, bound token as bearer", "Count", []string{"Authorization", "Bearer " + bound}, connect.CodeUnauthenticated, "bound to a DPoP key"},
				{"bearer token", "Hello", []string{"Authorization", "Bearer " + plain}, 0, "hello alice"},
				{"required: bound token", "Orders", []string{"Authorization", dp, "DPoP", proof("Orders")}, 0, "hello alice"},
				{"required: bearer token", "Orders", []string{"Authorization", "Bearer " + plain}, connect.CodeUnauthenticated, "DPoP required"},
				{"refused: DPoP", "Unchecked", []string{"Authorization", dp, "DPoP", proof("Unchecked")}, connect.CodeUnauthenticated, "DPoP is not accepted here"},
			}
			for _, tt := range tests {
				got, err := dpopCall(t.Context(), base, hc, tr, tt.procedure, tt.kv)
				if connect.CodeOf(err) != tt.code && !(tt.code == 0 && err == nil) {
					t.Errorf("%s: %q, %v; want %v", tt.name, got, err, tt.code)
					continue
				}
				if tt.code == 0 && got != tt.want || tt.code != 0 && !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
				}
			}
		})
	}
}

// Without Options.Origin, proofs are for https and the Host header.
func TestDPoPHostOrigin(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p := adaptertest.NewProver(t, nil)
	bound, err := g.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	h := handler(mustNew(t, g, connectjwt.Options{}))
	for _, tr := range transports {
		base, hc := server(t, h, tr)
		host := strings.TrimPrefix(base, "http://")
		for _, tt := range []struct {
			origin string
			ok     bool
		}{
			{"https://" + host, true},
			{base, false},
			{"https://other.example.com", false},
		} {
			for _, procedure := range []string{"Hello", "Count"} {
				_, err := dpopCall(t.Context(), base, hc, tr, procedure, []string{"Authorization", "DPoP " + bound, "DPoP", proofFor(t, p, "POST", tt.origin, procedure, bound, "")})
				if (err == nil) != tt.ok {
					t.Errorf("%s: %s: proof for %s: %v, want ok=%v", tr.name, procedure, tt.origin, err, tt.ok)
				}
			}
		}
	}
}

// A server that wants nonces refuses a proof without one, with the nonce
// in the DPoP-Nonce metadata, over every protocol, unary and streaming.
func TestDPoPNonce(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by.")})
	if err != nil {
		t.Fatal(err)
	}
	g := adaptertest.DPoPGate(t, secret, nonces)
	p := adaptertest.NewProver(t, nil)
	bound, err := g.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range transports {
		l := &late{}
		base, hc := server(t, l, tr)
		l.h = handler(mustNew(t, g, connectjwt.Options{Origin: base}))
		for _, procedure := range []string{"Hello", "Count"} {
			_, err := dpopCall(t.Context(), base, hc, tr, procedure, []string{"Authorization", "DPoP " + bound, "DPoP", proofFor(t, p, "POST", base, procedure, bound, "")})
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeUnauthenticated || ce.Meta().Get("DPoP-Nonce") == "" {
				t.Fatalf("%s: %s without nonce: %v", tr.name, procedure, err)
			}
			nonce := ce.Meta().Get("DPoP-Nonce")
			if _, err := dpopCall(t.Context(), base, hc, tr, procedure, []string{"Authorization", "DPoP " + bound, "DPoP", proofFor(t, p, "POST", base, procedure, bound, nonce)}); err != nil {
				t.Errorf("%s: %s with the nonce: %v", tr.name, procedure, err)
			}
		}
	}
}

// A unary call sent as GET (an idempotent procedure) has a proof for GET.
func TestDPoPGet(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p := adaptertest.NewProver(t, nil)
	bound, err := g.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	l := &late{}
	tr := transports[0]
	base, hc := server(t, l, tr)
	in := mustNew(t, g, connectjwt.Options{Origin: base})
	var sawGet bool
	mux := http.NewServeMux()
	mux.Handle(svc+"Hello", connect.NewUnaryHandler(svc+"Hello",
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			sawGet = req.HTTPMethod() == http.MethodGet
			return connect.NewResponse(wrapperspb.String(reply(ctx))), nil
		}, connect.WithInterceptors(in), connect.WithIdempotency(connect.IdempotencyNoSideEffects)))
	l.h = mux
	get := []connect.ClientOption{connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects)}
	got, err := dpopCall(t.Context(), base, hc, tr, "Hello", []string{"Authorization", "DPoP " + bound, "DPoP", proofFor(t, p, "GET", base, "Hello", bound, "")}, get...)
	if err != nil || got != "hello alice" || !sawGet {
		t.Fatalf("GET with a proof for GET: %q, %v (GET %v)", got, err, sawGet)
	}
	if _, err := dpopCall(t.Context(), base, hc, tr, "Hello", []string{"Authorization", "DPoP " + bound, "DPoP", proofFor(t, p, "POST", base, "Hello", bound, "")}, get...); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("GET with a proof for POST: %v, want Unauthenticated", err)
	}
}

// A Connect client over dpop.Transport: the transport makes each call's
// proof (for the request's method and URL) and learns the server's nonce
// from the DPoP-Nonce response header of a refusal, over every protocol,
// unary and streaming; the next call carries it.
func TestDPoPTransport(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by.")})
	if err != nil {
		t.Fatal(err)
	}
	g := adaptertest.DPoPGate(t, secret, nonces)
	p := adaptertest.NewProver(t, nil)
	bound, err := g.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range transports {
		for _, procedure := range []string{"Hello", "Count"} {
			l := &late{}
			base, hc := server(t, l, tr)
			l.h = handler(mustNew(t, g, connectjwt.Options{Origin: base, Default: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}}))
			hc.Transport = &dpop.Transport{Prover: p, Base: hc.Transport, Token: func(context.Context) (string, error) { return bound, nil }}
			if _, err := dpopCall(t.Context(), base, hc, tr, procedure, nil); connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "nonce") {
				t.Errorf("%s: %s: first call: %v, want a nonce refusal", tr.name, procedure, err)
			}
			if got, err := dpopCall(t.Context(), base, hc, tr, procedure, nil); err != nil || !strings.HasPrefix(got, "hello alice") {
				t.Errorf("%s: %s: second call, with the nonce: %q, %v", tr.name, procedure, got, err)
			}
		}
	}
}
