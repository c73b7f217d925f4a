// Command servetest is a loopback load test of the token service
// "jwtgate serve": GET /userinfo with a valid access token against a bare
// net/http handler returning the same response, and POST /login, which is
// bound by its argon2id password hash by design. Run it from
// /work/main/interop (or anywhere inside the workspace):
//
//	cd /work/main/interop && go run ./cmd/servetest -rounds 5 -duration 3s
//
// (defaults: -rounds 5 -duration 3s -warmup 1s -conns 32 -login-conns 4
// -login-duration 5s -hash-n 20; -bin PATH uses a built jwtgate instead of
// building one; -serve-args "..." adds flags to "jwtgate serve".) It
// prints a plain-text report for docs/BENCHMARKS.md on stdout and its
// progress on stderr, and runs for about 3 x warmup + 2 x rounds x duration
// + login-duration plus a few seconds of setup: about 40 s with the
// command above.
//
// What it does:
//
//  1. Times server.VerifyPassword (argon2id, the service's parameters)
//     -hash-n times in this process, one after the other, before anything
//     else runs; the implied ceiling of /login is GOMAXPROCS / median.
//  2. Builds cmd/jwtgate once into a temporary directory and starts
//     "jwtgate serve --addr 127.0.0.1:0 --data-dir TMP" with its defaults
//     (ES256 keys, SQLite data directory, Info logging of every request;
//     JWTGATE_* variables are removed from its environment), its log
//     going to a file. The address and the first-start admin
//     password are read from that log.
//  3. Logs in as admin (POST /login) for an access token, fetches
//     GET /userinfo with it once, and checks that /userinfo without a
//     token is refused with 401.
//  4. Starts the baseline in a child process (this binary re-executed):
//     an http.ServeMux whose GET /userinfo writes exactly the service's
//     response (body and headers but Date), on an http.Server with the
//     same limits as jwtgate serve. It checks that both answer the load
//     generator's request bytes with 200 and identical bodies.
//  5. Warms both up, then measures interleaved rounds (baseline, then
//     jwtgate, in every round, with a garbage collection in this process
//     before each run). A run is closed-loop: -conns keep-alive
//     connections, each sending the next request (the same bytes to both,
//     "Authorization: Bearer <token>" included) as soon as it has read the
//     previous response. Only 200 responses count. It reports the medians
//     over rounds of requests per second, p50 and p99, and jwtgate's share
//     of the baseline both as the ratio of the medians and as the median
//     of the per-round ratios (each round pairs runs made seconds apart,
//     which cancels slow drifts of a shared machine).
//  6. Runs POST /login with the right credentials (failed logins are rate
//     limited per IP, successful ones are not) on -login-conns connections,
//     -warmup long, then -login-duration long, and reports the rate and
//     latencies of the second run next to the hash ceiling.
//
// The load generator (package interop/internal/loadgen, shared with
// ../loadtest) speaks HTTP/1.1 on raw
// connections with a minimal parser and shares the CPUs with the servers.
// All traffic goes to 127.0.0.1. It exits non-zero if a setup check
// fails, if any request of a measured run got an error or a status other
// than 200, or if the service does not exit cleanly on SIGTERM at the
// end. It does not fail when a target is missed: the report says so.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
)

type config struct {
	bin           string   // built jwtgate; "": build one
	serveArgs     []string // extra flags of jwtgate serve
	rounds        int
	duration      time.Duration
	warmup        time.Duration // per target, before round 1; 0: none
	conns         int
	loginConns    int
	loginDuration time.Duration
	hashN         int
	progress      io.Writer // one line per step; nil: none
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
	case c.loginDuration < 10*time.Millisecond || c.loginDuration > 5*time.Minute:
		return fmt.Errorf("-login-duration %v: want 10ms to 5m", c.loginDuration)
	case c.hashN < 1 || c.hashN > 1000:
		return fmt.Errorf("-hash-n %d: want 1 to 1000", c.hashN)
	}
	return nil
}

// command is the command line that reproduces the run.
func (c config) command() string {
	s := fmt.Sprintf("cd interop && go run ./cmd/servetest -rounds %d -duration %v -warmup %v -conns %d -login-conns %d -login-duration %v -hash-n %d",
		c.rounds, c.duration, c.warmup, c.conns, c.loginConns, c.loginDuration, c.hashN)
	if len(c.serveArgs) > 0 {
		s += fmt.Sprintf(" -serve-args '%s'", strings.Join(c.serveArgs, " "))
	}
	return s
}

func main() {
	if spec, ok := os.LookupEnv(baselineEnv); ok {
		if err := serveBaseline(spec, os.Stdin, os.Stdout); err != nil {
			log.Fatalf("servetest baseline process: %v", err)
		}
		return
	}
	var c config
	var serveArgs string
	flag.StringVar(&c.bin, "bin", "", "jwtgate binary to test (default: go build cmd/jwtgate into a temporary directory)")
	flag.StringVar(&serveArgs, "serve-args", "", "extra flags for \"jwtgate serve\", space-separated")
	flag.IntVar(&c.rounds, "rounds", 5, "measured rounds of /userinfo; each runs the baseline, then jwtgate")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "length of one /userinfo run")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "warm-up run per target before round 1 (0: none)")
	flag.IntVar(&c.conns, "conns", 32, "keep-alive connections for /userinfo (closed loop)")
	flag.IntVar(&c.loginConns, "login-conns", 4, "keep-alive connections for /login (closed loop)")
	flag.DurationVar(&c.loginDuration, "login-duration", 5*time.Second, "length of the /login run")
	flag.IntVar(&c.hashN, "hash-n", 20, "argon2id verifications timed in process")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("servetest: unexpected arguments %q", flag.Args())
	}
	c.serveArgs = strings.Fields(serveArgs)
	c.progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err := run(ctx, c, os.Stdout)
	stop()
	if err != nil {
		log.Fatalf("servetest: %v", err)
	}
}

// userAgent is the User-Agent header of the load generator's requests.
const userAgent = "User-Agent: jwtgate-servetest"

// stats summarizes one target's runs.
type stats struct {
	name     string
	runs     []loadgen.Result // one per round
	rps      float64          // medians over rounds
	p50, p99 time.Duration
	errors   int
}

func summarize(name string, runs []loadgen.Result) stats {
	m := loadgen.Summarize(runs)
	return stats{name: name, runs: runs, rps: m.RPS, p50: m.P50, p99: m.P99, errors: m.Errors}
}

func (s stats) firstErr() error {
	for _, r := range s.runs {
		if r.FirstErr != nil {
			return r.FirstErr
		}
	}
	return nil
}

// hashStats is the in-process timing of VerifyPassword.
type hashStats struct {
	params   string // m=..,t=..,p=.. of the hash
	hashTime time.Duration
	times    []time.Duration // sorted
	median   time.Duration
	p99      time.Duration
}

// ceiling is the login rate GOMAXPROCS cores could sustain on hashing
// alone.
func (h hashStats) ceiling() float64 {
	return float64(runtime.GOMAXPROCS(0)) / h.median.Seconds()
}

// report is everything measured.
type report struct {
	baseline, jwtgate stats
	ratio             float64 // median rps / baseline median rps
	pairedRatio       float64 // median over rounds of rps / baseline rps
	login             loadgen.Result
	hash              hashStats
	body              []byte // the /userinfo body
	header            http.Header
	logBytes          int64 // size of the service's log at the end
	jwtgateGo         string
	token             string // the access token (never printed)
}

// run measures and writes the report to out. It fails on a setup error
// and, after writing the report, if any measured request failed or the
// service did not stop cleanly.
func run(ctx context.Context, c config, out io.Writer) (*report, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	progress := func(format string, args ...any) {
		if c.progress != nil {
			fmt.Fprintf(c.progress, format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp("", "servetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rep := &report{}

	progress("timing %d argon2id verifications in process", c.hashN)
	if rep.hash, err = timeHash(c.hashN); err != nil {
		return nil, err
	}

	bin := c.bin
	if bin != "" {
		if bin, err = filepath.Abs(bin); err != nil {
			return nil, err
		}
	} else {
		progress("building cmd/jwtgate")
		if bin, err = serveproc.Build(dir); err != nil {
			return nil, err
		}
	}
	rep.jwtgateGo = goVersionOf(bin)
	progress("starting jwtgate serve")
	svc, err := startService(bin, dir, c.serveArgs)
	if err != nil {
		return nil, err
	}
	defer svc.Stop()
	// A signal stops the service; the run then fails on its next request.
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		select {
		case <-ctx.Done():
			svc.Stop()
		case <-watchDone:
		}
	}()
	if err := setup(svc, rep); err != nil {
		return nil, fmt.Errorf("setup check: %w\njwtgate serve log (end):\n%s", err, svc.LogTail())
	}
	progress("starting the baseline")
	base, err := startBaseline(dir, response{Header: rep.header, Body: rep.body})
	if err != nil {
		return nil, err
	}
	defer base.stop()

	// The same request bytes for both (but Host).
	userinfo := func(addr string) []byte {
		return loadgen.RawRequest("GET", addr, "/userinfo",
			[]string{userAgent, "Accept: application/json", "Authorization: Bearer " + rep.token}, nil)
	}
	targets := []struct {
		name string
		addr string
	}{{"net/http baseline", base.addr}, {"jwtgate serve", svc.Addr}}
	if err := checkBaseline(base.addr, rep); err != nil {
		return nil, fmt.Errorf("setup check: %w", err)
	}
	for _, t := range targets {
		status, body, err := loadgen.Probe(t.addr, userinfo(t.addr), 30*time.Second)
		if err != nil || status != http.StatusOK || string(body) != string(rep.body) {
			return nil, fmt.Errorf("setup check: %s: GET /userinfo answered %d %q (%v), want 200 %q", t.name, status, body, err, rep.body)
		}
	}

	newLoad := func(addr string, d time.Duration) loadgen.Load {
		return loadgen.Load{Addr: addr, Req: userinfo(addr), Conns: c.conns, Duration: d, IOTimeout: 30 * time.Second}
	}
	if c.warmup > 0 {
		for _, t := range targets {
			progress("warm-up %s", t.name)
			if r := newLoad(t.addr, c.warmup).Run(); r.Errors > 0 {
				return nil, fmt.Errorf("warm-up of %s: %d errors, first: %v", t.name, r.Errors, r.FirstErr)
			}
		}
	}
	runs := make([][]loadgen.Result, len(targets))
	for round := range c.rounds {
		for i, t := range targets {
			runtime.GC()
			r := newLoad(t.addr, c.duration).Run()
			runs[i] = append(runs[i], r)
			progress("%s", runLine(fmt.Sprintf("round %d/%d", round+1, c.rounds), t.name, r))
		}
	}
	rep.baseline = summarize(targets[0].name, runs[0])
	rep.jwtgate = summarize(targets[1].name, runs[1])
	if rep.baseline.rps > 0 {
		rep.ratio = rep.jwtgate.rps / rep.baseline.rps
	}
	rep.pairedRatio = loadgen.PairedRatio(runs[1], runs[0])

	creds, err := json.Marshal(map[string]string{"username": "admin", "password": svc.Password})
	if err != nil {
		return nil, err
	}
	loginReq := loadgen.RawRequest("POST", svc.Addr, "/login", []string{userAgent, "Accept: application/json", "Content-Type: application/json"}, creds)
	loginLoad := func(d time.Duration) loadgen.Result {
		return loadgen.Load{Addr: svc.Addr, Req: loginReq, Conns: c.loginConns, Duration: d, IOTimeout: 30 * time.Second}.Run()
	}
	if c.warmup > 0 {
		progress("warm-up POST /login")
		if r := loginLoad(c.warmup); r.Errors > 0 {
			return nil, fmt.Errorf("warm-up of POST /login: %d errors, first: %v", r.Errors, r.FirstErr)
		}
	}
	progress("POST /login, %d connections, %v", c.loginConns, c.loginDuration)
	runtime.GC()
	rep.login = loginLoad(c.loginDuration)
	progress("%s", runLine("login", "jwtgate serve", rep.login))

	base.stop()
	stopErr := svc.Stop()
	if ctx.Err() != nil {
		return nil, errors.New("interrupted")
	}
	if fi, err := os.Stat(svc.LogPath()); err == nil {
		rep.logBytes = fi.Size()
	}
	writeReport(out, c, rep)

	var errs []error
	for _, s := range []stats{rep.baseline, rep.jwtgate} {
		if s.errors > 0 {
			errs = append(errs, fmt.Errorf("GET /userinfo, %s: %d failed requests, first: %v", s.name, s.errors, s.firstErr()))
		}
	}
	if rep.login.Errors > 0 {
		errs = append(errs, fmt.Errorf("POST /login: %d failed requests, first: %v", rep.login.Errors, rep.login.FirstErr))
	}
	errs = append(errs, stopErr)
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("%w\njwtgate serve log (end):\n%s", err, svc.LogTail())
	}
	return rep, nil
}

// setup logs in, fetches /userinfo once and checks that it needs a token.
func setup(svc *serveproc.Service, rep *report) error {
	base := "http://" + svc.Addr
	creds, err := json.Marshal(map[string]string{"username": "admin", "password": svc.Password})
	if err != nil {
		return err
	}
	resp, body, err := fetch("POST", base+"/login", http.Header{"Content-Type": {"application/json"}}, creds)
	if err != nil {
		return fmt.Errorf("POST /login: %w", err)
	}
	var tokens struct {
		Access string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tokens) != nil || tokens.Access == "" {
		return fmt.Errorf("POST /login answered %s %q, want 200 with an access_token", resp.Status, body)
	}
	rep.token = tokens.Access

	resp, body, err = fetch("GET", base+"/userinfo", http.Header{"Authorization": {"Bearer " + tokens.Access}}, nil)
	if err != nil {
		return fmt.Errorf("GET /userinfo: %w", err)
	}
	var info struct {
		Username string `json:"username"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil || info.Username != "admin" {
		return fmt.Errorf("GET /userinfo answered %s %q, want 200 with username admin", resp.Status, body)
	}
	rep.body = body
	rep.header = resp.Header.Clone()
	rep.header.Del("Date")
	rep.header.Del("Content-Length")

	resp, body, err = fetch("GET", base+"/userinfo", http.Header{}, nil)
	if err != nil {
		return fmt.Errorf("GET /userinfo without a token: %w", err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("GET /userinfo without a token answered %s %q, want 401", resp.Status, body)
	}
	return nil
}

// checkBaseline checks that the baseline answers like the service: same
// body, same headers but Date.
func checkBaseline(addr string, rep *report) error {
	resp, body, err := fetch("GET", "http://"+addr+"/userinfo", http.Header{"Authorization": {"Bearer " + rep.token}}, nil)
	if err != nil {
		return fmt.Errorf("baseline GET /userinfo: %w", err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	h.Del("Content-Length")
	if resp.StatusCode != http.StatusOK || string(body) != string(rep.body) || !headersEqual(h, rep.header) {
		return fmt.Errorf("baseline GET /userinfo answered %s %q %v, want 200 %q %v", resp.Status, body, h, rep.body, rep.header)
	}
	return nil
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// timeHash hashes a password once, then times n verifications of it.
func timeHash(n int) (hashStats, error) {
	var h hashStats
	pw := server.RandomPassword()
	t0 := time.Now()
	encoded, err := server.HashPassword(pw)
	h.hashTime = time.Since(t0)
	if err != nil {
		return h, err
	}
	if parts := strings.Split(encoded, "$"); len(parts) == 6 {
		h.params = parts[2] + " " + parts[3]
	}
	for range n {
		t0 := time.Now()
		ok, err := server.VerifyPassword(encoded, pw)
		d := time.Since(t0)
		if err != nil || !ok {
			return h, fmt.Errorf("VerifyPassword of a fresh hash: %v %v", ok, err)
		}
		h.times = append(h.times, d)
	}
	slices.Sort(h.times)
	h.median = time.Duration(loadgen.Median(durations(h.times)))
	h.p99 = loadgen.Percentile(h.times, 0.99)
	return h, nil
}

func durations(ds []time.Duration) []float64 {
	fs := make([]float64, len(ds))
	for i, d := range ds {
		fs[i] = float64(d)
	}
	return fs
}
