package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// SQLite takes one writer at a time, and a commit with synchronous=FULL
// waits for the disk. Single-use ids arrive with every client assertion
// (and DPoP proof): one commit each would bound them by the disk's
// flushes, and writers waiting for the lock in SQLite's busy handler
// (which sleeps, longer and longer) would see their latency spread to
// seconds under load. So on SQLite the store's Use calls go through a
// group commit: the calls that arrive while a transaction is being
// written wait in process, in order, and the next transaction records
// them all (up to maxUseBatch), each with the same statement and answer
// as alone.

// maxUseBatch bounds the ids recorded in one SQLite transaction.
const maxUseBatch = 256

// useBatchTimeout bounds one group transaction, whatever the callers'
// contexts (a caller that gives up does not cancel the others' writes).
const useBatchTimeout = 10 * time.Second

// useReq is one Use call waiting for its group.
type useReq struct {
	ctx        context.Context // the caller's
	id         string
	until, now int64
	first      bool  // the answer, set before done is closed
	err        error // the answer, set before done is closed
	done       chan struct{}
}

// useBatcher runs the group commits of one store.
type useBatcher struct {
	s       *Store
	mu      sync.Mutex
	pending []*useReq
	running bool // a goroutine is writing groups
}

// use queues r and waits for its answer or the end of ctx. A caller that
// gives up may still have its id recorded: it gets an error, and the id
// counts as used (failing closed).
func (b *useBatcher) use(ctx context.Context, r *useReq) (bool, error) {
	r.done = make(chan struct{})
	r.ctx = ctx
	b.mu.Lock()
	b.pending = append(b.pending, r)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-r.done:
		return r.first, r.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// run writes groups until none is pending.
func (b *useBatcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxUseBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		group := b.pending[:n:n]
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil
		}
		b.mu.Unlock()
		b.write(group)
	}
}

// write records a group in one transaction and answers its callers. A
// caller whose context has ended is left out (its answer is an error
// already). On any failure every caller of the group gets the error:
// nothing was committed.
func (b *useBatcher) write(group []*useReq) {
	live := group[:0:0]
	for _, r := range group {
		if r.ctx.Err() == nil {
			live = append(live, r)
		} else {
			close(r.done)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), useBatchTimeout)
	defer cancel()
	firsts := make([]bool, len(live))
	err := b.s.inTx(ctx, func(tx execer) error {
		for i, r := range live {
			res, err := tx.ExecContext(ctx, b.s.q.use, r.id, r.until, r.now)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n > 1 {
				return fmt.Errorf("%d rows changed by one insert", n)
			}
			firsts[i] = n == 1
		}
		return nil
	})
	for i, r := range live {
		if err != nil {
			r.err = fmt.Errorf("sqlstore: use: %w", err)
		} else {
			r.first = firsts[i]
		}
		close(r.done)
	}
}
