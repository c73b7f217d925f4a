// Command oauthload is a loopback load test of the OAuth 2 endpoints of
// "jwtgate serve": client_credentials token issuance with
// client_secret_basic and with private_key_jwt (ES256 client assertions,
// each used once), token introspection, and POST /login beside them, on
// the embedded store (SQLite data directory) and on PostgreSQL. Run it
// from /work/main/interop (or anywhere inside the workspace):
//
//	cd interop && go run ./cmd/oauthload -rounds 5 -duration 3s
//
// (defaults: -rounds 5 -duration 3s -warmup 1s -conns 16 -login-conns 2
// -stores embedded,postgres -assertions 30000; -postgres-dsn, or
// JWTGATE_POSTGRES_DSN, names the server, postgres://postgres@127.0.0.1:5432/test
// by default; -bin PATH uses a built jwtgate instead of building one.) It
// prints a plain-text report for docs/BENCHMARKS.md on stdout and its
// progress on stderr.
//
// What it does:
//
//  1. Builds cmd/jwtgate once and, for each store, registers two clients
//     with "jwtgate clients add" (one with a secret, one with an ES256
//     public key) and a user with "jwtgate users add", then starts
//     "jwtgate serve --addr 127.0.0.1:0" on that store (PostgreSQL: in a
//     schema of its own, dropped at the end; revocations and single-use
//     assertion ids go to PostgreSQL too). Both services run at once.
//  2. Checks that each request below answers 200 (and that a replayed
//     client assertion is refused with 401).
//  3. Measures interleaved rounds: in every round, for every store, every
//     target runs once, with a garbage collection before each run:
//     basic, POST /oauth/token with grant_type=client_credentials and the
//     client's id and secret in Basic (the same bytes every time);
//     private_key_jwt, the same grant with an RFC 7523 client assertion
//     in the form, a new one (new jti) for every request, all signed
//     before the run (-assertions per run; a run that uses them all stops
//     early, its rate stays right); introspect, POST /oauth/introspect of
//     one access token, the client authenticated by Basic; login, POST
//     /login with the user's password on -login-conns connections
//     (argon2id bounds it by design).
//     A run is closed-loop: -conns keep-alive connections, each sending
//     the next request as soon as it has read the previous response.
//     Only 200 responses count.
//
// The load generator (interop/internal/loadgen) shares the CPUs with the
// services. It exits non-zero if a setup check fails or if any request
// of a measured run got an error or a status other than 200.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres"
)

type config struct {
	bin         string // built jwtgate; "": build one
	stores      []string
	postgresDSN string
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	conns       int
	loginConns  int
	assertions  int
	progress    io.Writer
}

func (c config) validate() error {
	switch {
	case c.rounds < 1 || c.rounds > 100:
		return fmt.Errorf("-rounds %d: want 1 to 100", c.rounds)
	case c.duration < 10*time.Millisecond || c.duration > time.Minute:
		return fmt.Errorf("-duration %v: want 10ms to 1m", c.duration)
	case c.warmup < 0 || c.warmup > 30*time.Second:
		return fmt.Errorf("-warmup %v: want 0 to 30s", c.warmup)
	case c.conns < 1 || c.conns > 1024:
		return fmt.Errorf("-conns %d: want 1 to 1024", c.conns)
	case c.loginConns < 1 || c.loginConns > 64:
		return fmt.Errorf("-login-conns %d: want 1 to 64", c.loginConns)
	case c.assertions < 1 || c.assertions > 1_000_000:
		return fmt.Errorf("-assertions %d: want 1 to 1000000", c.assertions)
	case len(c.stores) == 0:
		return errors.New("-stores: name at least one of embedded, postgres")
	}
	for _, s := range c.stores {
		if s != "embedded" && s != "postgres" {
			return fmt.Errorf("-stores: unknown store %q (embedded, postgres)", s)
		}
	}
	return nil
}

// command is the command line that reproduces the run.
func (c config) command() string {
	return fmt.Sprintf("cd interop && go run ./cmd/oauthload -rounds %d -duration %v -warmup %v -conns %d -login-conns %d -stores %s -assertions %d",
		c.rounds, c.duration, c.warmup, c.conns, c.loginConns, strings.Join(c.stores, ","), c.assertions)
}

func (c config) logf(format string, args ...any) {
	if c.progress != nil {
		fmt.Fprintf(c.progress, format+"\n", args...)
	}
}

func defaultDSN() string {
	if v := os.Getenv("JWTGATE_POSTGRES_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func main() {
	log.SetFlags(0)
	c := config{progress: os.Stderr}
	var stores string
	flag.StringVar(&c.bin, "bin", "", "a built jwtgate (default: build cmd/jwtgate)")
	flag.StringVar(&stores, "stores", "embedded,postgres", "stores to measure, comma-separated: embedded, postgres")
	flag.StringVar(&c.postgresDSN, "postgres-dsn", defaultDSN(), "PostgreSQL server for -stores postgres (a schema of the run's own is created and dropped) [JWTGATE_POSTGRES_DSN]")
	flag.IntVar(&c.rounds, "rounds", 5, "measured rounds")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "length of each measured run")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "warm-up run per store and target before round 1")
	flag.IntVar(&c.conns, "conns", 16, "connections of the OAuth runs")
	flag.IntVar(&c.loginConns, "login-conns", 2, "connections of the /login runs")
	flag.IntVar(&c.assertions, "assertions", 30000, "client assertions signed before each private_key_jwt run")
	flag.Parse()
	c.stores = strings.Split(stores, ",")
	if err := c.validate(); err != nil {
		log.Fatal(err)
	}
	res, err := run(c)
	if err != nil {
		log.Fatal(err)
	}
	report(os.Stdout, c, res)
	for _, r := range res {
		for _, run := range r.runs {
			if run.Errors > 0 {
				log.Fatalf("%s %s: %d errors in a measured run, first: %v", r.store, r.target, run.Errors, run.FirstErr)
			}
		}
	}
}

// The targets, in the order of every round.
var targets = []string{"basic", "private_key_jwt", "introspect", "login"}

// result is the measured runs of one target on one store.
type result struct {
	store, target string
	runs          []loadgen.Result
}

func run(c config) ([]*result, error) {
	dir, err := os.MkdirTemp("", "oauthload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := c.bin
	if bin == "" {
		c.logf("building cmd/jwtgate")
		if bin, err = serveproc.Build(dir); err != nil {
			return nil, err
		}
	}
	var insts []*instance
	defer func() {
		for _, in := range insts {
			in.close(c)
		}
	}()
	for _, store := range c.stores {
		c.logf("starting jwtgate serve on the %s store", store)
		in, err := setUp(c, bin, filepath.Join(dir, store), store)
		if in != nil {
			insts = append(insts, in)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", store, err)
		}
		if err := in.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", store, err)
		}
	}

	var out []*result
	for _, in := range insts {
		for _, t := range targets {
			out = append(out, &result{store: in.store, target: t})
		}
	}
	if c.warmup > 0 {
		for _, in := range insts {
			for _, t := range targets {
				c.logf("warm-up: %s %s", in.store, t)
				if r := in.load(c, t, c.warmup); r.Errors > 0 {
					return nil, fmt.Errorf("warm-up of %s %s: %d errors, first: %v", in.store, t, r.Errors, r.FirstErr)
				}
			}
		}
	}
	for round := range c.rounds {
		i := 0
		for _, in := range insts {
			for _, t := range targets {
				r := in.load(c, t, c.duration)
				out[i].runs = append(out[i].runs, r)
				i++
				c.logf("round %d/%d %-8s %-15s %8.0f/s p50 %-8v p99 %-8v errors %d", round+1, c.rounds, in.store, t, r.RPS(), fmtDur(r.P50), fmtDur(r.P99), r.Errors)
			}
		}
	}
	return out, nil
}

// instance is one running service and what its requests need.
type instance struct {
	store    string
	svc      *serveproc.Service
	db       *sql.DB // postgres: to drop the schema
	schema   string
	basicID  string
	basicReq []byte // client_credentials with Basic
	introReq []byte // introspection with Basic
	loginReq []byte
	keyID    string
	signer   *jwt.Signer
}

const (
	audience      = "https://api.example"
	loadUser      = "loaduser"
	loadPassword  = "load-test password, not a secret"
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	formType      = "Content-Type: application/x-www-form-urlencoded"
)

func setUp(c config, bin, dir, store string) (*instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	in := &instance{store: store}
	env := serveproc.Env()
	if store == "postgres" {
		db, err := postgres.Open(c.postgresDSN)
		if err != nil {
			return nil, err
		}
		in.db = db
		in.schema = "oauthload_" + strings.ToLower(rand.Text()[:12])
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+in.schema); err != nil {
			in.schema = ""
			return in, fmt.Errorf("PostgreSQL at %s: %w", c.postgresDSN, err)
		}
		u, err := url.Parse(c.postgresDSN)
		if err != nil {
			return in, err
		}
		q := u.Query()
		q.Set("search_path", in.schema)
		u.RawQuery = q.Encode()
		env = append(env, "JWTGATE_DATABASE_URL="+u.String())
	}
	data := filepath.Join(dir, "data")

	out, err := serveproc.Run(bin, env, "clients", "add", "load-basic", "--data-dir", data, "--scopes", "read", "--audience", audience)
	if err != nil {
		return in, err
	}
	id, secret := serveproc.Field(out, "client_id"), serveproc.Field(out, "client_secret")
	if id == "" || secret == "" {
		return in, fmt.Errorf("clients add printed no client_id and client_secret: %q", out)
	}
	in.basicID = id

	key, err := jwk.GenerateEC("P-256")
	if err != nil {
		return in, err
	}
	if key, err = jwk.EnsureKeyID(key); err != nil {
		return in, err
	}
	set, err := jwk.NewSet(key)
	if err != nil {
		return in, err
	}
	pub, err := set.MarshalJSON()
	if err != nil {
		return in, err
	}
	jwksFile := filepath.Join(dir, "client.jwks")
	if err := os.WriteFile(jwksFile, pub, 0o600); err != nil {
		return in, err
	}
	if out, err = serveproc.Run(bin, env, "clients", "add", "load-jwt", "--data-dir", data, "--scopes", "read", "--audience", audience, "--jwks", jwksFile); err != nil {
		return in, err
	}
	if in.keyID = serveproc.Field(out, "client_id"); in.keyID == "" {
		return in, fmt.Errorf("clients add --jwks printed no client_id: %q", out)
	}
	if in.signer, err = jwt.NewSigner(key, jwt.ES256, jwt.SignerOptions{}); err != nil {
		return in, err
	}
	if _, err := serveproc.RunInput(bin, env, loadPassword+"\n", "users", "add", loadUser, "--data-dir", data); err != nil {
		return in, err
	}

	in.svc, err = serveproc.Start(bin, env, filepath.Join(dir, "serve.log"), "--data-dir", data)
	if err != nil {
		return in, err
	}
	addr := in.svc.Addr
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	in.basicReq = loadgen.RawRequest("POST", addr, "/oauth/token", []string{formType, basic}, []byte("grant_type=client_credentials"))
	in.loginReq = loadgen.RawRequest("POST", addr, "/login", []string{"Content-Type: application/json"},
		fmt.Appendf(nil, `{"username":%q,"password":%q}`, loadUser, loadPassword))

	// An access token to introspect, from the service itself.
	status, body, err := loadgen.Probe(addr, in.basicReq, 30*time.Second)
	if err != nil || status != 200 {
		return in, fmt.Errorf("client_credentials with Basic: %d %s %v", status, body, err)
	}
	tok, err := accessToken(body)
	if err != nil {
		return in, err
	}
	in.introReq = loadgen.RawRequest("POST", addr, "/oauth/introspect", []string{formType, basic}, []byte("token="+tok))
	return in, nil
}

func accessToken(body []byte) (string, error) {
	_, rest, ok := strings.Cut(string(body), `"access_token":"`)
	tok, _, ok2 := strings.Cut(rest, `"`)
	if !ok || !ok2 || tok == "" {
		return "", fmt.Errorf("no access_token in %s", body)
	}
	return tok, nil
}

// assertionRequest is a client_credentials request with a new client
// assertion.
func (in *instance) assertionRequest() ([]byte, error) {
	now := time.Now()
	a, err := in.signer.Sign(map[string]any{
		"iss": in.keyID, "sub": in.keyID, "aud": in.svc.URL + "/oauth/token",
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	})
	if err != nil {
		return nil, err
	}
	form := "grant_type=client_credentials&client_assertion_type=" + url.QueryEscape(assertionType) + "&client_assertion=" + a
	return loadgen.RawRequest("POST", in.svc.Addr, "/oauth/token", []string{formType}, []byte(form)), nil
}

// check sends every target's request once: each must answer 200, and a
// replayed assertion 401.
func (in *instance) check() error {
	addr := in.svc.Addr
	jwtReq, err := in.assertionRequest()
	if err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		req  []byte
		want int
		in   string
	}{
		{"client_credentials with Basic", in.basicReq, 200, `"token_type":"Bearer"`},
		{"client_credentials with private_key_jwt", jwtReq, 200, `"token_type":"Bearer"`},
		{"the same assertion again", jwtReq, 401, `"invalid_client"`},
		{"introspection", in.introReq, 200, `"active":true`},
		{"login", in.loginReq, 200, `"access_token"`},
	} {
		status, body, err := loadgen.Probe(addr, c.req, 30*time.Second)
		if err != nil || status != c.want || !strings.Contains(string(body), c.in) {
			return fmt.Errorf("%s: %d %s %v; want %d with %s\n%s", c.name, status, body, err, c.want, c.in, in.svc.LogTail())
		}
	}
	return nil
}

// load runs target for d.
func (in *instance) load(c config, target string, d time.Duration) loadgen.Result {
	l := loadgen.Load{Addr: in.svc.Addr, Conns: c.conns, Duration: d}
	switch target {
	case "basic":
		l.Req = in.basicReq
	case "introspect":
		l.Req = in.introReq
	case "login":
		l.Req, l.Conns = in.loginReq, c.loginConns
	case "private_key_jwt":
		pool := make([][]byte, c.assertions)
		for i := range pool {
			req, err := in.assertionRequest()
			if err != nil {
				return loadgen.Result{Errors: 1, FirstErr: err}
			}
			pool[i] = req
		}
		var next atomic.Int64
		l.Next = func() ([]byte, bool) {
			i := next.Add(1) - 1
			if i >= int64(len(pool)) {
				return nil, false
			}
			return pool[i], true
		}
	}
	runtime.GC()
	return l.Run()
}

func (in *instance) close(c config) {
	if in.svc != nil {
		if err := in.svc.Stop(); err != nil {
			c.logf("%s: %v", in.store, err)
		}
	}
	if in.db != nil {
		if in.schema != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := in.db.ExecContext(ctx, "DROP SCHEMA "+in.schema+" CASCADE"); err != nil {
				c.logf("%s: dropping schema %s: %v", in.store, in.schema, err)
			}
			cancel()
		}
		in.db.Close()
	}
}

func fmtDur(d time.Duration) string {
	return d.Round(10 * time.Microsecond).String()
}

func report(w io.Writer, c config, res []*result) {
	fmt.Fprintf(w, "jwtgate serve, OAuth 2 endpoints on loopback: %d rounds of %v per target, interleaved, after a %v warm-up\n", c.rounds, c.duration, c.warmup)
	fmt.Fprintf(w, "GOMAXPROCS %d, %d connections (login: %d); load generator and services share the CPUs\n", runtime.GOMAXPROCS(0), c.conns, c.loginConns)
	fmt.Fprintf(w, "command: %s\n\n", c.command())
	fmt.Fprintf(w, "%-9s %-16s %10s %16s %9s %9s %7s\n", "store", "request", "req/s", "range", "p50", "p99", "errors")
	for _, r := range res {
		s := loadgen.Summarize(r.runs)
		lo, hi := loadgen.RPSRange(r.runs)
		fmt.Fprintf(w, "%-9s %-16s %10.0f %16s %9s %9s %7d\n", r.store, r.target, s.RPS,
			fmt.Sprintf("%.0f-%.0f", lo, hi), fmtDur(s.P50), fmtDur(s.P99), s.Errors)
	}
	stores := slices.Compact(slices.Sorted(func(yield func(string) bool) {
		for _, r := range res {
			if !yield(r.store) {
				return
			}
		}
	}))
	fmt.Fprintf(w, "\nmedians over rounds; range: slowest and fastest round; stores: %s\n", strings.Join(stores, ", "))
}
