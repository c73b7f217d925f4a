package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBuiltByGoRun(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		want bool
	}{
		{"/tmp/go-build521416170/b001/exe/jwtgate", true},
		{"/root/.cache/go-build/c3/c3cb9f4dd7621e1b62c3043342784c3bffad6cb06b593691707f881be2b7b9c7-d/jwtgate", true},
		{"/usr/local/bin/jwtgate", false},
		{"/home/me/go/bin/jwtgate", false},
		{"/srv/go-builder/jwtgate", true}, // a look-alike: watching the parent costs a daemon nothing
		{"/home/me/jwtgate/jwtgate", false},
	} {
		if got := builtByGoRun(tc.exe); got != tc.want {
			t.Errorf("builtByGoRun(%q) = %v, want %v", tc.exe, got, tc.want)
		}
	}
}

// TestGoRunStopped runs "go run . serve" for real, in a process group of
// its own, and sends SIGTERM to the go command alone (which does not pass
// it on): the server notices and shuts down gracefully, leaving nothing
// behind.
func TestGoRunStopped(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	cmd := exec.Command(goCmd, "run", ".", "serve", "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(t.TempDir(), "data"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The go command killed leaves its work directory (go-build*, where
	// the program is) behind: in the test's own.
	cmd.Env = append(os.Environ(), "GOTMPDIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGKILL) // whatever is left of the group
		cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// go run compiles first (about a minute on a cold cache): a generous
	// deadline for what must happen.
	deadline := time.After(5 * time.Minute)
	var logs strings.Builder
	addr := ""
	for addr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("go run ended before listening:\n%s", logs.String())
			}
			logs.WriteString(line + "\n")
			if strings.Contains(line, "msg=listening") {
				addr = logField(line, "addr")
			}
		case <-deadline:
			t.Fatalf("no listening line:\n%s", logs.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The server's stderr ends when it exits.
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				done = true
				break
			}
			logs.WriteString(line + "\n")
		case <-deadline:
			t.Fatalf("the server is still running after the go command was stopped:\n%s", logs.String())
		}
	}
	for _, want := range []string{"the go command that started this server has exited", "msg=\"shutting down\"", "msg=stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("no %q in the log:\n%s", want, logs.String())
		}
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
}
