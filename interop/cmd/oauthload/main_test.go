package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
)

// TestRun builds jwtgate and runs the load test on the embedded store with
// tiny settings: every setup check passes (a replayed assertion refused
// among them), every request of every target is answered 200 and counted,
// and the report has its lines; not how fast anything was.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs jwtgate serve")
	}
	bin, err := serveproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := config{
		bin: bin, stores: []string{"embedded"}, rounds: 1, duration: 200 * time.Millisecond, warmup: 50 * time.Millisecond,
		conns: 4, loginConns: 1, assertions: 100,
	}
	var progress bytes.Buffer
	c.progress = &progress
	res, err := run(c)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(res) != len(targets) {
		t.Fatalf("%d results, want %d", len(res), len(targets))
	}
	for _, r := range res {
		if len(r.runs) != 1 || r.runs[0].Errors != 0 || r.runs[0].Completed == 0 {
			t.Errorf("%s %s: %+v; want one run with completed requests and no error", r.store, r.target, r.runs)
		}
		if r.target == "private_key_jwt" && r.runs[0].Completed > c.assertions {
			t.Errorf("private_key_jwt: %d requests completed with %d assertions", r.runs[0].Completed, c.assertions)
		}
	}
	var out bytes.Buffer
	report(&out, c, res)
	for _, want := range []string{
		"command: cd interop && go run ./cmd/oauthload -rounds 1 -duration 200ms -warmup 50ms -conns 4 -login-conns 1 -stores embedded -assertions 100",
		"embedded  basic ", "embedded  private_key_jwt ", "embedded  introspect ", "embedded  login ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestValidate(t *testing.T) {
	good := config{stores: []string{"embedded", "postgres"}, rounds: 5, duration: 3 * time.Second, warmup: time.Second, conns: 16, loginConns: 2, assertions: 30000}
	if err := good.validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, change := range map[string]func(*config){
		"rounds 0":       func(c *config) { c.rounds = 0 },
		"duration 1ms":   func(c *config) { c.duration = time.Millisecond },
		"warmup -1s":     func(c *config) { c.warmup = -time.Second },
		"conns 0":        func(c *config) { c.conns = 0 },
		"login-conns 99": func(c *config) { c.loginConns = 99 },
		"assertions 0":   func(c *config) { c.assertions = 0 },
		"no store":       func(c *config) { c.stores = nil },
		"unknown store":  func(c *config) { c.stores = []string{"embedded", "redis"} },
	} {
		c := good
		change(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
