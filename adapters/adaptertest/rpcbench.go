package adaptertest

import (
	"context"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// The RPC adapters' benchmarks: each calls the interceptors of several
// implementations ("impl") with the root package's benchmark token, an
// HS256 token over the JOSE core's benchmark claims verified at a fixed
// time, and a handler that checks the caller.

// RPCBenchPayload is the claims of the RPC benchmarks' token.
const RPCBenchPayload = `{"sub":"user-12345","iat":1767225600,"nbf":1767225600,"exp":1767229200,"jti":"6f1c1a5e-3f0e-4b8e-9a53-1d2c3b4a5f60","type":"access","fresh":false,"csrf":"0c7b8a2e-5d4f-4c3b-a1e2-9f8e7d6c5b4a","roles":["admin","user"]}`

// RPCBench is what the RPC benchmarks share: a Gate whose clock stands
// at Now, and Token, RPCBenchPayload signed HS256 with Secret, the key
// the peers verify it with.
type RPCBench struct {
	Gate   *jwtgate.Gate
	Token  string
	Secret []byte
	Now    time.Time
}

// NewRPCBench returns the RPC benchmarks' Gate and token.
func NewRPCBench(b testing.TB) RPCBench {
	b.Helper()
	rb := RPCBench{Secret: []byte("0123456789abcdef0123456789abcdef"), Now: time.Unix(1767227400, 0)}
	key, err := jwt.NewHMACKey(rb.Secret)
	var s *jwt.Signer
	if err == nil {
		rb.Gate, err = jwtgate.New(jwtgate.Config{SigningKey: key, Clock: func() time.Time { return rb.Now }})
	}
	if err == nil {
		s, err = jwt.NewSigner(key, jwt.HS256, jwt.SignerOptions{})
	}
	if err == nil {
		rb.Token, err = s.Sign([]byte(RPCBenchPayload))
	}
	if err != nil {
		b.Fatal(err)
	}
	return rb
}

// PeerClaimsKey is the context key under which a peer's interceptor in
// the RPC benchmarks puts the claims it verified, as a map[string]any
// (golang-jwt's MapClaims converts).
type PeerClaimsKey struct{}

// BenchCaller reports whether a handler's context carries the RPC
// benchmarks' caller, whichever implementation put it there: the Gate's
// token, or a peer's claims under PeerClaimsKey.
func BenchCaller(ctx context.Context) bool {
	if t, ok := jwtgate.TokenFrom(ctx); ok {
		return t.Identity == "user-12345"
	}
	if c, ok := ctx.Value(PeerClaimsKey{}).(map[string]any); ok {
		return c["sub"] == "user-12345"
	}
	return false
}

// BenchRPC runs one sub-benchmark impl=NAME for each of impls, in their
// order. "required" is BenchRequired on rb's Gate and token, the baseline the
// adapters are held to; "unprotected" and any other impl run the call
// that prepare returns for it, made before the timing. The handler of
// that call must pass its context to check, which panics unless the
// context carries the benchmarks' caller (for "unprotected", it checks
// nothing).
func BenchRPC(b *testing.B, rb RPCBench, impls []string, prepare func(impl string, check func(context.Context)) func() error) {
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			if impl == "required" {
				BenchRequired(b, rb.Gate, rb.Token, BenchCaller)
				return
			}
			call := prepare(impl, func(ctx context.Context) {
				if impl != "unprotected" && !BenchCaller(ctx) {
					panic("not authenticated")
				}
			})
			b.ReportAllocs()
			for b.Loop() {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
