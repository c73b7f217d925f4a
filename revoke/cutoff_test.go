package revoke_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// cutoffGate is a Gate in profile p whose clock is *at, checking
// revocations in s.
func cutoffGate(t *testing.T, p jwtgate.TokenProfile, s revoke.Store, clock func() time.Time) *jwtgate.Gate {
	t.Helper()
	key, _ := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	cfg := jwtgate.Config{SigningKey: key, Tokens: p, IsRevoked: revoke.Check(s), Clock: clock}
	if p == jwtgate.TokensRFC9068 {
		cfg.Audience, cfg.RefreshAudience = []string{"https://api.example"}, "https://id.example/refresh"
	}
	g, err := jwtgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCutoffAtSecondBoundaries puts a subject cutoff at instants around a
// second boundary and checks tokens issued around it: with millisecond
// iat, every token issued up to the cutoff's millisecond is refused and
// every later one works, whatever the second.
func TestCutoffAtSecondBoundaries(t *testing.T) {
	ctx := context.Background()
	second := time.Unix(1767225600, 0) // a second boundary
	ms := time.Millisecond
	for _, cut := range []time.Duration{-ms / 2, 0, ms / 2, ms, 300*ms + 400*time.Microsecond, 999 * ms, 999*ms + 999*time.Microsecond} {
		cutoff := second.Add(cut)
		cms := cutoff.Truncate(ms)    // the cutoff's millisecond
		issued := map[time.Time]bool{ // issued at -> refused
			cutoff.Add(-time.Second):              true,
			cms.Add(-ms):                          true,
			cms:                                   true,
			cutoff:                                true,
			cms.Add(ms - time.Nanosecond):         true,
			cms.Add(ms):                           false,
			cms.Add(2 * ms):                       false,
			second.Add(time.Second):               false,
			cutoff.Add(time.Second):               false,
			cutoff.Truncate(time.Second).Add(-ms): true,
		}
		for _, p := range []jwtgate.TokenProfile{jwtgate.TokensRFC9068, jwtgate.TokensFlask} {
			var at time.Time
			store := revoke.NewMemory(revoke.MemoryOptions{Clock: func() time.Time { return at }})
			g := cutoffGate(t, p, store, func() time.Time { return at })
			tokens := map[time.Time]string{}
			for when := range issued {
				at = when
				tok, err := g.CreateAccessToken(ctx, "alice")
				if err != nil {
					t.Fatal(err)
				}
				tokens[when] = tok
			}
			at = cutoff
			if err := revoke.LogoutEverywhere(ctx, store, "alice", cutoff, time.Hour); err != nil {
				t.Fatal(err)
			}
			at = second.Add(5 * time.Second)
			for when, refused := range issued {
				if p == jwtgate.TokensFlask {
					// Whole seconds: the cutoff's whole second is refused.
					refused = !when.Truncate(time.Second).After(cutoff)
				}
				_, err := g.VerifyToken(ctx, tokens[when], jwtgate.RouteOptions{})
				if got := errors.Is(err, jwtgate.ErrRevoked); got != refused || (!refused && err != nil) {
					t.Errorf("profile %d, cutoff %s, token issued %s: %v (want refused %v)",
						p, cutoff.Format(time.RFC3339Nano), when.Format(time.RFC3339Nano), err, refused)
				}
			}
		}
	}
}

// TestLogoutEverywhereThenLogin runs on the system clock: a token issued
// right after LogoutEverywhere returns works, one issued before it is
// refused, every time (in the same millisecond as often as the machine
// allows).
func TestLogoutEverywhereThenLogin(t *testing.T) {
	ctx := context.Background()
	store := revoke.NewMemory(revoke.MemoryOptions{})
	g := cutoffGate(t, jwtgate.TokensRFC9068, store, nil)
	for i := range 300 {
		before, err := g.CreateAccessToken(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := revoke.LogoutEverywhere(ctx, store, "alice", time.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
		after, err := g.CreateAccessToken(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.VerifyToken(ctx, before, jwtgate.RouteOptions{}); !errors.Is(err, jwtgate.ErrRevoked) {
			t.Fatalf("try %d: token from before the cutoff: %v", i, err)
		}
		if _, err := g.VerifyToken(ctx, after, jwtgate.RouteOptions{}); err != nil {
			t.Fatalf("try %d: token from after the cutoff: %v", i, err)
		}
	}
}
