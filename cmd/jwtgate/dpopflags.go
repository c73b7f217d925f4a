package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/dpop"
)

// dpopFlags are serve's DPoP (RFC 9449) flags.
type dpopFlags struct {
	on, required, nonce *bool
	maxAge, nonceLife   *time.Duration
	nonceSecretFile     *string
	origins             *string
}

func addDPoPFlags(fs *flag.FlagSet, vars map[string]string) *dpopFlags {
	for name, v := range map[string]string{
		"dpop": "JWTGATE_DPOP", "dpop-required": "JWTGATE_DPOP_REQUIRED", "dpop-nonce": "JWTGATE_DPOP_NONCE",
		"dpop-max-age": "JWTGATE_DPOP_MAX_AGE", "dpop-nonce-lifetime": "JWTGATE_DPOP_NONCE_LIFETIME",
		"dpop-nonce-secret-file": "JWTGATE_DPOP_NONCE_SECRET_FILE", "dpop-origins": "JWTGATE_DPOP_ORIGINS",
	} {
		vars[name] = v
	}
	return &dpopFlags{
		on:              fs.Bool("dpop", true, "take DPoP proofs (RFC 9449): /oauth/token, /login, /auth and /refresh issue tokens bound to the key of a request's DPoP proof, and the protected routes take them with their proofs; bearer tokens still work unless --dpop-required [JWTGATE_DPOP]"),
		required:        fs.Bool("dpop-required", false, "issue and take only DPoP-bound tokens: a token request without a DPoP proof and a bearer token on /userinfo, /logout and /refresh are refused [JWTGATE_DPOP_REQUIRED]"),
		nonce:           fs.Bool("dpop-nonce", false, "require a server nonce (DPoP-Nonce) in every DPoP proof; with --database-url, every instance needs the same --dpop-nonce-secret-file [JWTGATE_DPOP_NONCE]"),
		nonceSecretFile: fs.String("dpop-nonce-secret-file", "", "file of at least 32 random bytes that keys the DPoP nonces, the same on every instance (default with --data-dir: a random secret per process) [JWTGATE_DPOP_NONCE_SECRET_FILE]"),
		nonceLife:       fs.Duration("dpop-nonce-lifetime", 5*time.Minute, "how long a DPoP nonce stays valid; a new one is given every half of it [JWTGATE_DPOP_NONCE_LIFETIME]"),
		origins:         fs.String("dpop-origins", "", "comma-separated origins (https://auth.example.com) that clients address this service at: a DPoP proof naming another origin is refused, even when the request's Host names it; \"*\" takes any origin (default: the --issuer's origin; without --issuer, the address bound, and localhost, 127.0.0.1 and [::1] on its port when that address is a loopback or unspecified one) [JWTGATE_DPOP_ORIGINS]"),
		maxAge:          fs.Duration("dpop-max-age", time.Minute, "how long after its iat a DPoP proof is accepted; its jti is kept that long in the revocation store, so that it is used once on every instance [JWTGATE_DPOP_MAX_AGE]"),
	}
}

// check checks the DPoP flags before anything is opened.
func (d *dpopFlags) check() error {
	if !*d.on && (*d.required || *d.nonce) {
		return fmt.Errorf("--dpop-required and --dpop-nonce need --dpop")
	}
	if *d.maxAge <= 0 || *d.maxAge > time.Hour {
		return fmt.Errorf("--dpop-max-age %v: want a positive duration of at most 1h", *d.maxAge)
	}
	if *d.nonceLife < 2*time.Second || *d.nonceLife > 24*time.Hour {
		return fmt.Errorf("--dpop-nonce-lifetime %v: want 2s to 24h", *d.nonceLife)
	}
	if *d.nonceSecretFile != "" && !*d.nonce {
		return fmt.Errorf("--dpop-nonce-secret-file without --dpop-nonce")
	}
	if *d.origins != "" && !*d.on {
		return fmt.Errorf("--dpop-origins needs --dpop")
	}
	if list := splitList(*d.origins); len(list) > 1 && slices.Contains(list, "*") {
		return fmt.Errorf("--dpop-origins %q: \"*\" (any origin) cannot be listed with others", *d.origins)
	}
	return nil
}

// originList returns the origins at which serve takes DPoP proofs (nil:
// any): those of --dpop-origins, or else the issuer's origin. An issuer
// that was not given but made from ln's address adds the loopback names
// of its port when that address is a loopback or unspecified one, since
// a client on this machine may dial any of them.
func (d *dpopFlags) originList(issuer string, defaulted bool, ln net.Addr) ([]string, error) {
	if !*d.on {
		return nil, nil
	}
	if list := splitList(*d.origins); len(list) > 0 {
		if list[0] == "*" {
			return nil, nil
		}
		return list, nil
	}
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--issuer %q is not an http(s) URL, so it gives no origin for DPoP proofs: set --dpop-origins", issuer)
	}
	// url.Parse unescapes the host: written again by url.URL, an IPv6
	// zone keeps its "%25" ([fe80::1%25eth0]), as a client spells it.
	list := []string{(&url.URL{Scheme: u.Scheme, Host: u.Host}).String()}
	tcp, ok := ln.(*net.TCPAddr)
	if !defaulted || !ok || !(tcp.IP.IsLoopback() || tcp.IP.IsUnspecified()) {
		return list, nil
	}
	port := strconv.Itoa(tcp.Port)
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
		if o := u.Scheme + "://" + host + ":" + port; o != list[0] {
			list = append(list, o)
		}
	}
	return list, nil
}

// verifier makes the DPoP verifier of serve: the proofs' jti are kept in
// the revocation store, which every instance shares; the nonces are keyed
// by the secret file, or, on a data directory (one instance), by a random
// secret of this process.
func (d *dpopFlags) verifier(st *server.Stores, shared bool, proxies []netip.Prefix, origins []string) (*dpop.Verifier, error) {
	if !*d.on {
		return nil, nil
	}
	replay, ok := st.Revocations.(dpop.ReplayStore)
	if !ok {
		return nil, fmt.Errorf("the revocation store cannot keep used DPoP proofs")
	}
	opts := dpop.Options{Replay: replayWithin{replay, replayTimeout}, MaxAge: *d.maxAge, TrustedProxies: proxies, Origins: origins}
	if *d.nonce {
		var secret []byte
		switch {
		case *d.nonceSecretFile != "":
			b, err := os.ReadFile(*d.nonceSecretFile)
			if err != nil {
				return nil, fmt.Errorf("--dpop-nonce-secret-file: %w", err)
			}
			secret = b
		case shared:
			return nil, fmt.Errorf("--dpop-nonce with --database-url needs --dpop-nonce-secret-file, the same on every instance, or the nonces of one instance are refused by the others")
		default:
			secret = make([]byte, 32)
			rand.Read(secret)
		}
		n, err := dpop.NewNonces(dpop.NonceOptions{Secret: secret, Lifetime: *d.nonceLife})
		if err != nil {
			return nil, fmt.Errorf("--dpop-nonce-secret-file: %w", err)
		}
		opts.Nonces = n
	}
	return dpop.NewVerifier(opts)
}

// replayTimeout bounds the replay check of a proof: a store that does not
// answer in time refuses the proof (503), never holds the request.
const replayTimeout = time.Second

// replayWithin is a replay store whose calls have a deadline.
type replayWithin struct {
	s dpop.ReplayStore
	d time.Duration
}

func (r replayWithin) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.d)
	defer cancel()
	return r.s.Use(ctx, id, until)
}
