package grpcjwt_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate"
	grpcjwt "github.com/jwtgate/jwtgate/adapters/grpc"
)

// fetcher hands out new access tokens for alice and counts the calls.
type fetcher struct {
	e     *env
	t     testing.TB
	calls atomic.Int32
	last  atomic.Value // string
}

func (f *fetcher) fetch(ctx context.Context) (string, error) {
	f.calls.Add(1)
	tok, err := f.e.Gate.CreateAccessToken(ctx, "alice")
	f.last.Store(tok)
	return tok, err
}

func (f *fetcher) revokeLast() {
	tok, err := f.e.Gate.DecodeToken(context.Background(), f.last.Load().(string))
	if err != nil {
		f.t.Fatal(err)
	}
	f.e.Revoked.Store(tok.Claims.ID, true)
}

func TestCredentials(t *testing.T) {
	e := newEnv(t)
	f := &fetcher{e: e, t: t}
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	creds := grpcjwt.NewCredentials(f.fetch, grpcjwt.CredentialsOptions{
		AllowInsecure: true,
		Clock:         func() time.Time { return time.Unix(0, now.Load()) },
	})
	conn := serve(t, mustNew(t, e.Gate, testPolicy),
		grpc.WithPerRPCCredentials(creds), grpc.WithChainUnaryInterceptor(creds.RetryUnary))

	for i := range 3 {
		if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if got, err := readStream(t.Context(), conn, "Count"); err != nil || len(got) != 3 {
		t.Fatalf("stream: %q, %v", got, err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("fetched %d times for four calls, want once", n)
	}

	// 20 seconds before exp (the default RefreshBefore is 30 s), a new
	// token is fetched.
	now.Add(int64(15*time.Minute - 20*time.Second))
	if _, err := call(t.Context(), conn, "Hello"); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("fetched %d times after the token came near its exp, want 2", n)
	}
	now.Store(time.Now().UnixNano())

	// A token the server refuses is replaced, and the call retried once.
	f.revokeLast()
	if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
		t.Fatalf("after revocation: %q, %v", got, err)
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("fetched %d times after a refusal, want 3", n)
	}
	// Only once: a refusal that a new token does not cure is returned.
	if _, err := call(t.Context(), conn, "Fresh"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("fresh method: %v, want PermissionDenied", err)
	}
	e.StoreDown.Store(true)
	before := f.calls.Load()
	if _, err := call(t.Context(), conn, "Hello"); status.Code(err) != codes.Unavailable {
		t.Errorf("store down: %v, want Unavailable", err)
	}
	if f.calls.Load() != before {
		t.Errorf("a call refused with Unavailable fetched a new token")
	}
}

// Without RetryUnary, a refused token is not replaced by itself; Invalidate
// replaces it.
func TestCredentialsInvalidate(t *testing.T) {
	e := newEnv(t)
	f := &fetcher{e: e, t: t}
	creds := grpcjwt.NewCredentials(f.fetch, grpcjwt.CredentialsOptions{AllowInsecure: true})
	conn := serve(t, mustNew(t, e.Gate, testPolicy), grpc.WithPerRPCCredentials(creds))
	if _, err := call(t.Context(), conn, "Hello"); err != nil {
		t.Fatal(err)
	}
	f.revokeLast()
	if _, err := call(t.Context(), conn, "Hello"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("revoked token: %v, want Unauthenticated", err)
	}
	old := f.last.Load().(string)
	creds.Invalidate("some other token")
	if tok, _ := creds.Token(t.Context()); tok != old {
		t.Errorf("Invalidate of another token dropped the cached one")
	}
	creds.Invalidate(old)
	if got, err := call(t.Context(), conn, "Hello"); err != nil || got != "hello alice" {
		t.Errorf("after Invalidate: %q, %v", got, err)
	}
}

// Concurrent calls that need a token share one fetch; a caller whose
// context ends stops waiting.
func TestCredentialsOneFetch(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
		calls.Add(1)
		<-release
		return "a.b.c", nil
	}, grpcjwt.CredentialsOptions{})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Go(func() {
			tok, err := creds.Token(t.Context())
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	// Wait until one fetch is under way, then check a canceled caller
	// does not wait for it.
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := creds.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller: %v", err)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d fetches for 8 concurrent calls, want 1", n)
	}
	for _, tok := range toks {
		if tok != "a.b.c" {
			t.Errorf("got token %q", tok)
		}
	}
}

func TestCredentialsErrors(t *testing.T) {
	boom := errors.New("login service down")
	for _, tt := range []struct {
		name  string
		fetch func(context.Context) (string, error)
		is    error
		want  string
	}{
		{"fetch fails", func(context.Context) (string, error) { return "", boom }, boom, "login service down"},
		{"empty token", func(context.Context) (string, error) { return "", nil }, nil, "empty or malformed"},
		{"token with a space", func(context.Context) (string, error) { return "a b", nil }, nil, "empty or malformed"},
		{"token with a newline", func(context.Context) (string, error) { return "a\nb", nil }, nil, "empty or malformed"},
		{"fetch panics", func(context.Context) (string, error) { panic("oops") }, nil, "panicked"},
		{"no callback", nil, nil, "without a fetch callback"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			creds := grpcjwt.NewCredentials(tt.fetch, grpcjwt.CredentialsOptions{})
			md, err := creds.GetRequestMetadata(t.Context())
			if md != nil || err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("got %v, %v; want an error with %q", md, err, tt.want)
			}
		})
	}
	// A failed fetch is not cached: the next call tries again.
	var n atomic.Int32
	creds := grpcjwt.NewCredentials(func(context.Context) (string, error) {
		if n.Add(1) == 1 {
			return "", boom
		}
		return "a.b.c", nil
	}, grpcjwt.CredentialsOptions{})
	if _, err := creds.Token(t.Context()); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if md, err := creds.GetRequestMetadata(t.Context()); err != nil || md["authorization"] != "Bearer a.b.c" {
		t.Errorf("second try: %v, %v", md, err)
	}
}

// The credentials refuse insecure connections unless AllowInsecure.
func TestCredentialsTransportSecurity(t *testing.T) {
	e := newEnv(t)
	f := &fetcher{e: e, t: t}
	if !grpcjwt.NewCredentials(f.fetch, grpcjwt.CredentialsOptions{}).RequireTransportSecurity() {
		t.Error("RequireTransportSecurity is false by default")
	}
	_, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(grpcjwt.NewCredentials(f.fetch, grpcjwt.CredentialsOptions{})))
	if err == nil || !strings.Contains(err.Error(), "transport level security") || f.calls.Load() != 0 {
		t.Errorf("insecure connection: %v after %d fetches; want a refusal before any fetch", err, f.calls.Load())
	}
}

// expOf reads exp; a token without exp is kept until invalidated.
func TestCredentialsNoExp(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
		calls.Add(1)
		return e.Gate.CreateAccessToken(ctx, "alice", jwtgate.TTL(jwtgate.NoExpiry))
	}, grpcjwt.CredentialsOptions{Clock: func() time.Time { return time.Now().Add(1000 * time.Hour) }})
	for range 3 {
		if _, err := creds.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d fetches of a token without exp, want 1", calls.Load())
	}
}

// A far exp is read without overflow: the token is kept.
func TestCredentialsFarExp(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	creds := grpcjwt.NewCredentials(func(ctx context.Context) (string, error) {
		calls.Add(1)
		return e.Gate.CreateAccessToken(ctx, "alice", jwtgate.TTL(250*365*24*time.Hour))
	}, grpcjwt.CredentialsOptions{})
	for range 3 {
		if _, err := creds.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d fetches of a token that expires in 250 years, want 1", calls.Load())
	}
}
