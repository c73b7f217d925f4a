package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
)

// buildJwtgate builds cmd/jwtgate into dir. It runs in the current
// directory, which must be inside the workspace (/work/main or below).
func buildJwtgate(dir string) (string, error) {
	bin := filepath.Join(dir, "jwtgate")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/jwtgate/jwtgate/cmd/jwtgate")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build of cmd/jwtgate: %v\n%s", err, out)
	}
	return bin, nil
}

// service is a running "jwtgate serve". Its stderr (the slog text log,
// one line per request at the default level) goes to a file, so that
// reading it costs the load generator nothing.
type service struct {
	cmd      *exec.Cmd
	logPath  string
	addr     string
	password string // of "admin", logged on first start
	exited   chan struct{}
	exitErr  error
	stopOnce sync.Once
	stopErr  error
}

// startService starts bin serve on 127.0.0.1:0 with a new data directory
// in dir, and waits for its address and admin password in its log.
func startService(bin, dir string, extra []string) (*service, error) {
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}, extra...)
	s := &service{cmd: exec.Command(bin, args...), logPath: logPath, exited: make(chan struct{})}
	// Its defaults, whatever this environment says: JWTGATE_* variables
	// would set flags (a database URL, Redis, a config file).
	s.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "JWTGATE_") })
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exitErr = s.cmd.Wait(); close(s.exited) }()

	const startTimeout = 2 * time.Minute // a generous safety net only
	deadline := time.Now().Add(startTimeout)
	for {
		data, err := os.ReadFile(logPath)
		if err != nil {
			s.stop()
			return nil, err
		}
		for line := range strings.Lines(string(data)) {
			if v, _ := logValue(line, "password"); v != "" && s.password == "" {
				s.password = v
			}
			if msg, _ := logValue(line, "msg"); msg == "listening" && s.addr == "" {
				s.addr, _ = logValue(line, "addr")
			}
		}
		if s.addr != "" && s.password != "" {
			break
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("jwtgate serve exited (%v) before it listened; its log:\n%s", s.exitErr, data)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("jwtgate serve logged no address and admin password in %v; its log:\n%s", startTimeout, data)
		}
	}
	if !strings.HasPrefix(s.addr, "127.0.0.1:") {
		s.stop()
		return nil, fmt.Errorf("jwtgate serve listens on %q, want 127.0.0.1", s.addr)
	}
	return s, nil
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 40 s: the
// service's own shutdown timeout is 30 s). It reports an unclean exit.
func (s *service) stop() error {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if s.exitErr != nil {
				s.stopErr = fmt.Errorf("jwtgate serve after SIGTERM: %v", s.exitErr)
			}
		case <-time.After(40 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = errors.New("jwtgate serve did not stop within 40 s of SIGTERM; killed")
		}
	})
	return s.stopErr
}

// logTail returns the end of the service's log, for error messages.
func (s *service) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// logValue returns the value of key in a log/slog text line (key=value,
// value quoted when it has spaces).
func logValue(line, key string) (string, bool) {
	line = strings.TrimRight(line, "\r\n")
	for i := 0; ; {
		j := strings.Index(line[i:], key+"=")
		if j < 0 {
			return "", false
		}
		j += i
		if j > 0 && line[j-1] != ' ' {
			i = j + 1
			continue
		}
		rest := line[j+len(key)+1:]
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return "", false
			}
			v, err := strconv.Unquote(q)
			return v, err == nil
		}
		v, _, _ := strings.Cut(rest, " ")
		return v, true
	}
}

// response is what the baseline serves: the service's /userinfo response.
type response struct {
	Header http.Header `json:"header"` // without Date and Content-Length
	Body   []byte      `json:"body"`
}

// The baseline runs in a child process, this binary re-executed with
// baselineEnv set to a file holding a response (JSON). The child serves it
// at GET /userinfo, writes its address as one line to stdout, and exits
// when its stdin closes, that is when the parent is done or gone.
const baselineEnv = "JWTGATE_SERVETEST_BASELINE"

// The baseline's http.Server has the limits "jwtgate serve" sets (see
// cmd/jwtgate/serve.go), so that only the handlers differ.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

func serveBaseline(specPath string, in io.Reader, out io.Writer) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var resp response
	if err := json.Unmarshal(data, &resp); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range resp.Header {
			h[k] = v
		}
		w.WriteHeader(http.StatusOK)
		w.Write(resp.Body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := newHTTPServer(mux)
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	if _, err := fmt.Fprintln(out, ln.Addr().String()); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, in)
	return err
}

// baseline is the running baseline child.
type baseline struct {
	addr string
	stop func()
}

func startBaseline(dir string, resp response) (*baseline, error) {
	spec, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	specPath := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(specPath, spec, 0o600); err != nil {
		return nil, err
	}
	child, err := loadgen.StartChild(baselineEnv, specPath)
	if err != nil {
		return nil, err
	}
	stop := child.Stop
	line, err := bufio.NewReader(child.Stdout).ReadString('\n')
	addr := strings.TrimSpace(line)
	if err != nil || !strings.HasPrefix(addr, "127.0.0.1:") {
		stop()
		return nil, fmt.Errorf("baseline process said %q: %v", line, err)
	}
	return &baseline{addr: addr, stop: stop}, nil
}

// fetch sends one request with net/http's client and returns the
// response with its body read.
func fetch(method, url string, header http.Header, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = header
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, loadgen.MaxBody))
	return resp, b, err
}
