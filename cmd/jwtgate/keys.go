package main

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

func keysGenerate(e *env, args []string) int {
	fs := e.newFlags("keys generate", "keys generate --alg ALG [--bits N] [--kid KID] [--out PREFIX]")
	algFlag := fs.String("alg", "", "algorithm the key is for (required): RS256..PS512, ES256/384/512, EdDSA, HS256/384/512")
	bits := fs.Int("bits", 0, "RSA modulus size (default 2048, at least 2048); for HS*, the secret size in bytes")
	kid := fs.String("kid", "", "key ID (default: the RFC 7638 thumbprint)")
	out := fs.String("out", "", "write PREFIX.pem (private, PKCS#8), PREFIX.jwk (private JWK) and PREFIX.pub.jwk;\nfor HS*: PREFIX.key (raw secret) and PREFIX.jwk. Without it, print them; for HS*,\nonly the JWK (its secret base64url in \"k\"), never the raw bytes")
	force := fs.Bool("force", false, "overwrite existing files")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		e.errorf("keys generate: unexpected argument %q", pos[0])
		return exitUsage
	}
	if *algFlag == "" {
		e.errorf("keys generate: --alg is required")
		fs.Usage()
		return exitUsage
	}
	alg, err := parseAlg(*algFlag)
	if err != nil {
		e.errorf("keys generate: %v", err)
		return exitUsage
	}
	key, err := jwk.Generate(alg, *bits)
	if err != nil {
		e.errorf("keys generate: %s", oneLine(err))
		return exitUsage
	}
	if *kid != "" {
		key = key.WithID(*kid)
	} else if key, err = jwk.EnsureKeyID(key); err != nil {
		e.errorf("keys generate: %s", oneLine(err))
		return exitUsage
	}
	files, err := keyFiles(key)
	if err != nil {
		e.errorf("keys generate: %s", oneLine(err))
		return exitUsage
	}
	if *out == "" {
		for _, f := range files {
			if f.suffix == ".key" {
				continue // raw bytes: not for a terminal; the JWK holds the same secret
			}
			e.stdout.Write(f.data)
			if f.data[len(f.data)-1] != '\n' {
				fmt.Fprintln(e.stdout)
			}
		}
		return exitOK
	}
	for _, f := range files {
		name := *out + f.suffix
		if err := writeFile(name, f.data, f.mode, *force); err != nil {
			e.errorf("keys generate: %s", oneLine(err))
			return exitUsage
		}
		fmt.Fprintf(e.stdout, "wrote %s (%s)\n", filepath.Clean(name), f.what)
	}
	fmt.Fprintf(e.stdout, "kid %s\n", key.ID())
	return exitOK
}

type keyFile struct {
	suffix, what string
	data         []byte
	mode         os.FileMode
}

func keyFiles(key *jwt.Key) ([]keyFile, error) {
	jk, err := jwk.NewKey(key)
	if err != nil {
		return nil, err
	}
	priv, err := jk.MarshalPrivate()
	if err != nil {
		return nil, err
	}
	priv = append(priv, '\n')
	if key.IsSymmetric() {
		return []keyFile{
			{".key", "raw HMAC secret, for --secret", key.Secret(), 0o600},
			{".jwk", "secret JWK", priv, 0o600},
		}, nil
	}
	pemData, err := jwk.MarshalPrivatePEM(key)
	if err != nil {
		return nil, err
	}
	pub, err := json.Marshal(jk)
	if err != nil {
		return nil, err
	}
	return []keyFile{
		{".pem", "private key, PKCS#8 PEM", pemData, 0o600},
		{".jwk", "private JWK", priv, 0o600},
		{".pub.jwk", "public JWK", append(pub, '\n'), 0o644},
	}, nil
}

func keysThumbprint(e *env, args []string) int {
	fs := e.newFlags("keys thumbprint", "keys thumbprint FILE")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	set, code := loadKeyFile(e, "keys thumbprint", pos)
	if set == nil {
		return code
	}
	for _, k := range set.Keys() {
		tp, err := k.ThumbprintBase64(crypto.SHA256)
		if err != nil {
			e.errorf("keys thumbprint: %s", oneLine(err))
			return exitUsage
		}
		fmt.Fprintln(e.stdout, tp)
	}
	return exitOK
}

func keysPublic(e *env, args []string) int {
	fs := e.newFlags("keys public", "keys public FILE\n\n"+
		"Prints the public JWK of the key in FILE, or the public JWK Set of its keys.\n"+
		"A key without kid (a PEM key has none) is given its RFC 7638 SHA-256\n"+
		"thumbprint as kid: the kid that token sign puts in the header of the\n"+
		"tokens it signs with FILE, so that a JWK Set built from this output\n"+
		"verifies them.")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	set, code := loadKeyFile(e, "keys public", pos)
	if set == nil {
		return code
	}
	keys := set.Keys()
	if len(keys) == 1 && keys[0].IsSymmetric() {
		e.errorf("keys public: an HMAC secret has no public half")
		return exitUsage
	}
	pubs := make([]*jwk.Key, 0, len(keys))
	for _, k := range keys {
		if k.IsSymmetric() {
			continue // no public half; a set of secrets prints {"keys":[]}
		}
		pub, err := namedPublic(k)
		if err != nil {
			e.errorf("keys public: %s", oneLine(err))
			return exitUsage
		}
		pubs = append(pubs, pub)
	}
	var out []byte
	var err error
	if len(keys) == 1 {
		out, err = json.Marshal(pubs[0])
	} else {
		out, err = json.Marshal(struct {
			Keys []*jwk.Key `json:"keys"`
		}{pubs})
	}
	if err != nil {
		e.errorf("keys public: %s", oneLine(err))
		return exitUsage
	}
	e.stdout.Write(append(out, '\n'))
	return exitOK
}

// namedPublic returns the public half of k with a kid: its own, or else its
// RFC 7638 SHA-256 thumbprint, the ID that jwk.Set gives such a key and so
// the kid of the tokens token sign makes with it.
func namedPublic(k *jwk.Key) (*jwk.Key, error) {
	pub := k.Public()
	if pub.KeyID() != "" {
		return pub, nil
	}
	tp, err := pub.ThumbprintBase64(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return pub.WithID(tp)
}

// loadKeyFile loads the one FILE argument of a keys command.
func loadKeyFile(e *env, cmd string, pos []string) (*jwk.Set, int) {
	if len(pos) != 1 {
		e.errorf("%s: want exactly one FILE argument", cmd)
		return nil, exitUsage
	}
	b, err := readFile(pos[0])
	if err != nil {
		e.errorf("%s: %s", cmd, oneLine(err))
		return nil, exitUsage
	}
	set, err := jwk.Load(b)
	if err != nil {
		e.errorf("%s: %s: %s", cmd, pos[0], oneLine(err))
		return nil, exitUsage
	}
	if set.Len() == 0 {
		e.errorf("%s: %s: no usable key", cmd, pos[0])
		return nil, exitUsage
	}
	return set, exitOK
}

func keysRotate(e *env, args []string) int {
	fs := e.newFlags("keys rotate", "keys rotate [--data-dir DIR | --database-url URL] [--alg ALG] [--retire-after DURATION] [--now]\n\n"+
		"Adds a new signing key to the key store of jwtgate serve: its data directory,\n"+
		"or its PostgreSQL database. Running servers publish the new key in their\n"+
		"JWKS at their next reload of the keys, and sign with it only once every\n"+
		"verifier that caches the JWKS has it: --jwks-max-age plus --keys-reload after\n"+
		"now, read from the same flags, environment or config file as serve's, so\n"+
		"that the delay matches the servers' settings. --now skips that delay, for an\n"+
		"emergency: verifiers that cached the JWKS refuse the new tokens until their\n"+
		"copy expires. The keys signing until then keep verifying until --retire-after\n"+
		"after the new key signs, so that their tokens stay valid until they expire:\n"+
		"by default serve's --refresh-ttl (or --access-ttl if longer), read like the\n"+
		"settings above, and with --now one --keys-reload more, since a server signs\n"+
		"with the old key until it reloads.\n"+
		"Each key keeps its own algorithm: --alg may change it.")
	vars := map[string]string{"jwks-max-age": "JWTGATE_JWKS_MAX_AGE", "keys-reload": "JWTGATE_KEYS_RELOAD",
		"refresh-ttl": "JWTGATE_REFRESH_TTL", "access-ttl": "JWTGATE_ACCESS_TTL"}
	config := fs.String("config", "", "the JSON config file of jwtgate serve, for its stores and key timing [JWTGATE_CONFIG]")
	stores := addStoreFlags(fs, vars)
	algFlag := fs.String("alg", "", "algorithm of the new key: ES256/384/512, EdDSA, RS256..PS512 (default: the current key's)")
	retire := fs.Duration("retire-after", 0, "how long the keys it replaces keep verifying after it signs (default: the longest token lifetime, see above); 0 retires them when it starts to sign")
	refreshTTL := fs.Duration("refresh-ttl", 720*time.Hour, "serve's --refresh-ttl [JWTGATE_REFRESH_TTL]")
	accessTTL := fs.Duration("access-ttl", 15*time.Minute, "serve's --access-ttl [JWTGATE_ACCESS_TTL]")
	maxAge := fs.Duration("jwks-max-age", defaultJWKSMaxAge, "serve's --jwks-max-age [JWTGATE_JWKS_MAX_AGE]")
	reload := fs.Duration("keys-reload", defaultKeysReload, "serve's --keys-reload [JWTGATE_KEYS_RELOAD]")
	now := fs.Bool("now", false, "sign with the new key as soon as each server reloads its keys (an emergency, such as a leaked key)")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		e.errorf("keys rotate: unexpected argument %q", pos[0])
		return exitUsage
	}
	if !storeSources(e, fs, vars, *config) {
		return exitUsage
	}
	if *retire < 0 {
		e.errorf("keys rotate: --retire-after must not be negative")
		return exitUsage
	}
	if *refreshTTL <= 0 || *accessTTL <= 0 {
		e.errorf("keys rotate: --refresh-ttl and --access-ttl must be positive")
		return exitUsage
	}
	if err := checkKeyTiming(*maxAge, *reload); err != nil {
		e.errorf("keys rotate: %v", err)
		return exitUsage
	}
	plan := server.RotationPlan{JWKSMaxAge: *maxAge, KeysReload: *reload, AccessTTL: *accessTTL, RefreshTTL: *refreshTTL, Now: *now}
	if flagGiven(fs, "retire-after") {
		plan.RetireAfter = retire
	}
	var alg jwt.Algorithm
	if *algFlag != "" {
		a, err := parseAlg(*algFlag)
		if err == nil {
			err = server.CheckSigningAlgorithm(a)
		}
		if err != nil {
			e.errorf("keys rotate: --alg: %v", err)
			return exitUsage
		}
		alg = a
	}
	rot := plan.Rotation(alg)
	if *stores.databaseURL == "" {
		if fi, err := os.Stat(*stores.dataDir); err != nil || !fi.IsDir() {
			e.errorf("keys rotate: %s is not a data directory", *stores.dataDir)
			return exitUsage
		}
	}
	// The key store and the audit log, without Redis: rotations are
	// recorded beside the users.
	cfg := server.StoreConfig{DataDir: *stores.dataDir, DatabaseURL: *stores.databaseURL,
		Logger: slog.New(slog.DiscardHandler)}
	st, err := server.Open(e.ctx, cfg)
	if err != nil {
		e.errorf("keys rotate: %s", oneLine(err))
		return exitUsage
	}
	defer st.Close()
	ks := st.Keys
	t := time.Now()
	oldKID, newKID, err := server.RotateKey(e.ctx, ks, st.Audit, server.CLIActor, rot, t)
	if err != nil {
		e.errorf("keys rotate: %s", oneLine(err))
		if errors.Is(err, server.ErrUnsupportedAlgorithm) {
			return exitUsage
		}
		return exitRejected
	}
	activate := t.Add(rot.ActivateAfter)
	fmt.Fprintf(e.stdout, "new signing key %s\n", newKID)
	if *now {
		fmt.Fprintf(e.stdout, "running servers publish it and sign with it at their next key reload (within %v)\n", *reload)
	} else {
		fmt.Fprintf(e.stdout, "running servers publish it at their next key reload (within %v) and sign with it from %s (in %v)\n",
			*reload, activate.UTC().Format(time.RFC3339), rot.ActivateAfter)
	}
	fmt.Fprintf(e.stdout, "old key %s verifies until %s\n", oldKID, activate.Add(rot.RetireAfter).UTC().Format(time.RFC3339))
	return exitOK
}
