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

	"github.com/jwtgate/jwtgate/internal/strictjson"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// Key files of a data directory after a rotation: keysDir holds one PKCS
// #8 PEM file per key, named after its kid, and ManifestFile lists them.
// A directory that has never been rotated has no manifest: its only key is
// keyFile.
const (
	keysDir      = "keys"
	ManifestFile = "keys.json"
	// keysLockFile is locked by each rotation while it rewrites the
	// manifest, so that rotations at once each add their key.
	keysLockFile = "keys.lock"
)

// The rotation lock is polled this often while another rotation holds
// it; where the system does not release a dead process's lock, a rotation
// waits at most rotationLockWait for it.
const (
	rotationLockPoll = 10 * time.Millisecond
	rotationLockWait = 30 * time.Second
)

func lockPath(dir string) string { return filepath.Join(dir, keysLockFile) }

// maxManifest bounds the manifest file read.
const maxManifest = 1 << 20

// Manifest is the content of keys.json: the keys of the service, oldest
// first. The signer is the newest key whose activation time has come (a
// key without ActivateAt is active); a key with a RetireAt verifies until
// then and is not loaded after.
type Manifest struct {
	Keys []ManifestKey `json:"keys"`
}

// ManifestKey is one key of a manifest.
type ManifestKey struct {
	KID        string        `json:"kid"`
	File       string        `json:"file"`          // relative to the data directory
	Alg        jwt.Algorithm `json:"alg,omitempty"` // empty for a migrated signing-key.pem
	Created    time.Time     `json:"created"`
	ActivateAt *time.Time    `json:"activate_at,omitempty"` // none: active since Created
	RetireAt   *time.Time    `json:"retire_at,omitempty"`
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
		// One object, no duplicate member: a decoder would stop after the
		// first value and keep the last copy of a member, reading a damaged
		// file as some other list of keys.
		if err := strictjson.ScanObject(string(data), nil); err != nil {
			return m, false, fmt.Errorf("server: %s: %w", path, err)
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
	key, err := d.loadKeyFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	} else if err != nil {
		return m, false, err
	}
	var created time.Time
	if fi, err := os.Stat(filepath.Join(d.Path, keyFile)); err == nil {
		created = fi.ModTime().UTC()
	}
	return Manifest{Keys: []ManifestKey{{KID: key.ID(), File: keyFile, Created: created}}}, true, nil
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

// keyRing returns the key ring of the data directory at the time clock
// (nil: time.Now) gives (see LoadKeys), whose signer and published keys
// follow clock, and the algorithm it signs with at that time.
func (d *DataDir) keyRing(alg jwt.Algorithm, clock func() time.Time, log *slog.Logger) (*KeyRing, jwt.Algorithm, error) {
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
	return ring, ring.Algorithm(), nil
}

// LoadKeys implements KeyStore: every key of the data directory whose
// retire time has not come at now (the first one generated for alg on
// first use, see SigningKey). Each key is bound to the algorithm recorded
// when it was made, or to alg for the key of a directory made before keys
// recorded theirs.
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
		if key, err = jwk.EnsureKeyID(key); err != nil {
			return Keys{}, err
		}
		if key, err = bindKey(key, alg); err != nil {
			return Keys{}, err
		}
		return Keys{Keys: []StoredKey{{Key: key, Alg: alg}}}, nil
	}
	var keys Keys
	for _, e := range m.Keys {
		if e.RetireAt != nil && !e.RetireAt.After(now) {
			continue // retired
		}
		sk, err := d.loadEntry(e, alg)
		if err != nil {
			return Keys{}, err
		}
		keys.Keys = append(keys.Keys, sk)
	}
	if keys.signer(now) < 0 {
		return Keys{}, fmt.Errorf("server: %s: no signing key is active at %s", ManifestFile, now.UTC().Format(time.RFC3339))
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
	si := manifestSigner(m, time.Now())
	if si < 0 {
		return fmt.Errorf("server: key store probe: %s: no current signing key", ManifestFile)
	}
	key, err := d.loadKeyFile(m.Keys[si].File)
	if err != nil {
		return fmt.Errorf("server: key store probe: %w", err)
	}
	if key.ID() != m.Keys[si].KID {
		return fmt.Errorf("server: key store probe: %s holds key %s, the manifest says %s", m.Keys[si].File, key.ID(), m.Keys[si].KID)
	}
	return nil
}

// loadEntry loads the key of a manifest entry, checks its kid and binds
// it to its algorithm (alg for an entry without one).
func (d *DataDir) loadEntry(e ManifestKey, alg jwt.Algorithm) (StoredKey, error) {
	key, err := d.loadKeyFile(e.File)
	if err != nil {
		return StoredKey{}, err
	}
	if key.ID() != e.KID {
		return StoredKey{}, fmt.Errorf("server: %s holds key %s, the manifest says %s", e.File, key.ID(), e.KID)
	}
	if e.Alg != "" {
		alg = e.Alg
	}
	if key, err = bindKey(key, alg); err != nil {
		return StoredKey{}, err
	}
	sk := StoredKey{Key: key, Alg: alg}
	if e.ActivateAt != nil {
		sk.ActivateAt = *e.ActivateAt
	}
	if e.RetireAt != nil {
		sk.RetireAt = *e.RetireAt
	}
	return sk, nil
}

// manifestSigner returns the index of the entry of m that signs at now:
// the newest active one, or -1.
func manifestSigner(m Manifest, now time.Time) int {
	for i := len(m.Keys) - 1; i >= 0; i-- {
		e := m.Keys[i]
		if (e.ActivateAt == nil || !now.Before(*e.ActivateAt)) && (e.RetireAt == nil || now.Before(*e.RetireAt)) {
			return i
		}
	}
	return -1
}

// RotateKey implements KeyStore: it adds a new key for r.Alg (the current
// signer's algorithm if empty), published at once and signing from now
// plus r.ActivateAfter, and gives every key without a retire time one:
// r.RetireAfter after that activation, so that the tokens they sign until
// then stay valid until they expire. The new key file is written and
// synced before the manifest that names it is renamed into place, so a
// crash leaves either the old or the new key set, never a manifest naming
// a missing key. Old key files are kept. Running servers publish the new
// key at their next reload of the keys (see LiveKeys). Rotations of one
// directory at once take turns (keysLockFile), so each adds its key.
func (d *DataDir) RotateKey(ctx context.Context, r Rotation, now time.Time) (oldKID, newKID string, err error) {
	if r.ActivateAfter < 0 || r.RetireAfter < 0 {
		return "", "", errors.New("server: negative activation or retire delay")
	}
	unlock, err := lockRotation(ctx, d.Path)
	if err != nil {
		return "", "", fmt.Errorf("server: key rotation lock: %w", err)
	}
	defer unlock()
	m, ok, err := d.readManifest()
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("server: %s has no signing key yet (start jwtgate serve once)", d.Path)
	}
	si := manifestSigner(m, now)
	if si < 0 {
		return "", "", fmt.Errorf("server: %s: no signing key is active", ManifestFile)
	}
	old := m.Keys[si]
	alg := r.Alg
	if old.Alg == "" {
		// A key made before keys recorded their algorithm: record it when
		// the key allows only one (EC and Ed25519 keys); an RSA key stays
		// bound to serve's --alg. A new key defaults to the first
		// algorithm the old one allows.
		oldKey, err := d.loadKeyFile(old.File)
		if err != nil {
			return "", "", err
		}
		algs := oldKey.Algorithms()
		if len(algs) == 1 {
			m.Keys[si].Alg = algs[0]
		}
		if alg == "" && len(algs) > 0 {
			alg = algs[0]
		}
	} else if alg == "" {
		alg = old.Alg
	}
	if err := checkSigningAlg(alg); err != nil {
		return "", "", err
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
	file := filepath.Join(keysDir, key.ID()+".pem")
	if !filepath.IsLocal(file) {
		return "", "", fmt.Errorf("server: bad key ID %q", key.ID())
	}
	if err := os.MkdirAll(filepath.Join(d.Path, keysDir), 0o700); err != nil {
		return "", "", err
	}
	if err := writeAtomic(filepath.Join(d.Path, keysDir), key.ID()+".pem", pemData); err != nil {
		return "", "", err
	}
	activate := now.Add(r.ActivateAfter).UTC()
	retire := activate.Add(r.RetireAfter)
	for i := range m.Keys {
		if m.Keys[i].RetireAt == nil {
			m.Keys[i].RetireAt = &retire
		}
	}
	m.Keys = append(m.Keys, ManifestKey{KID: key.ID(), File: filepath.ToSlash(file), Alg: alg, Created: now.UTC(), ActivateAt: &activate})
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
