package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/b64url"
	"github.com/jwtgate/jwtgate/internal/strictjson"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// keySource is what --key and --secret give.
type keySource struct {
	set    *jwk.Set // from --key
	secret *jwt.Key // from --secret
}

func (k keySource) keySet() jwt.KeySet {
	if k.secret != nil {
		return k.secret
	}
	return k.set
}

// loadKeys reads --key or --secret (exactly one). alg, if set, narrows an
// HMAC secret and must be allowed by at least one key.
func loadKeys(keyFile, secretFile string, alg jwt.Algorithm) (keySource, error) {
	switch {
	case keyFile == "" && secretFile == "":
		return keySource{}, errors.New("one of --key FILE or --secret FILE is required")
	case keyFile != "" && secretFile != "":
		return keySource{}, errors.New("--key and --secret cannot be used together")
	}
	if secretFile != "" {
		b, err := readFile(secretFile)
		if err != nil {
			return keySource{}, err
		}
		var algs []jwt.Algorithm
		if alg != "" {
			algs = append(algs, alg)
		}
		k, err := jwt.NewHMACKey(b, algs...)
		if err != nil {
			return keySource{}, fmt.Errorf("--secret %s: %w", secretFile, err)
		}
		return keySource{secret: k}, nil
	}
	b, err := readFile(keyFile)
	if err != nil {
		return keySource{}, err
	}
	set, err := jwk.Load(b)
	if err != nil {
		return keySource{}, fmt.Errorf("--key %s: %w", keyFile, err)
	}
	if set.Len() == 0 {
		return keySource{}, fmt.Errorf("--key %s: no usable key", keyFile)
	}
	if alg != "" {
		ok := false
		for _, k := range set.Keys() {
			if vk, err := k.VerificationKey(); err == nil && vk.Allows(alg) {
				ok = true
			}
		}
		if !ok {
			return keySource{}, fmt.Errorf("--key %s: no key in the file allows %s", keyFile, alg)
		}
	}
	return keySource{set: set}, nil
}

// parseAlg checks an --alg value.
func parseAlg(s string) (jwt.Algorithm, error) {
	a := jwt.Algorithm(s)
	if s != "" && !a.Known() {
		return "", fmt.Errorf("--alg %q: unknown or unsupported algorithm (supported: %v)", s, jwt.Algorithms())
	}
	return a, nil
}

func tokenVerify(e *env, args []string) int {
	fs := e.newFlags("token verify", "token verify --key FILE|--secret FILE [flags] TOKEN|-")
	keyFile := fs.String("key", "", "verification key: PEM key or certificate, JWK, or JWK Set")
	secretFile := fs.String("secret", "", "file whose bytes are the HMAC secret")
	algFlag := fs.String("alg", "", "the only algorithm to accept (default: what the key allows)")
	leeway := fs.String("leeway", "0s", "clock skew tolerated on exp, nbf and iat (e.g. 30s)")
	now := fs.String("now", "", "verify as if the time were these Unix seconds")
	var aud, iss, req listFlag
	fs.Var(&aud, "aud", "expected audience (repeatable or comma-separated); without it, a token with aud is rejected")
	fs.Var(&iss, "iss", "expected issuer (repeatable or comma-separated)")
	fs.Var(&req, "require", "claims that must be present, comma-separated (e.g. exp,sub)")
	jws := fs.Bool("jws", false, "check only the signature: the payload may be any bytes and no claim is checked")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		e.errorf("token verify: want exactly one TOKEN argument (or - for standard input)")
		fs.Usage()
		return exitUsage
	}
	alg, err := parseAlg(*algFlag)
	if err != nil {
		e.errorf("token verify: %v", err)
		return exitUsage
	}
	opts := jwt.VerifierOptions{Issuers: iss, Audiences: aud, RequiredClaims: req}
	if alg != "" {
		opts.Algorithms = []jwt.Algorithm{alg}
	}
	if opts.Leeway, err = parseDuration("--leeway", *leeway); err != nil {
		e.errorf("token verify: %v", err)
		return exitUsage
	}
	if *now != "" {
		t, err := parseUnix(*now)
		if err != nil {
			e.errorf("token verify: %v", err)
			return exitUsage
		}
		opts.Clock = func() time.Time { return t }
	}
	keys, err := loadKeys(*keyFile, *secretFile, alg)
	if err != nil {
		e.errorf("token verify: %s", oneLine(err))
		return exitUsage
	}
	v, err := jwt.NewVerifier(keys.keySet(), opts)
	if err != nil {
		e.errorf("token verify: %s", oneLine(err))
		return exitUsage
	}
	token, err := e.readToken(pos[0])
	if err != nil {
		e.errorf("token verify: %s", oneLine(err))
		return exitUsage
	}
	verify := v.Verify
	if *jws {
		verify = v.VerifySignature
	}
	tok, err := verify(e.ctx, token)
	if err != nil {
		e.errorf("token rejected: %s", oneLine(err))
		return exitRejected
	}
	out := tok.Payload()
	if !*jws {
		out = append(out, '\n')
	}
	e.stdout.Write(out)
	return exitOK
}

func tokenSign(e *env, args []string) int {
	fs := e.newFlags("token sign", "token sign --key FILE|--secret FILE --alg ALG [flags]")
	keyFile := fs.String("key", "", "signing key: private PEM key, JWK, or JWK Set with one signing key")
	secretFile := fs.String("secret", "", "file whose bytes are the HMAC secret")
	algFlag := fs.String("alg", "", "signature algorithm (required), e.g. ES256, RS256, EdDSA, HS256")
	kid := fs.String("kid", "", "key ID for the kid header (default: the key's own)")
	exp := fs.String("exp", "", "lifetime: sets exp to now plus this duration, with its unit: 90s, 15m, 1h, 720h")
	claims := fs.String("claims", "{}", "claims: a JSON object, @FILE, or - for standard input")
	now := fs.String("now", "", "sign as if the time were these Unix seconds (sets iat unless present)")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		e.errorf("token sign: unexpected argument %q (claims go in --claims)", pos[0])
		return exitUsage
	}
	if *algFlag == "" {
		e.errorf("token sign: --alg is required")
		fs.Usage()
		return exitUsage
	}
	alg, err := parseAlg(*algFlag)
	if err != nil {
		e.errorf("token sign: %v", err)
		return exitUsage
	}
	at := time.Now()
	if *now != "" {
		if at, err = parseUnix(*now); err != nil {
			e.errorf("token sign: %v", err)
			return exitUsage
		}
	}
	var lifetime time.Duration
	if *exp != "" {
		if lifetime, err = parseLifetime("--exp", *exp); err != nil {
			e.errorf("token sign: %v", err)
			return exitUsage
		}
	}
	raw, err := e.readArg(*claims)
	if err != nil {
		e.errorf("token sign: --claims: %s", oneLine(err))
		return exitUsage
	}
	payload, err := buildClaims(raw, at, *exp != "", lifetime)
	if err != nil {
		e.errorf("token sign: --claims: %s", oneLine(err))
		return exitUsage
	}
	keys, err := loadKeys(*keyFile, *secretFile, alg)
	if err != nil {
		e.errorf("token sign: %s", oneLine(err))
		return exitUsage
	}
	key := keys.secret
	if key == nil {
		if key, err = keys.set.SigningKey(""); err != nil && *kid != "" {
			key, err = keys.set.SigningKey(*kid)
		}
		if err != nil {
			e.errorf("token sign: --key %s: %s", *keyFile, oneLine(err))
			return exitUsage
		}
	}
	if *kid != "" {
		key = key.WithID(*kid)
	}
	signer, err := jwt.NewSigner(key, alg, jwt.SignerOptions{})
	if err != nil {
		e.errorf("token sign: %s", oneLine(err))
		return exitUsage
	}
	token, err := signer.Sign(payload)
	if err != nil {
		e.errorf("token sign: %s", oneLine(err))
		return exitUsage
	}
	fmt.Fprintln(e.stdout, token)
	return exitOK
}

// buildClaims checks that raw is one JSON object without duplicate names,
// adds iat (unless present) and, if withExp, exp, and returns the payload.
func buildClaims(raw []byte, now time.Time, withExp bool, lifetime time.Duration) ([]byte, error) {
	if err := checkJSONObject(raw); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if _, ok := m["iat"]; !ok {
		m["iat"] = now.Unix()
	}
	if withExp {
		m["exp"] = now.Add(lifetime).Unix()
	}
	return json.Marshal(m)
}

// checkJSONObject accepts exactly one JSON object by the rules tokens are
// verified with: no duplicate member names at any depth (decoding into a
// map would silently keep the last), valid UTF-8, no lone surrogates,
// nesting at most jwt.MaxJSONDepth.
func checkJSONObject(raw []byte) error {
	if err := strictjson.ScanObject(string(raw), nil); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	return nil
}

func tokenDecode(e *env, args []string) int {
	fs := e.newFlags("token decode", "token decode TOKEN|-")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		e.errorf("token decode: want exactly one TOKEN argument (or - for standard input)")
		return exitUsage
	}
	token, err := e.readToken(pos[0])
	if err != nil {
		e.errorf("token decode: %s", oneLine(err))
		return exitUsage
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		e.errorf("token decode: malformed token: %d segments, want 3", len(parts))
		return exitRejected
	}
	var out struct {
		Header  json.RawMessage `json:"header"`
		Payload json.RawMessage `json:"payload"`
	}
	for i, dst := range []*json.RawMessage{&out.Header, &out.Payload} {
		b, err := b64url.DecodeString(parts[i])
		if err != nil {
			e.errorf("token decode: malformed token: segment %d is not canonical base64url", i+1)
			return exitRejected
		}
		if !json.Valid(b) {
			// A JWS payload may be any bytes: show it as a JSON string.
			b, _ = json.Marshal(string(b))
		}
		*dst = b
	}
	pretty, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		e.errorf("token decode: %s", oneLine(err))
		return exitRejected
	}
	fmt.Fprintln(e.stderr, "jwtgate: warning: decoded without verification: neither the signature nor the claims were checked")
	e.stdout.Write(append(pretty, '\n'))
	return exitOK
}
