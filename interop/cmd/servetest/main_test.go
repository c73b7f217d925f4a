package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
)

// TestMain lets the test binary be the baseline process, as the servetest
// binary is when run.
func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(baselineEnv); ok {
		if err := serveBaseline(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "servetest baseline process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun builds jwtgate and runs the whole load test with tiny settings.
// It checks that every setup check passed, that every request was
// answered 200 and counted, and that the report has its lines; not how
// fast anything was.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs jwtgate serve")
	}
	c := config{
		rounds: 1, duration: 200 * time.Millisecond, warmup: 100 * time.Millisecond, conns: 4,
		loginConns: 2, loginDuration: 300 * time.Millisecond, hashN: 2,
	}
	var out bytes.Buffer
	rep, err := run(context.Background(), c, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, s := range []stats{rep.baseline, rep.jwtgate} {
		if len(s.runs) != 1 || s.errors != 0 || s.runs[0].Completed == 0 {
			t.Errorf("%s: %d runs, %d errors (%v), want 1 run with completed requests and no error", s.name, len(s.runs), s.errors, s.firstErr())
		}
		if s.p50 <= 0 || s.p99 < s.p50 {
			t.Errorf("%s: p50 %v p99 %v", s.name, s.p50, s.p99)
		}
	}
	if rep.ratio <= 0 || rep.pairedRatio <= 0 {
		t.Errorf("ratios %v %v", rep.ratio, rep.pairedRatio)
	}
	if rep.login.Completed == 0 || rep.login.Errors != 0 {
		t.Errorf("login: %d completed, %d errors (%v)", rep.login.Completed, rep.login.Errors, rep.login.FirstErr)
	}
	if len(rep.hash.times) != 2 || rep.hash.median <= 0 || rep.hash.params != "v=19 m=19456,t=2,p=1" {
		t.Errorf("hash timing: %+v", rep.hash)
	}
	if string(rep.body) != "{\"username\":\"admin\"}\n" {
		t.Errorf("/userinfo body %q", rep.body)
	}
	report := out.String()
	for _, want := range []string{
		"## The token service on loopback",
		"- machine: ",
		"GOMAXPROCS",
		"- command: `cd interop && go run ./cmd/servetest -rounds 1 -duration 200ms -warmup 100ms -conns 4 -login-conns 2 -login-duration 300ms -hash-n 2`",
		"Cache-Control: no-store, Content-Type: application/json",
		"| net/http baseline | ",
		"| jwtgate serve | ",
		"Target: /userinfo at least 80% of the baseline's requests per second: ",
		"POST /login (correct credentials), argon2id v=19 m=19456,t=2,p=1 per login",
		"| VerifyPassword in process, 2 in a row: median | ",
		"| hash ceiling: GOMAXPROCS ",
		"| endpoint, 2 connections for 300ms | ",
		"| endpoint requests / errors | ",
		"round 1/1   net/http baseline ",
		"round 1/1   jwtgate serve ",
		"login       jwtgate serve ",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, rep.token) {
		t.Error("the report shows the access token")
	}
	t.Logf("report:\n%s", report)
}

func TestLogValue(t *testing.T) {
	line := `time=2026-01-01T00:00:00.000Z level=WARN msg="created the first user with a random password; it is logged ONLY THIS ONCE: change it" username=admin password=ABCDEF234567` + "\n"
	for key, want := range map[string]string{"msg": "created the first user with a random password; it is logged ONLY THIS ONCE: change it", "username": "admin", "password": "ABCDEF234567", "level": "WARN"} {
		if got, ok := serveproc.LogValue(line, key); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", key, got, ok, want)
		}
	}
	if v, ok := serveproc.LogValue(line, "name"); ok {
		t.Errorf("name: %q found in %q", v, line)
	}
	line = `time=2026-01-01T00:00:00.000Z level=INFO msg=listening addr=127.0.0.1:41234 issuer=http://127.0.0.1:41234 kid=abc keys=1 data_dir=/tmp/x`
	if v, _ := serveproc.LogValue(line, "addr"); v != "127.0.0.1:41234" {
		t.Errorf("addr %q", v)
	}
}

func TestValidate(t *testing.T) {
	good := config{rounds: 5, duration: 3 * time.Second, warmup: time.Second, conns: 32, loginConns: 4, loginDuration: 5 * time.Second, hashN: 20}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(*config){
		func(c *config) { c.rounds = 0 },
		func(c *config) { c.duration = time.Hour },
		func(c *config) { c.warmup = -1 },
		func(c *config) { c.conns = 0 },
		func(c *config) { c.loginConns = 0 },
		func(c *config) { c.loginDuration = 0 },
		func(c *config) { c.hashN = 0 },
	} {
		c := good
		bad(&c)
		if c.validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		728 * time.Microsecond: "728 µs", 4640 * time.Microsecond: "4.64 ms",
		45100 * time.Microsecond: "45.1 ms", 130 * time.Millisecond: "130 ms",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
	for x, want := range map[float64]string{7: "7", 999.6: "1 000", 38061: "38 061", 1234567: "1 234 567"} {
		if got := fmtRate(x); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", x, got, want)
		}
	}
}
