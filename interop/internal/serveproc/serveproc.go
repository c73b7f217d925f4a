// Package serveproc builds the jwtgate command and runs "jwtgate serve"
// as a real process on a loopback port, for the tests and load tests of
// package interop that talk to it as any client would (OAuth 2 client
// libraries in Go, Node and Python), and runs its other commands
// ("jwtgate clients add") against the same stores.
package serveproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build builds cmd/jwtgate into dir and returns the binary's path. It
// runs in the current directory, which must be inside the workspace.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "jwtgate")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/jwtgate/jwtgate/cmd/jwtgate")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build of cmd/jwtgate: %v\n%s", err, out)
	}
	return bin, nil
}

// Env is the environment of the processes: this one's without JWTGATE_*
// variables (they would set flags: a database URL, Redis, a config file),
// plus extra ("NAME=value").
func Env(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "JWTGATE_") })
	return append(env, extra...)
}

// Run runs bin with args (a command other than serve, such as "clients
// add") in env (nil: Env()) and returns its standard output, or an error
// with its standard error when it exits non-zero.
func Run(bin string, env []string, args ...string) (string, error) {
	return RunInput(bin, env, "", args...)
}

// RunInput is Run with stdin as the command's standard input (a password
// for "users add").
func RunInput(bin string, env []string, stdin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if env == nil {
		env = Env()
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("jwtgate %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// Field returns the value of the line "name: value" in a command's
// output ("client_id: ..." from "jwtgate clients add").
func Field(out, name string) string {
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+": "); ok {
			return v
		}
	}
	return ""
}

// Service is a running "jwtgate serve". Its log (slog text) goes to a
// file, so that reading it costs the clients nothing.
type Service struct {
	// Addr is the address it listens on, 127.0.0.1:PORT.
	Addr string
	// URL is http://Addr, its issuer unless --issuer was given.
	URL string
	// Password is the first-start password of "admin", when this start
	// created the data directory.
	Password string

	cmd      *exec.Cmd
	logPath  string
	exited   chan struct{}
	exitErr  error
	stopOnce sync.Once
	stopErr  error
}

// Start starts "bin serve --addr 127.0.0.1:0" with args in env (nil:
// Env()), its log in logPath, and waits until it logs the address it
// listens on.
func Start(bin string, env []string, logPath string, args ...string) (*Service, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s := &Service{
		cmd:     exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...),
		logPath: logPath,
		exited:  make(chan struct{}),
	}
	if env == nil {
		env = Env()
	}
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exitErr = s.cmd.Wait(); close(s.exited) }()

	const startTimeout = 2 * time.Minute // a generous safety net only
	deadline := time.Now().Add(startTimeout)
	for s.Addr == "" {
		data, err := os.ReadFile(logPath)
		if err != nil {
			_ = s.Stop()
			return nil, err
		}
		for line := range strings.Lines(string(data)) {
			if v, _ := LogValue(line, "password"); v != "" && s.Password == "" {
				s.Password = v
			}
			if msg, _ := LogValue(line, "msg"); msg == "listening" {
				s.Addr, _ = LogValue(line, "addr")
			}
		}
		if s.Addr != "" {
			break
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("jwtgate serve exited (%v) before it listened; its log:\n%s", s.exitErr, data)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return nil, fmt.Errorf("jwtgate serve logged no address in %v; its log:\n%s", startTimeout, data)
		}
	}
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		_ = s.Stop()
		return nil, fmt.Errorf("jwtgate serve listens on %q, want 127.0.0.1", s.Addr)
	}
	s.URL = "http://" + s.Addr
	return s, nil
}

// Stop sends SIGTERM and waits for the exit (SIGKILL after 40 s: the
// service's own shutdown timeout is 30 s). It reports an unclean exit.
// Calling it again returns the first answer.
func (s *Service) Stop() error {
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

// LogTail returns the end of the service's log, for error messages.
func (s *Service) LogTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// LogValue returns the value of key in a log/slog text line (key=value,
// value quoted when it has spaces).
func LogValue(line, key string) (string, bool) {
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
