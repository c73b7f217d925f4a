package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/dpop"
)

// counting is a ReplayStore that counts the calls to the store it wraps.
// Verify overlaps its calls with the signature check, as it does for a
// remote store.
type counting struct {
	s     dpop.ReplayStore
	calls atomic.Int32
}

func (c *counting) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	c.calls.Add(1)
	return c.s.Use(ctx, id, until)
}

// inProcess is counting marked as answering in process, as the memory
// store is (revoke.NonBlocking): Verify calls it after the signature.
type inProcess struct{ *counting }

func (inProcess) NonBlocking() {}

// storeKinds are the two orders of Verify: the store called last (in
// process) and the store called while the signature is checked.
var storeKinds = []struct {
	name string
	make func() (dpop.ReplayStore, *counting)
}{
	{"in process", func() (dpop.ReplayStore, *counting) {
		c := &counting{s: &replay{}}
		return inProcess{c}, c
	}},
	{"remote", func() (dpop.ReplayStore, *counting) {
		c := &counting{s: &replay{}}
		return c, c
	}},
}

// forge returns proof with its signature changed in the middle: still
// 64 bytes of canonical base64url, no longer the signature of the proof.
func forge(proof string) string {
	b := []byte(proof)
	i := len(b) - 20
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// orderCase is the setting of the tests that compare the two orders:
// a client's key and prover, the URI and access token of its request,
// and nonces to turn on.
type orderCase struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	p      *dpop.Prover
	target *url.URL
	token  string
	nonces *dpop.Nonces
	req    dpop.Request // POST to target with token, bound to p's key
}

func newOrderCase(t *testing.T) *orderCase {
	key := ecKey(t)
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte("a shared nonce secret of 32 byte"), Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	c := &orderCase{t: t, key: key, p: newProver(t, key, testNow), target: mustURL("https://api.example.com/orders/7"), token: "the.access.token", nonces: nonces}
	c.req = dpop.Request{Method: "POST", URL: c.target, AccessToken: c.token, Thumbprint: c.p.Thumbprint()}
	return c
}

// proof is p's proof for method on the case's request, with nonce.
func (c *orderCase) proof(p *dpop.Prover, method, nonce string) string {
	s, err := p.Proof(method, c.target, c.token, nonce)
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// A proof that fails any check but its signature never reaches the store,
// whatever the order: no one but the holder of the access token can make
// the service write, and only with a proof of its request.
func TestCheapFailuresWriteNothing(t *testing.T) {
	ctx := context.Background()
	c := newOrderCase(t)
	key, p, target, token, nonces, req, proof := c.key, c.p, c.target, c.token, c.nonces, c.req, c.proof
	tests := []struct {
		name   string
		proof  string
		req    dpop.Request
		nonces bool
		want   error
	}{
		{name: "wrong ath", proof: proof(p, "POST", ""), req: dpop.Request{Method: "POST", URL: target, AccessToken: token + "x", Thumbprint: p.Thumbprint()}, want: dpop.ErrInvalidProof},
		{name: "another key's thumbprint", proof: proof(newProver(t, ecKey(t), testNow), "POST", ""), req: req, want: dpop.ErrInvalidProof},
		{name: "wrong htm", proof: proof(p, "GET", ""), req: req, want: dpop.ErrInvalidProof},
		{name: "wrong htu", proof: proof(p, "POST", ""), req: dpop.Request{Method: "POST", URL: mustURL("https://api.example.com/orders/8"), AccessToken: token, Thumbprint: p.Thumbprint()}, want: dpop.ErrInvalidProof},
		{name: "stale iat", proof: proof(newProver(t, key, testNow.Add(-2*time.Minute)), "POST", ""), req: req, want: dpop.ErrInvalidProof},
		{name: "no nonce", proof: proof(p, "POST", ""), req: req, nonces: true, want: dpop.ErrUseNonce},
		{name: "bad nonce", proof: proof(p, "POST", "garbage"), req: req, nonces: true, want: dpop.ErrUseNonce},
		{name: "bad signature and wrong htm", proof: forge(proof(p, "GET", "")), req: req, want: dpop.ErrInvalidProof},
		{name: "malformed", proof: "a.b.c", req: req, want: dpop.ErrInvalidProof},
	}
	for _, kind := range storeKinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				store, c := kind.make()
				v := newVerifier(t, store, func(o *dpop.Options) {
					if tt.nonces {
						o.Nonces = nonces
					}
				})
				if _, err := v.Verify(ctx, tt.proof, tt.req); !errors.Is(err, tt.want) {
					t.Fatalf("Verify: %v, want %v", err, tt.want)
				}
				if n := c.calls.Load(); n != 0 {
					t.Fatalf("%d writes to the replay store for a proof that failed a check", n)
				}
			})
		}
	}
}

// Both orders give the same answer to every proof, a valid one included:
// a proof with a bad signature is refused for its signature, whatever
// else is wrong with it, even where the order with a remote store finds
// the other fault first (no nonce, htm, a malformed claim).
func TestSameAnswerInBothOrders(t *testing.T) {
	ctx := context.Background()
	c := newOrderCase(t)
	key, p, nonces, req, proof := c.key, c.p, c.nonces, c.req, c.proof
	tests := []struct {
		name   string
		proof  string
		nonces bool
		want   error // nil: accepted
	}{
		{name: "valid", proof: proof(p, "POST", "")},
		{name: "valid with a nonce", proof: proof(p, "POST", nonces.Current()), nonces: true},
		{name: "bad signature", proof: forge(proof(p, "POST", "")), want: dpop.ErrInvalidProof},
		{name: "bad signature, no nonce", proof: forge(proof(p, "POST", "")), nonces: true, want: dpop.ErrInvalidProof},
		{name: "bad signature, bad nonce", proof: forge(proof(p, "POST", "garbage")), nonces: true, want: dpop.ErrInvalidProof},
		{name: "bad signature, wrong htm", proof: forge(proof(p, "GET", "")), want: dpop.ErrInvalidProof},
		{name: "bad signature, stale iat", proof: forge(proof(newProver(t, key, testNow.Add(-2*time.Minute)), "POST", "")), want: dpop.ErrInvalidProof},
		{name: "bad signature, another key", proof: forge(proof(newProver(t, ecKey(t), testNow), "POST", "")), want: dpop.ErrInvalidProof},
		{name: "no nonce", proof: proof(p, "POST", ""), nonces: true, want: dpop.ErrUseNonce},
		{name: "wrong htm", proof: proof(p, "GET", ""), want: dpop.ErrInvalidProof},
		{name: "malformed", proof: "a.b.c", want: dpop.ErrInvalidProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := make([]string, len(storeKinds))
			for i, kind := range storeKinds {
				store, _ := kind.make()
				v := newVerifier(t, store, func(o *dpop.Options) {
					if tt.nonces {
						o.Nonces = nonces
					}
				})
				_, err := v.Verify(ctx, tt.proof, req)
				if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
					t.Fatalf("%s: Verify: %v, want %v", kind.name, err, tt.want)
				}
				answers[i] = fmt.Sprint(err)
			}
			if answers[0] != answers[1] {
				t.Fatalf("the answer depends on the store:\n%s: %s\n%s: %s", storeKinds[0].name, answers[0], storeKinds[1].name, answers[1])
			}
			if strings.HasPrefix(tt.name, "bad signature") && !strings.Contains(answers[0], "signature") {
				t.Fatalf("a forged proof refused for something else than its signature: %s", answers[0])
			}
		})
	}
}

// A proof whose only fault is its signature is refused. With a store in
// process it writes nothing; with a remote one at most its own jti, which
// stops no other proof of the client.
func TestBadSignature(t *testing.T) {
	ctx := context.Background()
	p := newProver(t, ecKey(t), testNow)
	target := mustURL("https://api.example.com/orders/7")
	const token = "the.access.token"
	req := dpop.Request{Method: "POST", URL: target, AccessToken: token, Thumbprint: p.Thumbprint()}
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			store, c := kind.make()
			v := newVerifier(t, store, nil)
			genuine, err := p.Proof("POST", target, token, "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(ctx, forge(genuine), req)
			if !errors.Is(err, dpop.ErrInvalidProof) || !strings.Contains(err.Error(), "signature") {
				t.Fatalf("forged signature: %v, want ErrInvalidProof (signature)", err)
			}
			writes := c.calls.Load()
			if kind.name == "in process" && writes != 0 {
				t.Fatalf("%d writes for a forged proof with a store in process", writes)
			}
			if writes > 1 {
				t.Fatalf("%d writes for one forged proof", writes)
			}
			another, err := p.Proof("POST", target, token, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, another, req); err != nil {
				t.Fatalf("a valid proof with another jti, after a forged one: %v", err)
			}
			// In process, the forged proof burnt nothing: the genuine
			// proof whose jti it carried still passes, once.
			if kind.name == "in process" {
				if _, err := v.Verify(ctx, genuine, req); err != nil {
					t.Fatalf("the genuine proof after a forged copy: %v", err)
				}
				if _, err := v.Verify(ctx, genuine, req); !errors.Is(err, dpop.ErrInvalidProof) {
					t.Fatalf("the genuine proof replayed: %v", err)
				}
			}
		})
	}
}

// blocking is a remote-like ReplayStore whose Use waits until its
// context ends, as a store that does not answer; it records its return.
// With cancel set, it first ends the caller's context itself.
type blocking struct {
	cancel   context.CancelFunc
	called   atomic.Bool
	returned atomic.Bool
}

func (b *blocking) Use(ctx context.Context, _ string, _ time.Time) (bool, error) {
	b.called.Store(true)
	defer b.returned.Store(true)
	if b.cancel != nil {
		b.cancel()
	}
	<-ctx.Done()
	return false, ctx.Err()
}

// A store that does not answer makes Verify return once the context ends,
// refusing the proof (fail closed), and leaves no call running.
func TestSlowStore(t *testing.T) {
	p := newProver(t, ecKey(t), testNow)
	target := mustURL("https://api.example.com/orders/7")
	proof, err := p.Proof("GET", target, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &blocking{cancel: cancel}
	v := newVerifier(t, store, nil)
	_, err = v.Verify(ctx, proof, dpop.Request{Method: "GET", URL: target})
	if !errors.Is(err, dpop.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a store that does not answer: %v, want ErrUnavailable (context canceled)", err)
	}
	if !store.returned.Load() {
		t.Fatal("Verify returned while the store's Use was still running")
	}
}

// A signature that fails while the store's call is in flight is the
// error; the call's context is cancelled and Verify waits for it.
func TestSignatureFailsDuringUse(t *testing.T) {
	p := newProver(t, ecKey(t), testNow)
	target := mustURL("https://api.example.com/orders/7")
	proof, err := p.Proof("GET", target, "", "")
	if err != nil {
		t.Fatal(err)
	}
	store := &blocking{} // returns only when Verify cancels its call
	v := newVerifier(t, store, nil)
	_, err = v.Verify(context.Background(), forge(proof), dpop.Request{Method: "GET", URL: target})
	if !errors.Is(err, dpop.ErrInvalidProof) || errors.Is(err, dpop.ErrUnavailable) {
		t.Fatalf("forged proof with a store in flight: %v, want ErrInvalidProof only", err)
	}
	if !store.called.Load() || !store.returned.Load() {
		t.Fatalf("store called %v, returned %v: want its call made, cancelled and waited for", store.called.Load(), store.returned.Load())
	}
}

// A store that fails refuses the proof, in both orders; a forged proof is
// refused as forged even then.
func TestStoreDown(t *testing.T) {
	ctx := context.Background()
	p := newProver(t, ecKey(t), testNow)
	target := mustURL("https://api.example.com/orders/7")
	req := dpop.Request{Method: "GET", URL: target}
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			store, c := kind.make()
			c.s.(*replay).down = true
			v := newVerifier(t, store, nil)
			proof, err := p.Proof("GET", target, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, proof, req); !errors.Is(err, dpop.ErrUnavailable) {
				t.Fatalf("store down: %v, want ErrUnavailable", err)
			}
			if _, err := v.Verify(ctx, forge(proof), req); !errors.Is(err, dpop.ErrInvalidProof) || errors.Is(err, dpop.ErrUnavailable) {
				t.Fatalf("forged proof, store down: %v, want ErrInvalidProof only", err)
			}
		})
	}
}
