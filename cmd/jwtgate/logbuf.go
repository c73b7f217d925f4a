package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushEvery is how late a buffered log line of serve may be written.
const logFlushEvery = 100 * time.Millisecond

// batchedLog writes log lines to w in batches: Info and Debug lines (one
// per request) wait in a 64 KiB buffer for at most logFlushEvery, so that
// a busy server makes one write per batch instead of one per request;
// Warn and Error lines are written at once, with everything before them.
type batchedLog struct {
	mu  sync.Mutex
	buf *bufio.Writer

	stop chan struct{}
	done chan struct{}
}

func newBatchedLog(w io.Writer) *batchedLog {
	b := &batchedLog{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *batchedLog) loop() {
	defer close(b.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.Flush()
		}
	}
}

// Write implements io.Writer. slog handlers write one whole line per call.
func (b *batchedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Flush writes the buffered lines.
func (b *batchedLog) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Flush()
}

// Close stops the periodic flushes and writes what is left.
func (b *batchedLog) Close() error {
	close(b.stop)
	<-b.done
	return b.Flush()
}

// flushingHandler flushes the batched log after each record of level
// Warn or above.
type flushingHandler struct {
	slog.Handler
	out *batchedLog
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.out.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.out}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.out}
}
