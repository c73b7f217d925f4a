package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jwtgate/jwtgate/server"
)

// envFlags sets the flags not given on the command line from their
// JWTGATE_* environment variables (call it after parsing): a flag given
// wins over the environment, and --help shows the built-in defaults.
func envFlags(e *env, fs *flag.FlagSet, vars map[string]string) bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, v := range vars {
		if val := os.Getenv(v); val != "" && !given[name] {
			if err := fs.Set(name, val); err != nil {
				e.errorf("%s=%q: %v", v, val, err)
				return false
			}
		}
	}
	return true
}

// HTTP server limits of "jwtgate serve".
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 30 * time.Second
)

func serve(e *env, args []string) int {
	fs := e.newFlags("serve", "serve [flags]\n\nRuns the token service. Each flag can also be set by the environment\nvariable in brackets; a flag on the command line wins.")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address [JWTGATE_ADDR]")
	dataDir := fs.String("data-dir", "./jwtgate-data", "directory of the database and the signing key [JWTGATE_DATA_DIR]")
	issuer := fs.String("issuer", "", "issuer URL of the tokens (default http://ADDR, with the address bound) [JWTGATE_ISSUER]")
	algFlag := fs.String("alg", "ES256", "signing algorithm of a new key: ES256/384/512, EdDSA, RS256..PS512; a rotated key keeps its own [JWTGATE_ALG]")
	accessTTL := fs.Duration("access-ttl", 15*time.Minute, "access token lifetime [JWTGATE_ACCESS_TTL]")
	refreshTTL := fs.Duration("refresh-ttl", 720*time.Hour, "refresh token lifetime [JWTGATE_REFRESH_TTL]")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (behind HTTPS) [JWTGATE_SECURE_COOKIES]")
	loginBurst := fs.Int("login-burst", 10, "failed logins allowed per client IP at once, then one per 6 s; -1: no limit [JWTGATE_LOGIN_BURST]")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) file: serve HTTPS, with Secure cookies [JWTGATE_TLS_CERT]")
	tlsKey := fs.String("tls-key", "", "PEM private key file of --tls-cert [JWTGATE_TLS_KEY]")
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		e.errorf("serve: unexpected argument %q", pos[0])
		return exitUsage
	}
	if !envFlags(e, fs, map[string]string{
		"addr": "JWTGATE_ADDR", "data-dir": "JWTGATE_DATA_DIR", "issuer": "JWTGATE_ISSUER", "alg": "JWTGATE_ALG",
		"access-ttl": "JWTGATE_ACCESS_TTL", "refresh-ttl": "JWTGATE_REFRESH_TTL", "secure-cookies": "JWTGATE_SECURE_COOKIES",
		"login-burst": "JWTGATE_LOGIN_BURST", "tls-cert": "JWTGATE_TLS_CERT", "tls-key": "JWTGATE_TLS_KEY",
	}) {
		return exitUsage
	}
	alg, err := parseAlg(*algFlag)
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	if *loginBurst == 0 || *loginBurst < -1 {
		e.errorf("serve: --login-burst must be positive, or -1 for no limit")
		return exitUsage
	}
	if *accessTTL <= 0 || *refreshTTL <= 0 {
		e.errorf("serve: --access-ttl and --refresh-ttl must be positive")
		return exitUsage
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" || *tlsKey != "" {
		if *tlsCert == "" || *tlsKey == "" {
			e.errorf("serve: --tls-cert and --tls-key go together")
			return exitUsage
		}
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			e.errorf("serve: TLS certificate: %s", oneLine(err))
			return exitUsage
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
		*secure = true // cookies set over HTTPS are Secure
	}

	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	data, err := server.OpenDataDir(e.ctx, *dataDir)
	if err != nil {
		log.Error("cannot open the data directory", "dir", *dataDir, "err", err)
		return exitUsage
	}
	defer data.Close()
	if err := data.Bootstrap(e.ctx, log); err != nil {
		log.Error("cannot create the first user", "err", err)
		return exitUsage
	}
	// The signer and the keys rotated out that still verify (see "jwtgate
	// keys rotate"); the ring drops each of those at its retire time.
	ring, alg, err := data.KeyRing(alg, time.Now, log)
	if err != nil {
		log.Error("signing key", "err", err)
		return exitUsage
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("cannot listen", "addr", *addr, "err", err)
		return exitUsage
	}
	defer ln.Close()
	if *issuer == "" {
		scheme := "http://"
		if tlsConfig != nil {
			scheme = "https://"
		}
		*issuer = scheme + ln.Addr().String()
	}
	srv, err := server.New(server.Config{
		Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: alg,
		Issuer: *issuer, AccessTTL: *accessTTL, RefreshTTL: *refreshTTL,
		SecureCookies: *secure, LoginBurst: *loginBurst, Logger: log,
	})
	if err != nil {
		log.Error("cannot start the service", "err", err)
		return exitUsage
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	log.Info("listening", "addr", ln.Addr().String(), "issuer", *issuer, "kid", ring.SigningKey().ID(), "keys", len(ring.KeyIDs()), "data_dir", *dataDir)

	select {
	case err := <-errc:
		log.Error("server failed", "err", err)
		return exitRejected
	case <-e.ctx.Done():
	}
	log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return exitRejected
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		log.Error("server failed", "err", err)
		return exitRejected
	}
	log.Info("stopped")
	return exitOK
}
