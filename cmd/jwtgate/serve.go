package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/jwt"
)

// parsePrefixes reads a comma-separated list of IP addresses and CIDR
// ranges.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, err
			}
			if p != p.Masked() {
				return nil, fmt.Errorf("%s: host bits set (did you mean %s?)", f, p.Masked())
			}
			// Client addresses are read unmapped, as IPv4: an IPv4-mapped
			// range is the IPv4 range, or it would hold no client.
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// storeFlags are the flags that say where the service keeps its state,
// shared by serve, users and keys rotate.
type storeFlags struct {
	dataDir, databaseURL, redis, redisPrefix *string
	redisSentinelMaster                      *string
	redisBound                               *time.Duration
	redisWaitReplicas                        *int
}

func addStoreFlags(fs *flag.FlagSet, vars map[string]string) *storeFlags {
	vars["data-dir"] = "JWTGATE_DATA_DIR"
	vars["database-url"] = "JWTGATE_DATABASE_URL"
	vars["redis"] = "JWTGATE_REDIS"
	vars["redis-prefix"] = "JWTGATE_REDIS_PREFIX"
	vars["redis-sentinel-master"] = "JWTGATE_REDIS_SENTINEL_MASTER"
	vars["redis-bound"] = "JWTGATE_REDIS_BOUND"
	vars["redis-wait-replicas"] = "JWTGATE_REDIS_WAIT_REPLICAS"
	return &storeFlags{
		dataDir:             fs.String("data-dir", "./jwtgate-data", "directory of the SQLite database and the signing keys, when there is no --database-url [JWTGATE_DATA_DIR]"),
		databaseURL:         fs.String("database-url", "", "PostgreSQL connection string (postgres://USER@HOST/DB or key=value): users, signing keys and, without --redis, revocations, shared by every instance; prefer the environment or the config file for a password [JWTGATE_DATABASE_URL]"),
		redis:               fs.String("redis", "", "Redis: revocations and login rate limits, shared by every instance. HOST:PORT; several HOST:PORT,HOST:PORT for the nodes of a Redis Cluster (one node is enough: a Cluster is detected); the Sentinels' addresses with --redis-sentinel-master; or a URL redis[s]://[USER:PASSWORD@]HOST:PORT[/DB][?addr=HOST:PORT] [JWTGATE_REDIS]"),
		redisSentinelMaster: fs.String("redis-sentinel-master", "", "name of the master that the Sentinels at --redis watch, when Redis runs under Sentinel [JWTGATE_REDIS_SENTINEL_MASTER]"),
		redisBound:          fs.Duration("redis-bound", time.Second, "answers cached from Redis are trusted only while the connections to Redis proved alive within this; past it checks go to Redis, and answer 503 while it cannot answer [JWTGATE_REDIS_BOUND]"),
		redisWaitReplicas:   fs.Int("redis-wait-replicas", 0, "a revocation is acknowledged only once this many Redis replicas have it (WAIT), so that a failover after a master dies loses none; 0: Redis's asynchronous replication [JWTGATE_REDIS_WAIT_REPLICAS]"),
		redisPrefix:         fs.String("redis-prefix", "jwtgate:", "prefix of the Redis keys, to share a Redis with other services [JWTGATE_REDIS_PREFIX]"),
	}
}

func (sf *storeFlags) config(log *slog.Logger) server.StoreConfig {
	return server.StoreConfig{
		DataDir: *sf.dataDir, DatabaseURL: *sf.databaseURL,
		Redis: *sf.redis, RedisSentinelMaster: *sf.redisSentinelMaster, RedisPrefix: *sf.redisPrefix, RedisBound: *sf.redisBound,
		RedisWaitReplicas: *sf.redisWaitReplicas,
		Logger:            log,
	}
}

// HTTP server limits of "jwtgate serve".
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 30 * time.Second
	loginEvery        = 6 * time.Second // a failed login back per period
)

// Defaults of the two settings a new key's activation delay derives from
// (server.KeyActivationDelay): serve and keys rotate read the same ones.
const (
	defaultKeysReload = 30 * time.Second
	defaultJWKSMaxAge = 300 * time.Second
)

// checkKeyTiming checks --jwks-max-age and --keys-reload.
func checkKeyTiming(maxAge, reload time.Duration) error {
	if maxAge < time.Second || maxAge%time.Second != 0 {
		return fmt.Errorf("--jwks-max-age %v: want whole seconds, at least 1s (it is sent as max-age in seconds)", maxAge)
	}
	if reload <= 0 {
		return fmt.Errorf("--keys-reload %v: want a positive duration", reload)
	}
	return nil
}

// serveOptions are the flags of serve.
type serveOptions struct {
	config, addr, issuer, algFlag, tlsCert, tlsKey *string
	audience                                       *string
	logLevel, authPath, authUserKey, authPassKey   *string
	trustedProxies, scopes                         *string
	uiName, uiLogo, uiAccent, uiTemplates          *string
	accessTTL, refreshTTL, keysReload, storeBound  *time.Duration
	jwksMaxAge, auditRetention                     *time.Duration
	secure                                         *bool
	loginBurst, minPasswordLen                     *int
	stores                                         *storeFlags
	dpop                                           *dpopFlags
}

// defineServeFlags defines the flags of serve on fs and returns them with
// their environment variables.
func defineServeFlags(fs *flag.FlagSet) (*serveOptions, map[string]string) {
	vars := map[string]string{}
	o := &serveOptions{}
	o.config = fs.String("config", "", "JSON config file of flag values [JWTGATE_CONFIG]")
	o.addr = fs.String("addr", "127.0.0.1:8080", "listen address [JWTGATE_ADDR]")
	o.stores = addStoreFlags(fs, vars)
	o.dpop = addDPoPFlags(fs, vars)
	o.issuer = fs.String("issuer", "", "issuer URL of the tokens (default http://ADDR, with the address bound); give every instance behind a load balancer the same one [JWTGATE_ISSUER]")
	o.audience = fs.String("audience", "", "aud of the access tokens: the URL of the services that accept them (default: the issuer); refresh tokens always have ISSUER/refresh [JWTGATE_AUDIENCE]")
	o.algFlag = fs.String("alg", "ES256", "signing algorithm of a new key: ES256/384/512, EdDSA, RS256..PS512; a rotated key keeps its own [JWTGATE_ALG]")
	o.accessTTL = fs.Duration("access-ttl", 15*time.Minute, "access token lifetime [JWTGATE_ACCESS_TTL]")
	o.refreshTTL = fs.Duration("refresh-ttl", 720*time.Hour, "refresh token lifetime [JWTGATE_REFRESH_TTL]")
	o.secure = fs.Bool("secure-cookies", false, "mark cookies Secure (behind HTTPS) [JWTGATE_SECURE_COOKIES]")
	o.loginBurst = fs.Int("login-burst", 10, "failed logins allowed per client IP and per username, then one more per 6 s; right passwords never count; -1: no limit [JWTGATE_LOGIN_BURST]")
	o.minPasswordLen = addPasswordFlag(fs, vars)
	o.keysReload = fs.Duration("keys-reload", defaultKeysReload, "how often the signing keys are reloaded (to publish a key added by 'jwtgate keys rotate'); part of the delay before a new key signs [JWTGATE_KEYS_RELOAD]")
	o.jwksMaxAge = fs.Duration("jwks-max-age", defaultJWKSMaxAge, "Cache-Control max-age of the JWKS, in whole seconds; a rotated key signs only this plus --keys-reload after 'jwtgate keys rotate' published it [JWTGATE_JWKS_MAX_AGE]")
	o.storeBound = fs.Duration("store-bound", server.DefaultStoreBound, "how long each store has to prove it works when /readyz asks (a write to the SQL databases, a read of the keys): slower or failing, and /readyz answers 503 [JWTGATE_STORE_BOUND]")
	o.tlsCert = fs.String("tls-cert", "", "PEM certificate (chain) file: serve HTTPS, with Secure cookies [JWTGATE_TLS_CERT]")
	o.tlsKey = fs.String("tls-key", "", "PEM private key file of --tls-cert [JWTGATE_TLS_KEY]")
	o.trustedProxies = fs.String("trusted-proxies", "", "comma-separated addresses or CIDR ranges of the proxies and load balancers in front: for their connections the client address comes from X-Forwarded-For [JWTGATE_TRUSTED_PROXIES]")
	o.authPath = fs.String("auth-path", "/auth", "path of the Flask-JWT endpoint (JWT_AUTH_URL_RULE) [JWTGATE_AUTH_PATH]")
	o.authUserKey = fs.String("auth-username-key", "username", "username member of its body (JWT_AUTH_USERNAME_KEY) [JWTGATE_AUTH_USERNAME_KEY]")
	o.authPassKey = fs.String("auth-password-key", "password", "password member of its body (JWT_AUTH_PASSWORD_KEY) [JWTGATE_AUTH_PASSWORD_KEY]")
	o.scopes = fs.String("scopes", "", "comma-separated scopes published as scopes_supported in the OAuth metadata (those given to clients with 'jwtgate clients'); empty: not published [JWTGATE_SCOPES]")
	o.uiName = fs.String("ui-name", "jwtgate", "service name shown on the sign-in and account pages [JWTGATE_UI_NAME]")
	o.uiLogo = fs.String("ui-logo", "", "absolute https URL of a logo shown on the pages; its origin is allowed in their Content-Security-Policy [JWTGATE_UI_LOGO]")
	o.uiAccent = fs.String("ui-accent", "#1f5fbf", "accent colour of the pages (#RRGGBB): it must have a contrast of at least 4.5:1 with white, or the start is refused [JWTGATE_UI_ACCENT]")
	o.uiTemplates = fs.String("ui-templates", "", "directory of signin.html, account.html and optionally admin.html (html/template) that replace the built-in pages; parsed at start [JWTGATE_UI_TEMPLATES]")
	o.auditRetention = fs.Duration("audit-retention", server.DefaultAuditRetention, "how long audit events (and the records of ended sessions) are kept; older ones are deleted in the background [JWTGATE_AUDIT_RETENTION]")
	o.logLevel = fs.String("log-level", "info", "least level logged: debug, info (one line per request, written in batches at most 100 ms late), warn or error (written at once) [JWTGATE_LOG_LEVEL]")
	for name, v := range map[string]string{
		"addr": "JWTGATE_ADDR", "issuer": "JWTGATE_ISSUER", "audience": "JWTGATE_AUDIENCE", "alg": "JWTGATE_ALG",
		"access-ttl": "JWTGATE_ACCESS_TTL", "refresh-ttl": "JWTGATE_REFRESH_TTL", "secure-cookies": "JWTGATE_SECURE_COOKIES",
		"login-burst": "JWTGATE_LOGIN_BURST", "keys-reload": "JWTGATE_KEYS_RELOAD", "store-bound": "JWTGATE_STORE_BOUND", "tls-cert": "JWTGATE_TLS_CERT", "tls-key": "JWTGATE_TLS_KEY",
		"log-level": "JWTGATE_LOG_LEVEL", "auth-path": "JWTGATE_AUTH_PATH", "trusted-proxies": "JWTGATE_TRUSTED_PROXIES",
		"auth-username-key": "JWTGATE_AUTH_USERNAME_KEY", "auth-password-key": "JWTGATE_AUTH_PASSWORD_KEY",
		"jwks-max-age": "JWTGATE_JWKS_MAX_AGE", "scopes": "JWTGATE_SCOPES", "audit-retention": "JWTGATE_AUDIT_RETENTION",
		"ui-name": "JWTGATE_UI_NAME", "ui-logo": "JWTGATE_UI_LOGO", "ui-accent": "JWTGATE_UI_ACCENT", "ui-templates": "JWTGATE_UI_TEMPLATES",
	} {
		vars[name] = v
	}
	return o, vars
}

func serve(e *env, args []string) int {
	fs := e.newFlags("serve", "serve [flags]\n\nRuns the token service. Each flag can also be set by the environment\n"+
		"variable in brackets, or by the JSON config file of --config (keys are the\n"+
		"flag names: {\"addr\": \":8080\", \"access-ttl\": \"10m\"}); the command line wins\n"+
		"over the environment, which wins over the file.\n\n"+
		"State is kept in --data-dir by default. With --database-url and --redis,\n"+
		"any number of instances serve the same users behind a load balancer.\n"+
		"--redis names one Redis, the nodes of a Redis Cluster (--redis\n"+
		"HOST:PORT,HOST:PORT,...), or the Sentinels of a master (--redis\n"+
		"HOST:PORT,... --redis-sentinel-master NAME).")
	o, vars := defineServeFlags(fs)
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		e.errorf("serve: unexpected argument %q", pos[0])
		return exitUsage
	}
	file := *o.config
	if file == "" {
		file = os.Getenv("JWTGATE_CONFIG")
	}
	if !flagSources(e, fs, vars, file) {
		return exitUsage
	}
	set, ok := checkServeFlags(e, o)
	if !ok {
		return exitUsage
	}

	out := newBatchedLog(e.stderr)
	defer out.Close()
	log := slog.New(flushingHandler{slog.NewTextHandler(out, &slog.HandlerOptions{Level: set.level, ReplaceAttr: userErrors}), out})
	// The lifecycle lines (listening, shutting down, stopped), the first
	// admin password (never shown again) and a new data directory are
	// logged whatever --log-level says.
	lifeLog := slog.New(flushingHandler{slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: userErrors}), out})
	runCtx, stop := followGoRun(e.ctx, lifeLog)
	defer stop()
	e = &env{ctx: runCtx, stdin: e.stdin, stdout: e.stdout, stderr: e.stderr}
	svc, ok := startService(e, o, set, log, lifeLog)
	if !ok {
		return exitUsage
	}
	defer svc.close()
	return runHTTP(e, o, set, svc, out, log, lifeLog)
}

// uiConfig returns the settings of the pages.
func uiConfig(o *serveOptions) server.UIConfig {
	return server.UIConfig{ServiceName: *o.uiName, LogoURL: *o.uiLogo, Accent: *o.uiAccent, TemplateDir: *o.uiTemplates}
}

// serveSettings are the values of serve's flags that checkServeFlags
// parsed.
type serveSettings struct {
	alg       jwt.Algorithm
	policy    server.PasswordPolicy
	proxies   []netip.Prefix
	level     slog.Level
	tlsConfig *tls.Config // nil: plain HTTP
}

// checkServeFlags checks serve's flags before anything is opened, and
// says on stderr what is wrong.
func checkServeFlags(e *env, o *serveOptions) (serveSettings, bool) {
	var set serveSettings
	var err error
	if set.alg, err = parseAlg(*o.algFlag); err != nil {
		e.errorf("serve: %v", err)
		return set, false
	}
	if err := server.CheckSigningAlgorithm(set.alg); err != nil {
		e.errorf("serve: --alg: %v", err)
		return set, false
	}
	if *o.loginBurst == 0 || *o.loginBurst < -1 {
		e.errorf("serve: --login-burst must be positive, or -1 for no limit")
		return set, false
	}
	if *o.accessTTL <= 0 || *o.refreshTTL <= 0 || *o.keysReload <= 0 || *o.storeBound <= 0 || *o.stores.redisBound <= 0 || *o.auditRetention <= 0 {
		e.errorf("serve: --access-ttl, --refresh-ttl, --keys-reload, --store-bound, --redis-bound and --audit-retention must be positive")
		return set, false
	}
	if *o.stores.redisWaitReplicas < 0 {
		e.errorf("serve: --redis-wait-replicas must be 0 or more")
		return set, false
	}
	if err := uiConfig(o).Validate(); err != nil {
		e.errorf("serve: the pages (--ui-name, --ui-logo, --ui-accent, --ui-templates): %v", err)
		return set, false
	}
	if err := checkKeyTiming(*o.jwksMaxAge, *o.keysReload); err != nil {
		e.errorf("serve: %v", err)
		return set, false
	}
	var ok bool
	if set.policy, ok = passwordPolicy(e, "serve", *o.minPasswordLen); !ok {
		return set, false
	}
	if set.proxies, err = parsePrefixes(*o.trustedProxies); err != nil {
		e.errorf("serve: --trusted-proxies: %v", err)
		return set, false
	}
	if err := o.dpop.check(); err != nil {
		e.errorf("serve: %v", err)
		return set, false
	}
	if err := set.level.UnmarshalText([]byte(*o.logLevel)); err != nil {
		e.errorf("serve: --log-level %q: want debug, info, warn or error", *o.logLevel)
		return set, false
	}
	if *o.tlsCert != "" || *o.tlsKey != "" {
		if *o.tlsCert == "" || *o.tlsKey == "" {
			e.errorf("serve: --tls-cert and --tls-key go together")
			return set, false
		}
		pair, err := tls.LoadX509KeyPair(*o.tlsCert, *o.tlsKey)
		if err != nil {
			e.errorf("serve: TLS certificate: %s", oneLine(err))
			return set, false
		}
		set.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
		*o.secure = true // cookies set over HTTPS are Secure
	}
	return set, true
}

// service is what startService opened: close releases it.
type service struct {
	st   *server.Stores
	keys *server.LiveKeys
	ln   net.Listener
	srv  *server.Server
}

func (s *service) close() {
	s.ln.Close()
	if s.srv != nil {
		s.srv.Close()
	}
	s.st.Close()
}

// startService opens the stores and the signing keys, listens on --addr
// and makes the service; it logs why when it cannot, having closed what
// it opened.
func startService(e *env, o *serveOptions, set serveSettings, log, lifeLog *slog.Logger) (_ *service, ok bool) {
	st, err := server.Open(e.ctx, o.stores.config(lifeLog))
	if err != nil {
		log.Error("cannot open the stores", "err", err)
		return nil, false
	}
	svc := &service{st: st}
	defer func() {
		if !ok {
			if svc.ln != nil {
				svc.ln.Close()
			}
			st.Close()
		}
	}()
	st.Users.Policy = set.policy
	// The signer and the keys rotated out that still verify (see "jwtgate
	// keys rotate"), reloaded every --keys-reload and when a token names
	// a key this instance does not know yet.
	if svc.keys, err = server.NewLiveKeys(e.ctx, st.Keys, set.alg, server.LiveKeysOptions{Logger: log}); err != nil {
		log.Error("signing key", "err", err)
		return nil, false
	}
	var limiter server.Limiter
	if st.Redis != nil && *o.loginBurst > 0 {
		if limiter, err = server.NewRedisLimiter(st.Redis, st.RedisPrefix, *o.loginBurst, loginEvery); err != nil {
			log.Error("login rate limiter", "err", err)
			return nil, false
		}
	}
	if svc.ln, err = net.Listen("tcp", *o.addr); err != nil {
		log.Error("cannot listen", "addr", *o.addr, "err", err)
		return nil, false
	}
	defaulted := *o.issuer == ""
	defaultIssuer(o, set, svc.ln, log)
	origins, err := o.dpop.originList(*o.issuer, defaulted, svc.ln.Addr())
	if err != nil {
		log.Error("DPoP", "err", err)
		return nil, false
	}
	dv, err := o.dpop.verifier(st, *o.stores.databaseURL != "", set.proxies, origins)
	if err != nil {
		log.Error("DPoP", "err", err)
		return nil, false
	}
	svc.srv, err = server.New(server.Config{
		Users: st.Users, Revocations: st.Revocations, Keys: svc.keys, Algorithm: svc.keys.Algorithm(),
		Issuer: *o.issuer, Audience: *o.audience, AccessTTL: *o.accessTTL, RefreshTTL: *o.refreshTTL,
		SecureCookies: *o.secure, LoginBurst: *o.loginBurst, LoginEvery: loginEvery, Limiter: limiter, Logger: log,
		AuthPath: *o.authPath, AuthUsernameKey: *o.authUserKey, AuthPasswordKey: *o.authPassKey,
		TrustedProxies: set.proxies, StoreBound: *o.storeBound,
		JWKSMaxAge: *o.jwksMaxAge, Clients: st.Clients, Scopes: splitList(*o.scopes),
		DPoP: dv, DPoPRequired: *o.dpop.required,
		UI:       uiConfig(o),
		Sessions: st.Sessions, Audit: st.Audit, KeyStore: st.Keys, KeysReload: *o.keysReload,
	})
	if err != nil {
		log.Error("cannot start the service", "err", err)
		return nil, false
	}
	// Only now that the whole configuration has been checked: a start
	// that fails must not make a password that no one will see again.
	if err := st.Bootstrap(e.ctx, lifeLog); err != nil {
		log.Error("cannot create the first user", "err", err)
		return nil, false
	}
	return svc, true
}

// defaultIssuer sets --issuer, when it is not given, to the URL of the
// address ln listens on.
func defaultIssuer(o *serveOptions, set serveSettings, ln net.Listener, log *slog.Logger) {
	if *o.issuer != "" {
		return
	}
	scheme := "http"
	if set.tlsConfig != nil {
		scheme = "https"
	}
	// url.URL escapes the zone of an IPv6 address: [fe80::1%25eth0].
	*o.issuer = (&url.URL{Scheme: scheme, Host: ln.Addr().String()}).String()
	if *o.stores.databaseURL != "" {
		log.Warn("no --issuer: this instance's tokens name its own address, and other instances refuse them; give every instance the same --issuer", "issuer", *o.issuer)
	}
}

// runHTTP reloads the keys in the background and serves HTTP (or HTTPS)
// until the command is told to stop, then shuts the server down
// gracefully. It returns the exit code.
func runHTTP(e *env, o *serveOptions, set serveSettings, svc *service, out *batchedLog, log, lifeLog *slog.Logger) int {
	reloadCtx, stopReload := context.WithCancel(e.ctx)
	defer stopReload()
	go svc.keys.Run(reloadCtx, *o.keysReload)
	pruner := &server.Pruner{Audit: svc.st.Audit, Sessions: svc.st.Sessions, Retention: *o.auditRetention, Logger: log}
	go pruner.Run(reloadCtx)
	hs := &http.Server{
		Handler:           svc.srv,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         set.tlsConfig,
	}
	errc := make(chan error, 1)
	go func() {
		if set.tlsConfig != nil {
			errc <- hs.ServeTLS(svc.ln, "", "")
			return
		}
		errc <- hs.Serve(svc.ln)
	}()
	lifeLog.Info("listening", "addr", svc.ln.Addr().String(), "issuer", *o.issuer, "kid", svc.keys.SigningKey().ID(), "keys", len(svc.keys.Ring().KeyIDs()), "stores", svc.st.Where)
	out.Flush()

	select {
	case err := <-errc:
		log.Error("server failed", "err", err)
		return exitRejected
	case <-e.ctx.Done():
	}
	lifeLog.Info("shutting down")
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
	lifeLog.Info("stopped")
	return exitOK
}

// splitList returns the non-empty comma-separated items of s.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
