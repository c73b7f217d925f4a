package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// testClock is a clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// ringState describes a KeyRing at its clock's time: signer, its
// algorithm and the sorted published kids.
func describeRing(r *KeyRing) (signer string, alg jwt.Algorithm, kids []string) {
	kids = r.KeyIDs()
	slices.Sort(kids)
	return r.SigningKey().ID(), r.Algorithm(), kids
}

func TestKeyRotation(t *testing.T) {
	d := &DataDir{Path: t.TempDir()}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := newTestClock()
	now := clock.Now()
	const activate, retire = 10 * time.Minute, 720 * time.Hour

	if _, _, err := d.RotateKey(ctx, Rotation{RetireAfter: time.Hour}, now); err == nil {
		t.Fatal("rotated a directory without a key")
	}
	ring, alg, err := d.keyRing(jwt.ES256, clock.Now, log)
	if err != nil || alg != jwt.ES256 {
		t.Fatalf("first key: %v %v", alg, err)
	}
	first := ring.SigningKey().ID()
	if _, err := os.Stat(filepath.Join(d.Path, ManifestFile)); !os.IsNotExist(err) {
		t.Fatalf("a manifest before any rotation: %v", err)
	}
	for _, bad := range []Rotation{{Alg: jwt.HS256}, {Alg: "none"}, {Alg: "XX1"}, {ActivateAfter: -time.Second}, {RetireAfter: -time.Second}} {
		if _, _, err := d.RotateKey(ctx, bad, now); err == nil {
			t.Fatalf("rotation %+v accepted", bad)
		}
	}
	if _, _, err := d.RotateKey(ctx, Rotation{Alg: jwt.HS256}, now); !errors.Is(err, ErrUnsupportedAlgorithm) || !strings.Contains(err.Error(), "JWKS") {
		t.Fatalf("HS256: %v", err)
	}
	oldKID, second, err := d.RotateKey(ctx, Rotation{ActivateAfter: activate, RetireAfter: retire}, now)
	if err != nil || oldKID != first || second == first {
		t.Fatalf("rotate: %q %q %v", oldKID, second, err)
	}
	// The legacy key file is kept; the new key has its own file.
	for _, f := range []string{keyFile, filepath.Join(keysDir, second+".pem"), ManifestFile} {
		if fi, err := os.Stat(filepath.Join(d.Path, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	check := func(at time.Time, signer string, wantAlg jwt.Algorithm, kids ...string) {
		t.Helper()
		// serve's --alg does not override a rotated key's.
		ring, alg, err := d.keyRing(jwt.ES384, func() time.Time { return at }, log)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(kids)
		gotSigner, gotAlg, got := describeRing(ring)
		if alg != wantAlg || gotAlg != wantAlg || gotSigner != signer || !slices.Equal(got, kids) {
			t.Fatalf("at %v: alg %s, signer %s, keys %v; want %s, %s, %v", at.Sub(now), gotAlg, gotSigner, got, wantAlg, signer, kids)
		}
	}
	// Published at once, signing only from its activation on.
	check(now, first, jwt.ES256, first, second)
	check(now.Add(activate-time.Millisecond), first, jwt.ES256, first, second)
	check(now.Add(activate), second, jwt.ES256, first, second)
	// The old key verifies until its last token expires: retire after
	// the activation.
	check(now.Add(activate+retire-time.Second), second, jwt.ES256, first, second)
	check(now.Add(activate+retire), second, jwt.ES256, second)

	// A ring loaded before the activation switches signer at the
	// activation time by itself, without a reload.
	if got := ring.SigningKey().ID(); got != first {
		t.Fatalf("signer before reload %s", got)
	}
	clock.Advance(time.Minute)
	ring, _, err = d.keyRing(jwt.ES256, clock.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	if s, _, kids := describeRing(ring); s != first || !slices.Equal(kids, sorted(first, second)) {
		t.Fatalf("published, not active: signer %s, keys %v", s, kids)
	}
	clock.Advance(activate)
	if s, _, _ := describeRing(ring); s != second {
		t.Fatalf("after the activation time the ring signs with %s, want %s", s, second)
	}
	clock.Advance(retire)
	if _, _, kids := describeRing(ring); !slices.Equal(kids, []string{second}) {
		t.Fatalf("after the retire time the ring publishes %v", kids)
	}

	// An emergency rotation to another algorithm: active at once; the
	// keys before it keep their own algorithm.
	at := now.Add(time.Hour)
	_, third, err := d.RotateKey(ctx, Rotation{Alg: jwt.EdDSA, RetireAfter: retire}, at)
	if err != nil {
		t.Fatal(err)
	}
	check(at, third, jwt.EdDSA, first, second, third)
	ring, _, err = d.keyRing(jwt.ES256, func() time.Time { return at }, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ring.Keys() {
		want := jwt.ES256
		if k.Key.ID() == third {
			want = jwt.EdDSA
		}
		if k.Alg != want || !slices.Equal(k.Key.Algorithms(), []jwt.Algorithm{want}) {
			t.Fatalf("key %s: alg %s, allows %v; want %s alone", k.Key.ID(), k.Alg, k.Key.Algorithms(), want)
		}
	}
	// The first key keeps its earlier retire time.
	check(now.Add(activate+retire), third, jwt.EdDSA, second, third)

	// A manifest naming a key file that holds another key is refused.
	if err := os.Rename(filepath.Join(d.Path, keysDir, second+".pem"), filepath.Join(d.Path, keysDir, "x.pem")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(d.Path, keysDir, third+".pem"), filepath.Join(d.Path, keysDir, second+".pem")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.keyRing(jwt.ES256, func() time.Time { return now }, log); err == nil {
		t.Fatal("loaded a key file that does not match the manifest")
	}
}

// TestManifestWithoutActivation loads a manifest written before keys had
// activation times: its keys are active, the newest one signs.
func TestManifestWithoutActivation(t *testing.T) {
	d := &DataDir{Path: t.TempDir()}
	log := slog.New(slog.DiscardHandler)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := d.keyRing(jwt.ES256, func() time.Time { return now }, log); err != nil {
		t.Fatal(err)
	}
	_, second, err := d.RotateKey(context.Background(), Rotation{ActivateAfter: time.Hour, RetireAfter: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.Path, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Drop activate_at, as an older version wrote the manifest.
	var m map[string][]map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, k := range m["keys"] {
		if _, ok := k["activate_at"]; ok {
			delete(k, "activate_at")
			dropped++
		}
	}
	if dropped != 1 {
		t.Fatalf("%d activate_at in %s", dropped, data)
	}
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ring, _, err := d.keyRing(jwt.ES256, func() time.Time { return now }, log)
	if err != nil {
		t.Fatal(err)
	}
	if ring.SigningKey().ID() != second {
		t.Fatalf("signer %s, want the newest key %s", ring.SigningKey().ID(), second)
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestRotationsRacing: rotations of one data directory at once (several
// "jwtgate keys rotate", two operators) each add their key; none is
// lost by another's rewrite of the manifest.
func TestRotationsRacing(t *testing.T) {
	d := &DataDir{Path: t.TempDir()}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, _, err := d.keyRing(jwt.ES256, time.Now, log); err != nil {
		t.Fatal(err)
	}
	const n = 8
	kids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			// A data directory of its own per rotation: what each process
			// of "jwtgate keys rotate" has.
			_, kid, err := (&DataDir{Path: d.Path}).RotateKey(ctx, Rotation{RetireAfter: time.Hour}, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			kids <- kid
		})
	}
	wg.Wait()
	close(kids)
	m, ok, err := d.readManifest()
	if err != nil || !ok {
		t.Fatalf("manifest: %v %v", ok, err)
	}
	listed := map[string]bool{}
	for _, k := range m.Keys {
		listed[k.KID] = true
	}
	for kid := range kids {
		if !listed[kid] {
			t.Errorf("key %s, added by a rotation that succeeded, is not in the manifest (%d keys)", kid, len(m.Keys))
		}
	}
}
