package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
	"github.com/jwtgate/jwtgate/interop/middleware"
)

// server is one running server under test.
type server struct {
	im   middleware.Impl
	addr string
	req  []byte // the request the load generator sends it
}

// rawRequest is the request the load generator sends: GET / with
// "Authorization: Bearer <token>" (no Authorization header for an empty
// token), keep-alive.
func rawRequest(addr, token string) []byte {
	headers := []string{"User-Agent: jwtgate-loadtest", "Accept: application/json"}
	if token != "" {
		headers = append(headers, "Authorization: Bearer "+token)
	}
	return loadgen.RawRequest("GET", addr, "/", headers, nil)
}

// probe sends rawRequest(addr, token) on a new connection and returns the
// status and body; it is how the setup of every server is checked.
func probe(addr, token string) (int, string, error) {
	status, body, err := loadgen.Probe(addr, rawRequest(addr, token), 10*time.Second)
	return status, string(body), err
}

// checkServer proves the server's setup over the network.
func checkServer(s *server) error {
	return s.im.Check(func(token string) (int, string, error) { return probe(s.addr, token) })
}

// fleet is the running servers, in the order of middleware.Impls.
type fleet struct {
	servers []*server
	gc      func() error // collects garbage where the servers run
	stop    func()
}

// startFleet starts the servers in a child process (by default) or in this
// process.
func startFleet(impls []middleware.Impl, keyPath string, inProcess bool) (*fleet, error) {
	if inProcess {
		servers, stop, err := startServers(impls)
		if err != nil {
			return nil, err
		}
		return &fleet{servers: servers, stop: stop, gc: func() error { runtime.GC(); return nil }}, nil
	}
	return startChild(impls, keyPath)
}

// startServers starts every Impl's Routed handler, each in its own
// http.Server on 127.0.0.1:0. stop closes them all.
func startServers(impls []middleware.Impl) (servers []*server, stop func(), err error) {
	var hs []*http.Server
	stop = func() {
		for _, h := range hs {
			h.Close()
		}
	}
	for _, im := range impls {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		h := &http.Server{
			Handler:           im.Routed,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       time.Minute,
			ErrorLog:          log.New(io.Discard, "", 0),
		}
		hs = append(hs, h)
		addr := ln.Addr().String()
		servers = append(servers, &server{im: im, addr: addr, req: rawRequest(addr, im.Token)})
		go func() { _ = h.Serve(ln) }()
	}
	return servers, stop, nil
}

// The child process: the load test re-executes its own binary with childEnv
// set to the key's path. The child starts the servers, writes one JSON line
// (the servers' names and addresses) to stdout, then answers each "gc" line
// on stdin with runtime.GC() and "ok". It exits when stdin closes, that is
// when the parent is done or gone.
const childEnv = "JWTGATE_LOADTEST_SERVE_KEY"

type childAddr struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
}

func serveChild(keyPath string, in io.Reader, out io.Writer) error {
	key, err := middleware.LoadKey(keyPath)
	if err != nil {
		return err
	}
	impls, err := middleware.Impls(middleware.NewFixture(key))
	if err != nil {
		return err
	}
	servers, stop, err := startServers(impls)
	if err != nil {
		return err
	}
	defer stop()
	addrs := make([]childAddr, len(servers))
	for i, s := range servers {
		addrs[i] = childAddr{s.im.Name, s.addr}
	}
	if err := json.NewEncoder(out).Encode(addrs); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "gc" {
			return fmt.Errorf("unexpected command %q", sc.Text())
		}
		runtime.GC()
		if _, err := io.WriteString(out, "ok\n"); err != nil {
			return err
		}
	}
	return sc.Err()
}

// startChild starts the child process and waits for its addresses.
func startChild(impls []middleware.Impl, keyPath string) (*fleet, error) {
	abs, err := filepath.Abs(keyPath)
	if err != nil {
		return nil, err
	}
	child, err := loadgen.StartChild(childEnv, abs)
	if err != nil {
		return nil, err
	}
	// stop ends the child and waits for it (it closes the child's stdout,
	// so it runs only after the last read).
	stop := child.Stop
	br := bufio.NewReader(child.Stdout)
	line, err := br.ReadBytes('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("server process: %w", err)
	}
	var addrs []childAddr
	if err := json.Unmarshal(line, &addrs); err != nil {
		stop()
		return nil, fmt.Errorf("server process said %q: %w", line, err)
	}
	if len(addrs) != len(impls) {
		stop()
		return nil, fmt.Errorf("server process started %d servers, want %d", len(addrs), len(impls))
	}
	servers := make([]*server, len(impls))
	for i, im := range impls {
		a := addrs[i]
		if a.Name != im.Name || !strings.HasPrefix(a.Addr, "127.0.0.1:") {
			stop()
			return nil, fmt.Errorf("server process: server %d is %s at %s, want %s on 127.0.0.1", i, a.Name, a.Addr, im.Name)
		}
		servers[i] = &server{im: im, addr: a.Addr, req: rawRequest(a.Addr, im.Token)}
	}
	gc := func() error {
		runtime.GC() // the load generator's own garbage
		if _, err := io.WriteString(child.Stdin, "gc\n"); err != nil {
			return fmt.Errorf("server process: %w", err)
		}
		reply, err := br.ReadString('\n')
		if err != nil || reply != "ok\n" {
			return errors.Join(fmt.Errorf("server process answered %q to gc", reply), err)
		}
		return nil
	}
	return &fleet{servers: servers, gc: gc, stop: stop}, nil
}
