package adaptertest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/jwt"
)

// HookEnv is a Gate with revocation, a claims hook and a user loader
// whose behaviour an adapter's own tests can change, and a Gate with the
// same key whose clock is two hours behind, for expired tokens. Its
// hooks: a token whose jti is in Revoked is revoked; StoreDown makes the
// revocation check fail; "mallory" is refused by the claims hook;
// UsersDown makes the user loader fail; "ghost" has no user, "bob" is
// &User{Name: "Bob"}, anyone else is their identity.
type HookEnv struct {
	Gate, Past *jwtgate.Gate
	Revoked    sync.Map // jti -> true
	StoreDown  atomic.Bool
	UsersDown  atomic.Bool
}

// NewHookEnv returns a HookEnv signing HS256 tokens with secret.
func NewHookEnv(t testing.TB, secret []byte) *HookEnv {
	t.Helper()
	e := &HookEnv{}
	key, err := jwt.NewHMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	cfg := jwtgate.Config{
		SigningKey: key,
		IsRevoked: func(_ context.Context, tok *jwtgate.Token) (bool, error) {
			if e.StoreDown.Load() {
				return false, errors.New("revocation store: connection refused")
			}
			_, ok := e.Revoked.Load(tok.Claims.ID)
			return ok, nil
		},
		VerifyClaims: func(_ context.Context, tok *jwtgate.Token) error {
			if tok.Identity == "mallory" {
				return errors.New("mallory is banned")
			}
			return nil
		},
		LoadUser: func(_ context.Context, tok *jwtgate.Token) (any, error) {
			switch {
			case e.UsersDown.Load():
				return nil, errors.New("user store: timeout")
			case tok.Identity == "ghost":
				return nil, nil
			case tok.Identity == "bob":
				return &User{Name: "Bob"}, nil
			}
			return tok.Identity, nil
		},
	}
	if e.Gate, err = jwtgate.New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Clock = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	if e.Past, err = jwtgate.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// Access returns an access token of the Gate for who.
func (e *HookEnv) Access(t testing.TB, who string, opts ...jwtgate.TokenOption) string {
	t.Helper()
	tok, err := e.Gate.CreateAccessToken(context.Background(), who, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Refresh returns a refresh token of the Gate for who.
func (e *HookEnv) Refresh(t testing.TB, who string) string {
	t.Helper()
	tok, err := e.Gate.CreateRefreshToken(context.Background(), who)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Expired returns a fresh access token for who that expired an hour ago.
func (e *HookEnv) Expired(t testing.TB, who string) string {
	t.Helper()
	tok, err := e.Past.CreateAccessToken(context.Background(), who, jwtgate.Fresh())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
