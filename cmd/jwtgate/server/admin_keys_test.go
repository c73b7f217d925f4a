package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

type keysPage struct {
	Keys []struct {
		KID        string     `json:"kid"`
		Alg        string     `json:"alg"`
		State      string     `json:"state"`
		ActivateAt *time.Time `json:"activate_at"`
		RetireAt   *time.Time `json:"retire_at"`
	} `json:"keys"`
}

// TestAdminKeys: the admin API lists the signing keys with their state
// and times, and rotates them with the plan of "jwtgate keys rotate",
// audited.
func TestAdminKeys(t *testing.T) {
	f, root := adminFixture(t)
	ctx := context.Background()
	live, err := NewLiveKeys(ctx, f.data, jwt.ES256, LiveKeysOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.s.cfg
	cfg.Keys, cfg.Algorithm, cfg.KeyStore, cfg.KeysReload = live, live.Algorithm(), f.data, testReload
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.s.mux = s.mux // the same service, with keys it can rotate
	root, _ = f.login(t, "root", testPassword)

	list := func() keysPage {
		t.Helper()
		r := f.do(t, "GET", "/admin/keys", "", "", bearer(root)...)
		wantStatus(t, "keys", r, 200)
		var p keysPage
		if err := json.Unmarshal([]byte(r.raw), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := list()
	if len(p.Keys) != 1 || p.Keys[0].State != "signing" || p.Keys[0].Alg != "ES256" {
		t.Fatalf("keys before rotation: %+v", p)
	}
	first := p.Keys[0].KID

	for _, c := range []struct{ body string }{{`{"alg":"HS256"}`}, {`{"alg":"none"}`}, {`{"now":"yes"}`}, {`{"kid":"x"}`}} {
		wantStatus(t, "rotate "+c.body, f.do(t, "POST", "/admin/keys/rotate", "application/json", c.body, bearer(root)...), 400)
	}
	start := time.Now()
	r := f.do(t, "POST", "/admin/keys/rotate", "application/json", `{"alg":"EdDSA"}`, bearer(root)...)
	wantStatus(t, "rotate", r, 200)
	if r.body["old_kid"] != first || r.body["new_kid"] == "" {
		t.Fatalf("rotate: %s", r.raw)
	}
	p = list()
	if len(p.Keys) != 2 || p.Keys[0].State != "signing" || p.Keys[1].State != "pending" || p.Keys[1].Alg != "EdDSA" {
		t.Fatalf("keys after rotation: %+v", p)
	}
	// Published before it signs: the JWKS's max-age plus the reload.
	want := start.Add(KeyActivationDelay(cfg.JWKSMaxAge, testReload))
	if at := p.Keys[1].ActivateAt; at == nil || at.Before(want.Add(-time.Second)) || at.After(want.Add(time.Minute)) {
		t.Errorf("new key activates at %v, want about %v", at, want)
	}
	if p.Keys[0].RetireAt == nil || p.Keys[0].RetireAt.Sub(*p.Keys[1].ActivateAt) != cfg.RefreshTTL {
		t.Errorf("old key retires at %v, want the refresh TTL after the new one signs", p.Keys[0].RetireAt)
	}
	// In an emergency, the new key signs at once.
	wantStatus(t, "rotate now", f.do(t, "POST", "/admin/keys/rotate", "application/json", `{"now":true}`, bearer(root)...), 200)
	p = list()
	if len(p.Keys) != 3 || p.Keys[2].State != "signing" {
		t.Fatalf("keys after an emergency rotation: %+v", p)
	}
	events, err := f.data.Audit.Events(ctx, AuditFilter{Type: evKeyRotate})
	if err != nil || len(events) != 2 || events[0].Actor != "root" || events[0].Outcome != outcomeSuccess {
		t.Fatalf("key rotation events: %+v (%v), want 2 by root", events, err)
	}
}
