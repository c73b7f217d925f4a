package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// Key files of a data directory after a rotation: KeysDir holds one PKCS
// #8 PEM file per key, named after its kid, and ManifestFile lists them.
// A directory that has never been rotated has no manifest: its only key is
// KeyFile.
const (
	KeysDir      = "keys"
	ManifestFile = "keys.json"
)

// maxManifest bounds the manifest file read.
const maxManifest = 1 << 20

// Manifest is the content of keys.json: the keys of the service, oldest
// first. The signer is the newest key without RetireAt; a key with a
// RetireAt verifies until then and is not loaded after.
type Manifest struct {
	Keys []ManifestKey `json:"keys"`
}

// ManifestKey is one key of a Manifest.
type ManifestKey struct {
	KID      string        `json:"kid"`
	File     string        `json:"file"`          // relative to the data directory
	Alg      jwt.Algorithm `json:"alg,omitempty"` // empty for a migrated signing-key.pem
	Created  time.Time     `json:"created"`
	RetireAt *time.Time    `json:"retire_at,omitempty"`
}

// readManifest reads keys.json, or, when there is none, makes the manifest
// of the single legacy signing-key.pem. ok is false when neither exists.
func (d *DataDir) readManifest() (m Manifest, ok bool, err error) {
	path := filepath.Join(d.Path, ManifestFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(data) > maxManifest {
			return m, false, fmt.Errorf("server: %s: too large", path)
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return m, false, fmt.Errorf("server: %s: %w", path, err)
		}
		if len(m.Keys) == 0 {
			return m, false, fmt.Errorf("server: %s: no keys", path)
		}
		for _, k := range m.Keys {
			if k.KID == "" || k.File == "" || !filepath.IsLocal(k.File) {
				return m, false, fmt.Errorf("server: %s: bad entry %q", path, k.KID)
			}
		}
		return m, true, nil
	case !errors.Is(err, fs.ErrNotExist):
		return m, false, err
	}
	// Not rotated yet: the legacy single key, if there is one.
	key, err := d.loadKeyFile(KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	} else if err != nil {
		return m, false, err
	}
	var created time.Time
	if fi, err := os.Stat(filepath.Join(d.Path, KeyFile)); err == nil {
		created = fi.ModTime().UTC()
	}
	return Manifest{Keys: []ManifestKey{{KID: key.ID(), File: KeyFile, Created: created}}}, true, nil
}

// loadKeyFile loads the private key in file (relative to the data
// directory), with its thumbprint as ID when the file names none.
func (d *DataDir) loadKeyFile(file string) (*jwt.Key, error) {
	path := filepath.Join(d.Path, file)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	set, err := jwk.Load(data)
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", path, err)
	}
	key, err := set.SigningKey("")
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", path, err)
	}
	return jwk.EnsureKeyID(key)
}

// signerIndex returns the index of the signer of m: the newest key
// without a retire time.
func (m Manifest) signerIndex() int {
	for i := len(m.Keys) - 1; i >= 0; i-- {
		if m.Keys[i].RetireAt == nil {
			return i
		}
	}
	return -1
}

// KeyRing returns the key ring of the data directory at the time clock
// (nil: time.Now) gives (see LoadKeys), with its keys dropped at their
// retire times by clock, and the algorithm it signs with.
func (d *DataDir) KeyRing(alg jwt.Algorithm, clock func() time.Time, log *slog.Logger) (*jwk.Ring, jwt.Algorithm, error) {
	if clock == nil {
		clock = time.Now
	}
	if log != nil && d.Logger == nil {
		d.Logger = log
	}
	keys, err := d.LoadKeys(context.Background(), alg, clock())
	if err != nil {
		return nil, "", err
	}
	ring, err := keys.Ring(clock)
	if err != nil {
		return nil, "", err
	}
	return ring, keys.Algorithm, nil
}

// LoadKeys implements KeyStore: the signer of the data directory
// (generated for alg on first use, see SigningKey) and every older key
// whose retire time has not come at now. The algorithm is the one
// recorded when the signer was made, or alg for the key of a directory
// never rotated.
func (d *DataDir) LoadKeys(_ context.Context, alg jwt.Algorithm, now time.Time) (Keys, error) {
	m, ok, err := d.readManifest()
	if err != nil {
		return Keys{}, err
	}
	if !ok {
		// First start: make the key (SigningKey writes signing-key.pem,
		// the layout of a directory never rotated).
		key, err := d.SigningKey(alg, d.logger())
		if err != nil {
			return Keys{}, err
		}
		return Keys{Signer: key, Algorithm: alg}, nil
	}
	si := m.signerIndex()
	if si < 0 {
		return Keys{}, fmt.Errorf("server: %s: no current signing key", ManifestFile)
	}
	sig := m.Keys[si]
	signer, err := d.loadEntry(sig)
	if err != nil {
		return Keys{}, err
	}
	keys := Keys{Signer: signer, Algorithm: alg}
	if sig.Alg != "" {
		keys.Algorithm = sig.Alg
	}
	if err := checkSigningAlg(keys.Algorithm); err != nil || !signer.Allows(keys.Algorithm) {
		return Keys{}, fmt.Errorf("server: key %s cannot sign with %q", sig.KID, keys.Algorithm)
	}
	for i, k := range m.Keys {
		if i == si || (k.RetireAt != nil && !k.RetireAt.After(now)) {
			continue // the signer, or retired
		}
		key, err := d.loadEntry(k)
		if err != nil {
			return Keys{}, err
		}
		var dropAt time.Time
		if k.RetireAt != nil {
			dropAt = *k.RetireAt
		}
		keys.Retiring = append(keys.Retiring, RetiringKey{Key: key, RetireAt: dropAt})
	}
	return keys, nil
}

// Probe implements revoke.Prober, for readiness checks: it reads the key
// files of the signer (the manifest and the signer's file, or the
// single signing-key.pem), as a reload would. Key files are written only
// by a rotation, so a full or read-only disk does not fail it.
func (d *DataDir) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, ok, err := d.readManifest()
	if err != nil {
		return fmt.Errorf("server: key store probe: %w", err)
	}
	if !ok {
		return errors.New("server: key store probe: no signing key in the data directory")
	}
	if si := m.signerIndex(); si < 0 {
		return fmt.Errorf("server: key store probe: %s: no current signing key", ManifestFile)
	} else if _, err := d.loadEntry(m.Keys[si]); err != nil {
		return fmt.Errorf("server: key store probe: %w", err)
	}
	return nil
}

// loadEntry loads the key of a manifest entry and checks its kid.
func (d *DataDir) loadEntry(k ManifestKey) (*jwt.Key, error) {
	key, err := d.loadKeyFile(k.File)
	if err != nil {
		return nil, err
	}
	if key.ID() != k.KID {
		return nil, fmt.Errorf("server: %s holds key %s, the manifest says %s", k.File, key.ID(), k.KID)
	}
	return key, nil
}

// RotateKey adds a new signing key for alg ("" for the algorithm of the
// current signer) and marks the current signer to retire at now plus
// retireAfter: it verifies until then, so that the tokens it signed stay
// valid until they expire. The new key file is written and synced before
// the manifest that names it is renamed into place, so a crash leaves
// either the old or the new key set, never a manifest naming a missing
// key. The old key file is kept. A running server signs with the new key
// at its next reload of the keys (see LiveKeys). It implements KeyStore.
func (d *DataDir) RotateKey(_ context.Context, alg jwt.Algorithm, retireAfter time.Duration, now time.Time) (oldKID, newKID string, err error) {
	if retireAfter < 0 {
		return "", "", errors.New("server: negative retire delay")
	}
	m, ok, err := d.readManifest()
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("server: %s has no signing key yet (start jwtgate serve once)", d.Path)
	}
	si := m.signerIndex()
	if si < 0 {
		return "", "", fmt.Errorf("server: %s: no current signing key", ManifestFile)
	}
	old := m.Keys[si]
	oldKey, err := d.loadEntry(old)
	if err != nil {
		return "", "", err
	}
	oldAlg := old.Alg
	if oldAlg == "" {
		if algs := oldKey.Algorithms(); len(algs) > 0 {
			oldAlg = algs[0]
		}
	}
	if alg == "" {
		alg = oldAlg
	}
	if err := checkSigningAlg(alg); err != nil {
		return "", "", err
	}
	// The service verifies with the algorithm it signs with: a new key
	// must keep it, or the tokens of the old key would be refused.
	if !oldKey.Allows(alg) {
		return "", "", fmt.Errorf("server: the current key signs %s; a rotation keeps the algorithm (got %s)", oldAlg, alg)
	}
	key, err := jwk.Generate(alg, 0)
	if err != nil {
		return "", "", err
	}
	if key, err = jwk.EnsureKeyID(key); err != nil {
		return "", "", err
	}
	pemData, err := jwk.MarshalPrivatePEM(key)
	if err != nil {
		return "", "", err
	}
	file := filepath.Join(KeysDir, key.ID()+".pem")
	if !filepath.IsLocal(file) {
		return "", "", fmt.Errorf("server: bad key ID %q", key.ID())
	}
	if err := os.MkdirAll(filepath.Join(d.Path, KeysDir), 0o700); err != nil {
		return "", "", err
	}
	if err := writeAtomic(filepath.Join(d.Path, KeysDir), key.ID()+".pem", pemData); err != nil {
		return "", "", err
	}
	retire := now.Add(retireAfter).UTC()
	m.Keys[si].RetireAt = &retire
	if m.Keys[si].Alg == "" {
		m.Keys[si].Alg = oldAlg
	}
	m.Keys = append(m.Keys, ManifestKey{KID: key.ID(), File: filepath.ToSlash(file), Alg: alg, Created: now.UTC()})
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", "", err
	}
	if err := writeAtomic(d.Path, ManifestFile, append(data, '\n')); err != nil {
		return "", "", err
	}
	return old.KID, key.ID(), nil
}

// writeAtomic writes data to dir/name (mode 0600) through a synced
// temporary file renamed into place, then syncs dir.
func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
