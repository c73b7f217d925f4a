package grpcjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
	"github.com/jwtgate/jwtgate/dpop"
)

func bind(t testing.TB, g *jwtgate.Gate, p *dpop.Prover) string {
	t.Helper()
	tok, err := g.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// proofFor makes a proof for a call to method at origin.
func proofFor(t testing.TB, p *dpop.Prover, httpMethod, origin, method, token, nonce string) string {
	t.Helper()
	u, err := url.Parse(origin + svc + method)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Proof(httpMethod, u, token, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withMD appends metadata pairs to ctx.
func withMD(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// streamCall opens Count with ctx's metadata and returns its messages,
// final error and response header.
func streamCall(ctx context.Context, conn *grpc.ClientConn) ([]string, metadata.MD, error) {
	cs, err := conn.NewStream(ctx, &greeterDesc.Streams[0], svc+"Count")
	if err != nil {
		return nil, nil, err
	}
	if err := cs.SendMsg(wrapperspb.String("hi")); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, nil, err
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		if err := cs.RecvMsg(m); err != nil {
			h, _ := cs.Header()
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return got, h, err
		}
		got = append(got, m.GetValue())
	}
}

// unaryCall calls method with ctx's metadata and returns the reply, the
// response header and the error.
func unaryCall(ctx context.Context, conn *grpc.ClientConn, method string) (string, metadata.MD, error) {
	var h metadata.MD
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, svc+method, wrapperspb.String("hi"), out, grpc.Header(&h))
	return out.GetValue(), h, err
}

// The bufconn client addresses "passthrough:///bufnet" without TLS: its
// calls are to http://bufnet/package.Service/Method.
const bufOrigin = "http://bufnet"

func TestDPoPServer(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p, other := adaptertest.NewProver(t, nil), adaptertest.NewProver(t, nil)
	bound := bind(t, g, p)
	plain, err := g.CreateAccessToken(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	conn := serve(t, mustNew(t, g, grpcjwt.Options{
		Methods: map[string]jwtgate.RouteOptions{
			svc + "Orders":    {DPoP: jwtgate.DPoPRequired},
			svc + "Unchecked": {DPoP: jwtgate.DPoPRefused},
			svc + "Lenient":   {Optional: true, IgnoreInvalid: true},
		},
	}))
	proof := func(method string) string { return proofFor(t, p, "POST", bufOrigin, method, bound, "") }
	replayed := proof("Hello")
	dp := func(tok string) string { return "DPoP " + tok }
	tests := []struct {
		name, method string
		md           []string
		code         codes.Code
		want         string // the reply, or a part of the status message
	}{
		{"bound token with its proof", "Hello", []string{"authorization", dp(bound), "dpop", replayed}, codes.OK, "hello alice"},
		{"scheme in lower case", "Hello", []string{"authorization", "dpop " + bound, "dpop", proof("Hello")}, codes.OK, "hello alice"},
		{"replayed proof", "Hello", []string{"authorization", dp(bound), "dpop", replayed}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"proof for another method", "Hello", []string{"authorization", dp(bound), "dpop", proof("Fresh")}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"proof for GET", "Hello", []string{"authorization", dp(bound), "dpop", proofFor(t, p, "GET", bufOrigin, "Hello", bound, "")}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"proof for https", "Hello", []string{"authorization", dp(bound), "dpop", proofFor(t, p, "POST", "https://bufnet", "Hello", bound, "")}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"proof by another key", "Hello", []string{"authorization", dp(bound), "dpop", proofFor(t, other, "POST", bufOrigin, "Hello", bound, "")}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"no proof", "Hello", []string{"authorization", dp(bound)}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"two proofs", "Hello", []string{"authorization", dp(bound), "dpop", proof("Hello"), "dpop", proof("Hello")}, codes.Unauthenticated, "Invalid DPoP proof"},
		{"bound token as bearer", "Hello", []string{"authorization", "Bearer " + bound}, codes.Unauthenticated, "bound to a DPoP key"},
		{"unbound token as DPoP", "Hello", []string{"authorization", dp(plain), "dpop", proofFor(t, p, "POST", bufOrigin, "Hello", plain, "")}, codes.Unauthenticated, "not bound"},
		{"DPoP with two words", "Hello", []string{"authorization", dp(bound) + " x", "dpop", proof("Hello")}, codes.Unauthenticated, "expected 'DPoP <JWT>'"},
		{"bearer token", "Hello", []string{"authorization", "Bearer " + plain}, codes.OK, "hello alice"},
		{"required: bound token", "Orders", []string{"authorization", dp(bound), "dpop", proof("Orders")}, codes.OK, "hello alice"},
		{"required: bearer token", "Orders", []string{"authorization", "Bearer " + plain}, codes.Unauthenticated, "DPoP required"},
		{"refused: DPoP", "Unchecked", []string{"authorization", dp(bound), "dpop", proof("Unchecked")}, codes.Unauthenticated, "DPoP is not accepted here"},
		{"lenient: bad proof is not ignored", "Lenient", []string{"authorization", dp(bound), "dpop", proof("Hello")}, codes.Unauthenticated, "Invalid DPoP proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := unaryCall(withMD(t.Context(), tt.md...), conn, tt.method)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("code %v (%q), want %v", st.Code(), st.Message(), tt.code)
			}
			if tt.code == codes.OK && got != tt.want || tt.code != codes.OK && !strings.Contains(st.Message(), tt.want) {
				t.Errorf("reply %q, message %q; want %q", got, st.Message(), tt.want)
			}
		})
	}

	// Streams: the proof is for the stream's method.
	for _, tt := range []struct {
		name  string
		proof string
		code  codes.Code
	}{
		{"stream with its proof", proofFor(t, p, "POST", bufOrigin, "Count", bound, ""), codes.OK},
		{"stream with a proof for another method", proof("Hello"), codes.Unauthenticated},
	} {
		got, _, err := streamCall(withMD(t.Context(), "authorization", dp(bound), "dpop", tt.proof), conn)
		if status.Code(err) != tt.code || (tt.code == codes.OK) != (len(got) == 3 && got[0] == "hello alice 0") {
			t.Errorf("%s: %q, %v; want %v", tt.name, got, err, tt.code)
		}
	}
}

// Behind a proxy, proofs are for Options.Origin.
func TestDPoPServerOrigin(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p := adaptertest.NewProver(t, nil)
	bound := bind(t, g, p)
	conn := serve(t, mustNew(t, g, grpcjwt.Options{Origin: "https://api.example.com"}))
	for _, tt := range []struct {
		origin string
		code   codes.Code
	}{
		{"https://api.example.com", codes.OK},
		{"https://api.example.com:443", codes.OK},
		{bufOrigin, codes.Unauthenticated},
		{"https://other.example.com", codes.Unauthenticated},
	} {
		md := withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", tt.origin, "Hello", bound, ""))
		if _, _, err := unaryCall(md, conn, "Hello"); status.Code(err) != tt.code {
			t.Errorf("proof for %s: %v, want %v", tt.origin, err, tt.code)
		}
	}
}

// A server that wants nonces refuses a proof without one and sends the
// nonce in the dpop-nonce header, unary and streaming.
func TestDPoPServerNonce(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by.")})
	if err != nil {
		t.Fatal(err)
	}
	g := adaptertest.DPoPGate(t, secret, nonces)
	p := adaptertest.NewProver(t, nil)
	bound := bind(t, g, p)
	conn := serve(t, mustNew(t, g, grpcjwt.Options{}))

	_, h, err := unaryCall(withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", bufOrigin, "Hello", bound, "")), conn, "Hello")
	if status.Code(err) != codes.Unauthenticated || len(h.Get("dpop-nonce")) != 1 {
		t.Fatalf("without nonce: %v, header %v", err, h)
	}
	nonce := h.Get("dpop-nonce")[0]
	got, _, err := unaryCall(withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", bufOrigin, "Hello", bound, nonce)), conn, "Hello")
	if err != nil || got != "hello alice" {
		t.Fatalf("with the nonce: %q, %v", got, err)
	}

	_, h, err = streamCall(withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", bufOrigin, "Count", bound, "")), conn)
	if status.Code(err) != codes.Unauthenticated || len(h.Get("dpop-nonce")) != 1 {
		t.Fatalf("stream without nonce: %v, header %v", err, h)
	}
	msgs, _, err := streamCall(withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", bufOrigin, "Count", bound, h.Get("dpop-nonce")[0])), conn)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("stream with the nonce: %q, %v", msgs, err)
	}
	// A bearer refusal carries no nonce.
	if _, h, err := unaryCall(withMD(t.Context(), "authorization", "Bearer "+bound), conn, "Hello"); err == nil || len(h.Get("dpop-nonce")) != 0 {
		t.Errorf("bearer refusal: %v, header %v", err, h)
	}
}

// A Gate without Config.DPoP refuses the DPoP scheme as a bad value.
func TestDPoPServerWithoutConfig(t *testing.T) {
	e := newEnv(t)
	p := adaptertest.NewProver(t, nil)
	bound := e.Access(t, "alice", jwtgate.BindTo(p.Thumbprint()))
	conn := serve(t, mustNew(t, e.Gate, grpcjwt.Options{}))
	_, _, err := unaryCall(withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", bufOrigin, "Hello", bound, "")), conn, "Hello")
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "Unsupported authorization scheme") {
		t.Errorf("DPoP on a Gate without DPoP: %v", err)
	}
}

// DPoP credentials: the client sends a proof for each call, learns the
// server's nonce from a refusal and retries unary calls with it.
func TestDPoPCredentials(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by.")})
	if err != nil {
		t.Fatal(err)
	}
	for _, withNonces := range []bool{false, true} {
		var n *dpop.Nonces
		if withNonces {
			n = nonces
		}
		g := adaptertest.DPoPGate(t, secret, n)
		p := adaptertest.NewProver(t, nil)
		var refusals sync.Map // method -> count of dpop-nonce refusals
		count := func(fullMethod string, err error) {
			if status.Code(err) != codes.Unauthenticated {
				return
			}
			v, _ := refusals.LoadOrStore(fullMethod, new(int))
			*v.(*int)++
		}
		in := mustNew(t, g, grpcjwt.Options{Default: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}})
		unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			out, err := in.Unary(ctx, req, info, h)
			count(info.FullMethod, err)
			return out, err
		}
		stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			err := in.Stream(srv, ss, info, h)
			count(info.FullMethod, err)
			return err
		}
		creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
			return g.CreateAccessToken(ctx, "alice", jwtgate.BindTo(p.Thumbprint()))
		}, grpcjwt.CredentialsOptions{AllowInsecure: true, DPoP: p})
		conn := serveWith(t, grpc.ChainUnaryInterceptor(unary), []grpc.ServerOption{grpc.StreamInterceptor(stream)},
			grpc.WithPerRPCCredentials(creds), grpc.WithChainUnaryInterceptor(creds.RetryUnary), grpc.WithChainStreamInterceptor(creds.StreamNonces))

		for i := range 3 {
			if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
				t.Fatalf("nonces %v: call %d: %q, %v", withNonces, i, got, err)
			}
		}
		// The nonce learnt from unary calls serves streams to the same
		// server.
		if got, _, err := streamCall(t.Context(), conn); err != nil || len(got) != 3 || got[0] != "hello alice 0" {
			t.Fatalf("nonces %v: stream: %q, %v", withNonces, got, err)
		}
		want := 0
		if withNonces {
			want = 1 // the first call only
		}
		got := 0
		if v, ok := refusals.Load(svc + "Hello"); ok {
			got = *v.(*int)
		}
		if got != want {
			t.Errorf("nonces %v: %d refusals of Hello, want %d", withNonces, got, want)
		}
		if _, ok := refusals.Load(svc + "Count"); ok {
			t.Errorf("nonces %v: the stream was refused", withNonces)
		}
	}
}

// A stream refused for want of a nonce is not retried, but StreamNonces
// keeps the nonce for the next attempt.
func TestDPoPCredentialsStreamNonce(t *testing.T) {
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a nonce secret of thirty-two by.")})
	if err != nil {
		t.Fatal(err)
	}
	g := adaptertest.DPoPGate(t, secret, nonces)
	p := adaptertest.NewProver(t, nil)
	creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
		return g.CreateAccessToken(ctx, "alice", jwtgate.BindTo(p.Thumbprint()))
	}, grpcjwt.CredentialsOptions{AllowInsecure: true, DPoP: p})
	conn := serve(t, mustNew(t, g, grpcjwt.Options{}), grpc.WithPerRPCCredentials(creds), grpc.WithChainStreamInterceptor(creds.StreamNonces))
	if _, _, err := streamCall(t.Context(), conn); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("first stream: %v, want Unauthenticated (no nonce yet)", err)
	}
	if got, _, err := streamCall(t.Context(), conn); err != nil || len(got) != 3 {
		t.Fatalf("second stream: %q, %v", got, err)
	}
}

// tlsCreds returns server and client TLS credentials for the name bufnet,
// from a self-signed certificate.
func tlsCreds(t testing.TB) (server, client credentials.TransportCredentials) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bufnet"}, DNSNames: []string{"bufnet"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k}}, MinVersion: tls.VersionTLS13}),
		credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
}

// Over TLS a call's URL is https, on the server and in the credentials.
func TestDPoPTLS(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p := adaptertest.NewProver(t, nil)
	bound := bind(t, g, p)
	in := mustNew(t, g, grpcjwt.Options{Default: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}})
	srvCreds, cliCreds := tlsCreds(t)
	creds := grpcjwt.NewCredentials(func(context.Context) (string, error) { return bound, nil }, grpcjwt.CredentialsOptions{DPoP: p})
	conn := serveWith(t, grpc.ChainUnaryInterceptor(in.Unary), []grpc.ServerOption{grpc.StreamInterceptor(in.Stream), grpc.Creds(srvCreds)},
		grpc.WithTransportCredentials(cliCreds), grpc.WithPerRPCCredentials(creds))
	if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
		t.Fatalf("unary with the credentials: %q, %v", got, err)
	}
	if got, _, err := streamCall(t.Context(), conn); err != nil || len(got) != 3 {
		t.Fatalf("stream with the credentials: %q, %v", got, err)
	}

	// By hand, without the credentials: the proof must be for https.
	plain := serveWith(t, grpc.ChainUnaryInterceptor(in.Unary), []grpc.ServerOption{grpc.Creds(srvCreds)}, grpc.WithTransportCredentials(cliCreds))
	for _, tt := range []struct {
		origin string
		code   codes.Code
	}{
		{"https://bufnet", codes.OK},
		{bufOrigin, codes.Unauthenticated},
	} {
		md := withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", tt.origin, "Hello", bound, ""))
		if _, _, err := unaryCall(md, plain, "Hello"); status.Code(err) != tt.code {
			t.Errorf("proof for %s over TLS: %v, want %v", tt.origin, err, tt.code)
		}
	}
}

// A DPoP call refused for another reason than a nonce (here a token
// bound to another key) invalidates the token; the retry fetches a new
// one.
func TestDPoPCredentialsInvalidate(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p, other := adaptertest.NewProver(t, nil), adaptertest.NewProver(t, nil)
	var fetches int
	var mu sync.Mutex
	creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
		mu.Lock()
		fetches++
		n := fetches
		mu.Unlock()
		key := p
		if n == 1 {
			key = other
		}
		return g.CreateAccessToken(ctx, "alice", jwtgate.BindTo(key.Thumbprint()))
	}, grpcjwt.CredentialsOptions{AllowInsecure: true, DPoP: p})
	conn := serve(t, mustNew(t, g, grpcjwt.Options{}), grpc.WithPerRPCCredentials(creds), grpc.WithChainUnaryInterceptor(creds.RetryUnary))
	if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
		t.Fatalf("call: %q, %v", got, err)
	}
	if fetches != 2 {
		t.Errorf("%d fetches, want 2 (the token bound to another key dropped)", fetches)
	}
}

// The credentials and the Interceptor (without Options.Origin) form the
// same URL for every scheme and port a client can address: grpc gives
// credentials the authority without a port 443, whatever the scheme,
// and the server leaves it out of the :authority too. htu is the URL
// both take, which a proof made by hand must be for.
func TestDPoPAuthorities(t *testing.T) {
	g := adaptertest.DPoPGate(t, secret, nil)
	p := adaptertest.NewProver(t, nil)
	bound := bind(t, g, p)
	srvTLS, cliTLS := tlsCreds(t)
	for _, tt := range []struct {
		authority string
		tls       bool
		htu       string
		other     string // a URL the server does not take
	}{
		{"bufnet", false, "http://bufnet", "https://bufnet"},
		{"bufnet:443", false, "http://bufnet", "http://bufnet:443"},
		{"bufnet:80", false, "http://bufnet:80", "http://bufnet:443"},
		{"bufnet:8080", false, "http://bufnet:8080", "http://bufnet"},
		{"bufnet", true, "https://bufnet", "http://bufnet"},
		{"bufnet:443", true, "https://bufnet:443", "http://bufnet"},
		{"bufnet:80", true, "https://bufnet:80", "https://bufnet"},
		{"bufnet:8443", true, "https://bufnet:8443", "https://bufnet"},
	} {
		name := tt.authority + " plaintext"
		if tt.tls {
			name = tt.authority + " TLS"
		}
		t.Run(name, func(t *testing.T) {
			in := mustNew(t, g, grpcjwt.Options{Default: jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}})
			srv := []grpc.ServerOption{grpc.StreamInterceptor(in.Stream)}
			dial := []grpc.DialOption{grpc.WithAuthority(tt.authority)}
			if tt.tls {
				srv = append(srv, grpc.Creds(srvTLS))
				dial = append(dial, grpc.WithTransportCredentials(cliTLS))
			}
			creds := grpcjwt.NewCredentials(func(context.Context) (string, error) { return bound, nil },
				grpcjwt.CredentialsOptions{AllowInsecure: !tt.tls, DPoP: p})
			conn := serveWith(t, grpc.ChainUnaryInterceptor(in.Unary), srv, append(dial, grpc.WithPerRPCCredentials(creds))...)
			if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
				t.Errorf("unary with the credentials: %q, %v", got, err)
			}
			if got, _, err := streamCall(t.Context(), conn); err != nil || len(got) != 3 {
				t.Errorf("stream with the credentials: %q, %v", got, err)
			}
			plain := serveWith(t, grpc.ChainUnaryInterceptor(in.Unary), srv, dial...)
			for _, c := range []struct {
				origin string
				code   codes.Code
			}{{tt.htu, codes.OK}, {tt.other, codes.Unauthenticated}} {
				md := withMD(t.Context(), "authorization", "DPoP "+bound, "dpop", proofFor(t, p, "POST", c.origin, "Hello", bound, ""))
				if _, _, err := unaryCall(md, plain, "Hello"); status.Code(err) != c.code {
					t.Errorf("proof for %s: %v, want %v", c.origin, err, c.code)
				}
			}
		})
	}
}
