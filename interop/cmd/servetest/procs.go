package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/interop/internal/loadgen"
	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
)

// startService starts bin serve on 127.0.0.1:0 with a new data directory
// in dir and extra flags, its log in dir, and waits for its address and
// the admin password of the first start in its log.
func startService(bin, dir string, extra []string) (*serveproc.Service, error) {
	args := append([]string{"--data-dir", filepath.Join(dir, "data")}, extra...)
	s, err := serveproc.Start(bin, nil, filepath.Join(dir, "serve.log"), args...)
	if err != nil {
		return nil, err
	}
	if s.Password == "" {
		_ = s.Stop()
		return nil, fmt.Errorf("jwtgate serve logged no admin password; its log:\n%s", s.LogTail())
	}
	return s, nil
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
