package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/interop/middleware"
)

var keyPath = filepath.Join("..", "..", "testdata", "hs256.key")

// TestMain lets the test binary be the load test's server process, as the
// loadtest binary is when run.
func TestMain(m *testing.M) {
	if key, ok := os.LookupEnv(childEnv); ok {
		if err := serveChild(key, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest server process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestServers checks over loopback that every server answers a valid token
// with 200 and a missing token with 401 (unprotected ones: 200).
func TestServers(t *testing.T) {
	key, err := middleware.LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	impls, err := middleware.Impls(middleware.NewFixture(key))
	if err != nil {
		t.Fatal(err)
	}
	servers, stop, err := startServers(impls)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, s := range servers {
		t.Run(s.im.Name, func(t *testing.T) {
			status, body, err := probe(s.addr, s.im.Token)
			if err != nil || status != http.StatusOK || body != middleware.Body {
				t.Errorf("valid token: %d %q %v, want 200 %q", status, body, err, middleware.Body)
			}
			want := http.StatusOK
			if s.im.Protected() {
				want = http.StatusUnauthorized
			}
			if status, body, err := probe(s.addr, ""); err != nil || status != want {
				t.Errorf("no token: %d %q %v, want %d", status, body, err, want)
			}
			if err := checkServer(s); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRun runs the whole load test with tiny settings. It checks that
// every request was answered 200 and counted, not how fast.
func TestRun(t *testing.T) {
	t.Run("child", func(t *testing.T) { testRun(t, false) })
	t.Run("inprocess", func(t *testing.T) { testRun(t, true) })
}

func testRun(t *testing.T, inProcess bool) {
	const rounds, requests = 2, 150
	var out bytes.Buffer
	sums, err := run(config{rounds: rounds, requests: requests, conns: 4, warmup: 10 * time.Millisecond, key: keyPath, inProcess: inProcess}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(sums) != 8 {
		t.Fatalf("%d servers, want 8", len(sums))
	}
	for _, s := range sums {
		if len(s.runs) != rounds {
			t.Errorf("%s: %d runs, want %d", s.name, len(s.runs), rounds)
		}
		for i, r := range s.runs {
			if r.Completed != requests || r.Errors != 0 {
				t.Errorf("%s round %d: %d completed, %d errors (%v), want %d and 0", s.name, i+1, r.Completed, r.Errors, r.FirstErr, requests)
			}
			if r.P50 <= 0 || r.P99 < r.P50 {
				t.Errorf("%s round %d: p50 %v p99 %v", s.name, i+1, r.P50, r.P99)
			}
		}
		if (s.baseline != "") != (s.ratio > 0 && s.pairedRatio > 0) {
			t.Errorf("%s: baseline %q, ratios %v %v", s.name, s.baseline, s.ratio, s.pairedRatio)
		}
		if !strings.Contains(out.String(), "| "+s.name+" |") {
			t.Errorf("report has no row for %s:\n%s", s.name, out.String())
		}
	}
}

func TestValidate(t *testing.T) {
	good := config{rounds: 5, duration: 3 * time.Second, conns: 32, warmup: time.Second}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []config{
		{rounds: 0, duration: time.Second, conns: 1},
		{rounds: 1, duration: time.Hour, conns: 1},
		{rounds: 1, duration: time.Second, conns: 0},
		{rounds: 1, duration: time.Second, conns: 1, requests: -1},
		{rounds: 1, duration: time.Second, conns: 1, warmup: -1},
	} {
		if bad.validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
