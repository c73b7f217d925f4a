package main

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
)

// target is the issue's: /userinfo at least this share of the baseline.
const target = 0.80

// writeReport writes the report, Markdown for docs/BENCHMARKS.md.
func writeReport(w io.Writer, c config, r *report) {
	fmt.Fprintf(w, "## The token service on loopback (`interop/cmd/servetest`)\n\n")
	fmt.Fprintf(w, "- machine: %s, %d CPUs, GOMAXPROCS %d, %s/%s; servetest built with %s, jwtgate with %s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.jwtgateGo)
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- command: `%s`\n", c.command())
	extra := ""
	if len(c.serveArgs) > 0 {
		extra = " plus `" + strings.Join(c.serveArgs, " ") + "`"
	}
	stores := "SQLite data directory"
	if strings.Contains(extra, "--database-url") || strings.Contains(extra, "--redis") {
		stores = "the stores given"
	}
	fmt.Fprintf(w, "- service: `jwtgate serve --addr 127.0.0.1:0 --data-dir TMP`%s: defaults otherwise (ES256, %s, every request logged at Info, in batches, here to a file: %.1f MB in all)\n",
		extra, stores, float64(r.logBytes)/1e6)
	fmt.Fprintf(w, "- baseline: a bare net/http handler (http.ServeMux, same http.Server limits) writing the service's response: 200, %s, body %q (%d bytes)\n",
		headerList(r), r.body, len(r.body))
	fmt.Fprintf(w, "- load: closed loop, %d keep-alive connections, %d interleaved round(s) of %v (baseline, then jwtgate), warm-up %v per target (and before /login); load generator and servers share the CPUs\n\n",
		c.conns, c.rounds, c.duration, c.warmup)

	fmt.Fprintf(w, "GET /userinfo with a valid access token, medians over rounds:\n\n")
	fmt.Fprintln(w, "| server | req/s | req/s min–max | p50 | p99 | share of the baseline | errors |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for i, s := range []stats{r.baseline, r.jwtgate} {
		lo, hi := loadgen.RPSRange(s.runs)
		share := "—"
		if i == 1 {
			share = fmt.Sprintf("%.1f%% (median of per-round ratios %.1f%%)", 100*r.ratio, 100*r.pairedRatio)
		}
		fmt.Fprintf(w, "| %s | %s | %s–%s | %s | %s | %s | %d |\n",
			s.name, fmtRate(s.rps), fmtRate(lo), fmtRate(hi), fmtDur(s.p50), fmtDur(s.p99), share, s.errors)
	}
	verdict := "met"
	switch {
	case r.ratio < target && r.pairedRatio < target:
		verdict = "not met"
	case r.ratio < target || r.pairedRatio < target:
		verdict = "at the limit"
	}
	fmt.Fprintf(w, "\nTarget: /userinfo at least %.0f%% of the baseline's requests per second: %s (%.1f%% by the ratio of medians, %.1f%% by the median of per-round ratios); jwtgate p99 %s against %s.\n",
		100*target, verdict, 100*r.ratio, 100*r.pairedRatio, fmtDur(r.jwtgate.p99), fmtDur(r.baseline.p99))

	fmt.Fprintf(w, "\nPOST /login (correct credentials), argon2id %s per login:\n\n", r.hash.params)
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|--:|")
	fmt.Fprintf(w, "| VerifyPassword in process, %d in a row: median | %s |\n", len(r.hash.times), fmtDur(r.hash.median))
	fmt.Fprintf(w, "| VerifyPassword p99 (min–max) | %s (%s–%s) |\n", fmtDur(r.hash.p99), fmtDur(r.hash.times[0]), fmtDur(r.hash.times[len(r.hash.times)-1]))
	fmt.Fprintf(w, "| HashPassword, once | %s |\n", fmtDur(r.hash.hashTime))
	fmt.Fprintf(w, "| hash ceiling: GOMAXPROCS %d / median | %.1f logins/s |\n", runtime.GOMAXPROCS(0), r.hash.ceiling())
	fmt.Fprintf(w, "| endpoint, %d connections for %v | %.1f req/s (%.0f%% of the ceiling) |\n",
		c.loginConns, c.loginDuration, r.login.RPS(), 100*r.login.RPS()/r.hash.ceiling())
	fmt.Fprintf(w, "| endpoint p50 / p99 | %s / %s |\n", fmtDur(r.login.P50), fmtDur(r.login.P99))
	fmt.Fprintf(w, "| endpoint requests / errors | %d / %d |\n", r.login.Completed, r.login.Errors)

	fmt.Fprintf(w, "\nEvery run, in the order they ran:\n\n```\n")
	for i := range r.baseline.runs {
		for _, s := range []stats{r.baseline, r.jwtgate} {
			fmt.Fprintln(w, runLine(fmt.Sprintf("round %d/%d", i+1, len(s.runs)), s.name, s.runs[i]))
		}
	}
	fmt.Fprintln(w, runLine("login", "jwtgate serve", r.login))
	fmt.Fprintln(w, "```")
}

func runLine(label, name string, r loadgen.Result) string {
	return fmt.Sprintf("%-11s %-17s %7d requests in %-12v %9.1f req/s  p50 %-9s p99 %-9s errors %d",
		label, name, r.Completed, r.Elapsed.Round(time.Microsecond), r.RPS(), fmtDur(r.P50), fmtDur(r.P99), r.Errors)
}

// headerList is the baseline's headers, sorted, as "Name: value" text.
func headerList(r *report) string {
	var hs []string
	for k, vs := range r.header {
		for _, v := range vs {
			hs = append(hs, k+": "+v)
		}
	}
	slices.Sort(hs)
	return strings.Join(hs, ", ")
}

// fmtDur prints three significant digits, in µs below 1 ms.
func fmtDur(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 10_000:
		return fmt.Sprintf("%.2f ms", us/1000)
	case us < 100_000:
		return fmt.Sprintf("%.1f ms", us/1000)
	}
	return fmt.Sprintf("%.0f ms", us/1000)
}

// fmtRate prints a rate rounded to a whole number, thousands separated by
// a space as in docs/BENCHMARKS.md.
func fmtRate(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// goVersionOf is the Go version a binary was built with.
func goVersionOf(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "an unknown Go version"
	}
	return info.GoVersion
}
