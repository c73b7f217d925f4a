package main

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBatchedLog(t *testing.T) {
	var w lockedBuffer
	out := newBatchedLog(&w)
	log := slog.New(flushingHandler{slog.NewTextHandler(out, nil), out}).With("svc", "x")
	log.Info("first")
	if w.String() != "" && !strings.Contains(w.String(), "first") {
		t.Fatalf("partial line written: %q", w.String())
	}
	// A warning is written at once, with the lines before it.
	log.Warn("second")
	if s := w.String(); !strings.Contains(s, "msg=first") || !strings.Contains(s, "msg=second svc=x") {
		t.Fatalf("after a warning: %q", s)
	}
	// An info line reaches the output within a few flush periods.
	log.Info("third")
	for i := 0; !strings.Contains(w.String(), "msg=third"); i++ {
		if i == 500 {
			t.Fatal("an info line was never flushed")
		}
		time.Sleep(logFlushEvery / 10)
	}
	log.WithGroup("g").Info("fourth", "k", 1)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if s := w.String(); !strings.Contains(s, "g.k=1") || strings.Count(s, "\n") != 4 {
		t.Fatalf("after Close: %q", s)
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.0/8, 192.0.2.1 ,::1,::ffff:198.51.100.7,")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if strings.Join(s, " ") != "10.0.0.0/8 192.0.2.1/32 ::1/128 198.51.100.7/32" {
		t.Fatalf("parsePrefixes = %v", s)
	}
	for _, bad := range []string{"10.0.0.1/8", "nope", "10.0.0.0/33", "1.2.3"} {
		if _, err := parsePrefixes(bad); err == nil {
			t.Errorf("parsePrefixes(%q) accepted", bad)
		}
	}
}
