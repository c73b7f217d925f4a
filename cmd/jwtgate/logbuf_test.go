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
