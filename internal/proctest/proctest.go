// Package proctest runs a program of the project (an example, jwtgate
// serve) as a real process for its tests: Build compiles it, Start runs it
// on a free port and waits until it answers, Do talks to it over HTTP, and
// Stop, Signal and Kill end it.
//
// Nothing here measures time: the program reports the address it bound
// (a "listening" log line), and readiness is polled a bounded number of
// times.
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Build compiles the main package in the test's working directory (the
// example's own directory) and returns the path of the program. Under
// go test -race the program is built with the race detector as well, and
// a race it reports makes its exit status non-zero, which fails the test.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "example")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Proc is a running example program.
type Proc struct {
	URL    string // http://host:port
	Addr   string // host:port
	cmd    *exec.Cmd
	logs   *syncBuffer
	waited chan struct{}
	err    error
	ended  atomic.Bool // the test ended it (Stop, Signal, Kill)
}

// Done is closed when the program has exited.
func (p *Proc) Done() <-chan struct{} { return p.waited }

// Err is the program's exit error once Done is closed.
func (p *Proc) Err() error { return p.err }

// Signal sends sig to the program; the test then owns its end (the
// cleanup no longer stops it).
func (p *Proc) Signal(sig os.Signal) error {
	p.ended.Store(true)
	return p.cmd.Process.Signal(sig)
}

// Kill kills the program (SIGKILL: no shutdown at all) and waits for it.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	p.ended.Store(true)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.waited
}

// Stop sends SIGTERM and fails the test unless the program then exits
// cleanly after logging its graceful shutdown ("msg=stopped").
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.waited:
		t.Fatalf("the program had exited: %v\n%s", p.err, p.Logs())
	default:
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal: %v", err)
	}
	<-p.waited // go test's -timeout catches a program that never stops
	if p.err != nil || !strings.Contains(p.Logs(), "msg=stopped") {
		t.Fatalf("the program did not shut down cleanly: %v\n%s", p.err, p.Logs())
	}
}

// Logs returns what the program has written to standard error so far.
func (p *Proc) Logs() string { return p.logs.String() }

// Start runs bin with args (which should include "-addr 127.0.0.1:0") and
// env added to the test's environment, waits for its "listening" log line,
// then polls it until it answers. The program is stopped with SIGTERM when
// the test ends, and must then exit cleanly (graceful shutdown).
func Start(t testing.TB, bin string, env []string, args ...string) *Proc {
	t.Helper()
	p := Listen(t, bin, env, args...)

	// The listener is bound before the line is logged, so the first
	// attempt normally answers; the loop is a bounded safety net.
	c := &http.Client{}
	for attempt := 0; ; attempt++ {
		resp, err := c.Get(p.URL + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if attempt == 50 {
			t.Fatalf("%s does not answer: %v\n%s", p.URL, err, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// Listen is Start for programs that do not answer HTTP/1.1 (a gRPC
// server): it runs bin and waits for its "listening" log line, which the
// program logs once its listener is bound, without polling it. The
// program is stopped with SIGTERM when the test ends, and must then exit
// cleanly.
func Listen(t testing.TB, bin string, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(filteredEnv(env), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, logs: &syncBuffer{}, waited: make(chan struct{})}
	addrCh := make(chan string, 1)
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			if !sent && strings.Contains(line, "msg=listening") {
				if a := field(line, "addr"); a != "" {
					addrCh <- a
					sent = true
				}
			}
		}
		if !sent {
			close(addrCh)
		}
	}()
	go func() {
		<-scanDone // Wait must not run before the pipe is drained
		p.err = cmd.Wait()
		close(p.waited)
	}()
	addr, ok := <-addrCh
	if !ok {
		<-p.waited
		t.Fatalf("%s exited before listening: %v\n%s", filepath.Base(bin), p.err, p.Logs())
	}
	p.Addr = addr
	p.URL = "http://" + addr
	t.Cleanup(func() { p.cleanup(t) })
	return p
}

// cleanup stops the program when the test ends, unless the test ended it.
func (p *Proc) cleanup(t testing.TB) {
	if p.ended.Load() {
		select {
		case <-p.waited:
		default:
			p.cmd.Process.Kill()
			<-p.waited
		}
		return
	}
	select {
	case <-p.waited:
		t.Errorf("the program exited during the test: %v\n%s", p.err, p.Logs())
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("signal: %v", err)
	}
	<-p.waited
	if p.err != nil {
		t.Errorf("the program did not shut down cleanly: %v\n%s", p.err, p.Logs())
	}
	if !strings.Contains(p.Logs(), "msg=stopped") {
		t.Errorf("no graceful shutdown logged:\n%s", p.Logs())
	}
}

// RunToExit runs bin to completion and returns its exit code, standard
// output and standard error (for the refuse-to-start cases and helpers).
func RunToExit(t testing.TB, bin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(filteredEnv(env), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		return ee.ExitCode(), o.String(), e.String()
	}
	return 0, o.String(), e.String()
}

// filteredEnv is the test's environment without the variables env sets,
// so that a variable can also be removed by setting it to "".
func filteredEnv(env []string) []string {
	drop := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return out
}

// field returns the value of key=value in a slog text line.
func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) WriteString(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(v)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Request is one HTTP request to an example.
type Request struct {
	Method  string            // GET by default
	Path    string            // with the query string
	Header  map[string]string // e.g. Authorization
	Cookies []*http.Cookie
	Body    string // sent as is
	JSON    any    // if set, marshalled and sent as application/json
}

// Response is what came back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Cookies returns the cookies the response sets.
func (r Response) Cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// Cookie returns the cookie named name that the response sets, or nil.
func (r Response) Cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Object decodes a JSON object body.
func (r Response) Object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, r.Body)
	}
	return m
}

// Do sends req to the program.
func (p *Proc) Do(t testing.TB, req Request) Response {
	t.Helper()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	ctype := ""
	switch {
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			t.Fatal(err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case req.Body != "":
		body = strings.NewReader(req.Body)
	}
	r, err := http.NewRequest(method, p.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for k, v := range req.Header {
		r.Header.Set(k, v)
	}
	for _, c := range req.Cookies {
		r.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
