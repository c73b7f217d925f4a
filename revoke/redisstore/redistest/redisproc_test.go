package redistest

import (
	"strings"
	"syscall"
	"testing"
)

// TestStartRedis starts a redis-server of the test's own and talks to it
// with Command: replies of each kind, errors, and a freeze.
func TestStartRedis(t *testing.T) {
	r := StartRedis(t)
	for _, tc := range []struct {
		words []string
		want  string
		err   string
	}{
		{[]string{"PING"}, "PONG", ""},
		{[]string{"SET", "k", "a b\r\nc"}, "OK", ""},
		{[]string{"GET", "k"}, "a b\r\nc", ""},
		{[]string{"GET", "missing"}, "", ""},
		{[]string{"INCR", "n"}, "1", ""},
		{[]string{"RPUSH", "l", "x", "y"}, "2", ""},
		{[]string{"LRANGE", "l", "0", "-1"}, "x\ny", ""},
		{[]string{"INCR", "k"}, "", "not an integer"},
		{[]string{"NOSUCHCOMMAND"}, "", "unknown command"},
	} {
		got, err := r.Command(tc.words...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %q, %v; want an error %q", tc.words, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.words, got, err, tc.want)
		}
	}
	if role := r.Role(); role != "master" {
		t.Errorf("Role = %q", role)
	}
	if err := r.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Command("PING"); err == nil {
		t.Error("a frozen server answered PING")
	}
	if err := r.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Command("PING"); err != nil || got != "PONG" {
		t.Errorf("PING after SIGCONT = %q, %v", got, err)
	}
	r.Kill()
	if _, err := r.Command("PING"); err == nil {
		t.Error("a killed server answered PING")
	}
}
