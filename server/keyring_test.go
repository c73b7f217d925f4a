package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestKeyRotation(t *testing.T) {
	d := &DataDir{Path: t.TempDir()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	if _, _, err := d.RotateKey(context.Background(), "", time.Hour, now); err == nil {
		t.Fatal("rotated a directory without a key")
	}
	ring, alg, err := d.KeyRing(jwt.ES256, func() time.Time { return now }, log)
	if err != nil || alg != jwt.ES256 {
		t.Fatalf("first key: %v %v", alg, err)
	}
	first := ring.SigningKey().ID()
	if _, err := os.Stat(filepath.Join(d.Path, ManifestFile)); !os.IsNotExist(err) {
		t.Fatalf("a manifest before any rotation: %v", err)
	}
	if _, _, err := d.RotateKey(context.Background(), jwt.EdDSA, time.Hour, now); err == nil {
		t.Fatal("rotated to another algorithm")
	}
	oldKID, newKID, err := d.RotateKey(context.Background(), "", 720*time.Hour, now)
	if err != nil || oldKID != first || newKID == first {
		t.Fatalf("rotate: %q %q %v", oldKID, newKID, err)
	}
	// The legacy key file is kept; the new key has its own file.
	for _, f := range []string{KeyFile, filepath.Join(KeysDir, newKID+".pem"), ManifestFile} {
		if fi, err := os.Stat(filepath.Join(d.Path, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	check := func(at time.Time, signer string, kids ...string) {
		t.Helper()
		// The algorithm flag of serve does not override a rotated key's.
		ring, alg, err := d.KeyRing(jwt.ES384, func() time.Time { return at }, log)
		if err != nil {
			t.Fatal(err)
		}
		got := ring.KeyIDs()
		slices.Sort(got)
		slices.Sort(kids)
		if alg != jwt.ES256 || ring.SigningKey().ID() != signer || !slices.Equal(got, kids) {
			t.Fatalf("at %v: alg %s, signer %s, keys %v; want %s, %v", at, alg, ring.SigningKey().ID(), got, signer, kids)
		}
	}
	check(now, newKID, first, newKID)
	check(now.Add(720*time.Hour-time.Second), newKID, first, newKID)
	check(now.Add(720*time.Hour), newKID, newKID)

	// A second rotation, retiring at once: the first key still verifies
	// until its own time.
	_, third, err := d.RotateKey(context.Background(), "", 0, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	check(now.Add(time.Hour), third, first, third)
	check(now.Add(721*time.Hour), third, third)

	// A manifest naming a key file that holds another key is refused.
	if err := os.Rename(filepath.Join(d.Path, KeysDir, newKID+".pem"), filepath.Join(d.Path, KeysDir, "x.pem")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(d.Path, KeysDir, third+".pem"), filepath.Join(d.Path, KeysDir, newKID+".pem")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.KeyRing(jwt.ES256, func() time.Time { return now }, log); err == nil {
		t.Fatal("loaded a key file that does not match the manifest")
	}
}
