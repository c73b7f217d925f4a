// Command loadtest is a loopback load test of one small JSON handler
// ({"sub":"user-12345"}) protected by jwtgate and by other Go JWT
// middleware, each against its own unprotected baseline. Run it from
// /work/main/interop:
//
//	go run ./cmd/loadtest -rounds 5 -duration 3s | tee /tmp/loadtest.txt
//
// (defaults: -conns 32 -warmup 1s -key testdata/hs256.key; -requests N
// sends N requests per run instead of running for -duration; -inprocess
// runs the servers in the generator's process.) The in-process benchmarks
// of the same handlers are in ../../middleware:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./middleware/ | tee /tmp/middleware-bench.txt
//
// The servers are those of package middleware, each on its usual router,
// each an http.Server on its own ephemeral port of 127.0.0.1. They run in
// a child process (this binary, re-executed), so that their garbage
// collection does not pause the load generator and the generator's does
// not pause them, as with wrk; the child exits when the run ends. The
// servers are:
//
//	unprotected           bare net/http (http.ServeMux)
//	jwtgate               Gate.Required (http.ServeMux)
//	golang-jwt            a plain golang-jwt/jwt/v5 middleware (http.ServeMux)
//	jwtauth               go-chi/jwtauth/v5 Verifier + Authenticator on a chi router
//	echo-jwt-unprotected  echo, no middleware
//	echo-jwt              echo with labstack/echo-jwt/v4
//
// Before any timing, every server must answer the valid token with 200
// and {"sub":"user-12345"}, and the protected ones a tampered token, an
// expired token and a missing token with 401. Each is then warmed up, and
// the measured rounds are interleaved: round 1 runs every server once in
// the order above, then round 2, and so on, with a garbage collection in
// both processes before each run. A run is closed-loop: -conns keep-alive
// connections, each sending the next request (the same bytes for every
// server, "Authorization: Bearer <token>" included) as soon as it has read
// the previous response. Only 200 responses count. The report gives per
// server the median over rounds of requests per second and of the p50 and
// p99 latencies, and the ratio to its baseline (net/http servers to
// unprotected, echo-jwt to echo-jwt-unprotected), both as the ratio of the
// medians and as the median of the per-round ratios (each round pairs runs
// made seconds apart, which cancels slow drifts of a shared machine).
//
// The load generator shares the CPUs with the servers (GOMAXPROCS is left
// at its default in both processes); it speaks HTTP/1.1 on raw connections
// with a minimal parser to keep its share small. All traffic goes to
// 127.0.0.1, and the run stops by itself after about
// 6 x (warmup + rounds x duration), 96 s with the command above. It exits
// non-zero if a setup check fails or if any request of a measured run got
// an error or a status other than 200.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
	"github.com/jwtgate/jwtgate/interop/middleware"
)

type config struct {
	rounds   int
	duration time.Duration
	requests int // per run; 0: run for duration
	conns    int
	warmup   time.Duration // per server, before round 1; 0: none
	key      string
	// inProcess runs the servers in this process rather than in a child
	// process.
	inProcess bool
	progress  io.Writer // one line per run; nil: none
}

func (c config) validate() error {
	switch {
	case c.rounds < 1 || c.rounds > 100:
		return fmt.Errorf("-rounds %d: want 1 to 100", c.rounds)
	case c.conns < 1 || c.conns > 1024:
		return fmt.Errorf("-conns %d: want 1 to 1024", c.conns)
	case c.requests < 0 || c.requests > 10_000_000:
		return fmt.Errorf("-requests %d: want 0 to 10000000", c.requests)
	case c.requests == 0 && (c.duration < 10*time.Millisecond || c.duration > time.Minute):
		return fmt.Errorf("-duration %v: want 10ms to 1m", c.duration)
	case c.warmup < 0 || c.warmup > 30*time.Second:
		return fmt.Errorf("-warmup %v: want 0 to 30s", c.warmup)
	}
	return nil
}

func main() {
	if key, ok := os.LookupEnv(childEnv); ok {
		if err := serveChild(key, os.Stdin, os.Stdout); err != nil {
			log.Fatalf("loadtest server process: %v", err)
		}
		return
	}
	var c config
	flag.IntVar(&c.rounds, "rounds", 5, "measured rounds; each runs every server once, in order")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "length of one run (when -requests is 0)")
	flag.IntVar(&c.requests, "requests", 0, "requests per run instead of -duration (0: use -duration)")
	flag.IntVar(&c.conns, "conns", 32, "keep-alive connections (closed loop: one request in flight on each)")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "warm-up run per server before round 1 (0: none)")
	flag.StringVar(&c.key, "key", "testdata/hs256.key", "HS256 secret (32 bytes); the default is relative to /work/main/interop")
	flag.BoolVar(&c.inProcess, "inprocess", false, "run the servers in the load generator's process instead of a child process")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("loadtest: unexpected arguments %q", flag.Args())
	}
	c.progress = os.Stderr
	if _, err := run(c, os.Stdout); err != nil {
		log.Fatalf("loadtest: %v", err)
	}
}

// summary is one server's report.
type summary struct {
	name, baseline string
	runs           []loadgen.Result // one per round
	rps            float64          // medians over rounds
	p50, p99       time.Duration
	ratio          float64 // median rps / baseline's median rps
	pairedRatio    float64 // median over rounds of rps / baseline's rps
	errors         int
}

// run checks, warms up and measures every server, writes the report to out
// and returns the summaries. It fails on a setup error and, after writing
// the report, if any measured request failed.
func run(c config, out io.Writer) ([]summary, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	key, err := middleware.LoadKey(c.key)
	if err != nil {
		return nil, err
	}
	impls, err := middleware.Impls(middleware.NewFixture(key))
	if err != nil {
		return nil, err
	}
	f, err := startFleet(impls, c.key, c.inProcess)
	if err != nil {
		return nil, err
	}
	defer f.stop()
	servers := f.servers
	for _, s := range servers {
		if err := checkServer(s); err != nil {
			return nil, fmt.Errorf("setup check: %w", err)
		}
	}
	progress := func(format string, args ...any) {
		if c.progress != nil {
			fmt.Fprintf(c.progress, format, args...)
		}
	}
	newLoad := func(s *server, d time.Duration, n int) loadgen.Load {
		ioTimeout := 10 * time.Second // after the end of d
		if n > 0 {
			ioTimeout = 2 * time.Minute // after the start
		}
		return loadgen.Load{Addr: s.addr, Req: s.req, Conns: c.conns, Duration: d, Requests: n, IOTimeout: ioTimeout}
	}
	if c.warmup > 0 {
		for _, s := range servers {
			progress("warm-up %s\n", s.im.Name)
			if r := newLoad(s, c.warmup, 0).Run(); r.Errors > 0 {
				return nil, fmt.Errorf("warm-up of %s: %d errors, first: %v", s.im.Name, r.Errors, r.FirstErr)
			}
		}
	}
	runs := make([][]loadgen.Result, len(servers))
	for round := range c.rounds {
		for i, s := range servers {
			if err := f.gc(); err != nil {
				return nil, err
			}
			r := newLoad(s, c.duration, c.requests).Run()
			runs[i] = append(runs[i], r)
			progress("%s\n", runLine(round+1, c.rounds, s.im.Name, r))
		}
	}

	sums := summarize(servers, runs)
	report(out, c, sums)
	var errs []error
	for _, s := range sums {
		if s.errors > 0 {
			var first error
			for _, r := range s.runs {
				if r.FirstErr != nil {
					first = r.FirstErr
					break
				}
			}
			errs = append(errs, fmt.Errorf("%s: %d failed requests, first: %v", s.name, s.errors, first))
		}
	}
	return sums, errors.Join(errs...)
}

func summarize(servers []*server, runs [][]loadgen.Result) []summary {
	index := map[string]int{}
	for i, s := range servers {
		index[s.im.Name] = i
	}
	sums := make([]summary, len(servers))
	for i, s := range servers {
		m := loadgen.Summarize(runs[i])
		sums[i] = summary{name: s.im.Name, baseline: s.im.Baseline, runs: runs[i], rps: m.RPS, p50: m.P50, p99: m.P99, errors: m.Errors}
	}
	for i := range sums {
		b, ok := index[sums[i].baseline]
		if !ok {
			continue
		}
		if sums[b].rps > 0 {
			sums[i].ratio = sums[i].rps / sums[b].rps
		}
		sums[i].pairedRatio = loadgen.PairedRatio(sums[i].runs, sums[b].runs)
	}
	return sums
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// report writes the Markdown report.
func report(w io.Writer, c config, sums []summary) {
	per := fmt.Sprintf("%v per run", c.duration)
	if c.requests > 0 {
		per = fmt.Sprintf("%d requests per run", c.requests)
	}
	order := make([]string, len(sums))
	for i, s := range sums {
		order[i] = s.name
	}
	fmt.Fprintf(w, "## Loopback load test\n\n")
	fmt.Fprintf(w, "%s %s/%s, GOMAXPROCS %d, %d CPUs; %d interleaved rounds, %s, %d connections, warm-up %v per server.\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), c.rounds, per, c.conns, c.warmup)
	fmt.Fprintf(w, "Order in each round: %s. Medians over rounds.\n\n", strings.Join(order, ", "))

	fmt.Fprintln(w, "| server | baseline | req/s | req/s min–max | p50 | p99 | ratio of medians | median per-round ratio | errors |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, s := range sums {
		lo, hi := loadgen.RPSRange(s.runs)
		base, ratio, paired := "—", "—", "—"
		if s.baseline != "" {
			base = s.baseline
			ratio = fmt.Sprintf("%.1f%%", 100*s.ratio)
			paired = fmt.Sprintf("%.1f%%", 100*s.pairedRatio)
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f–%.0f | %s | %s | %s | %s | %d |\n",
			s.name, base, s.rps, lo, hi, fmtDur(s.p50), fmtDur(s.p99), ratio, paired, s.errors)
	}

	fmt.Fprintf(w, "\nRequests per second, per round:\n\n")
	fmt.Fprint(w, "| server |")
	for r := range sums[0].runs {
		fmt.Fprintf(w, " round %d |", r+1)
	}
	fmt.Fprint(w, "\n|---|")
	for range sums[0].runs {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w)
	for _, s := range sums {
		fmt.Fprintf(w, "| %s |", s.name)
		for _, r := range s.runs {
			fmt.Fprintf(w, " %.0f |", r.RPS())
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\nEvery run, in the order they ran:\n\n```\n")
	for r := range sums[0].runs {
		for _, s := range sums {
			fmt.Fprintln(w, runLine(r+1, len(sums[0].runs), s.name, s.runs[r]))
		}
	}
	fmt.Fprintln(w, "```")
}

func runLine(round, rounds int, name string, r loadgen.Result) string {
	return fmt.Sprintf("round %d/%d %-21s %6d requests in %-12v %9.0f req/s  p50 %-10s p99 %-10s errors %d",
		round, rounds, name, r.Completed, r.Elapsed.Round(time.Microsecond), r.RPS(), fmtDur(r.P50), fmtDur(r.P99), r.Errors)
}
