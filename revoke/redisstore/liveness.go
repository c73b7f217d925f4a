package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// DefaultBound is the default of Options.Bound.
const DefaultBound = time.Second

// liveness keeps the time the connections that deliver invalidations last
// proved alive, and says whether cached answers may still be trusted.
//
// Why a PING proves the cache: Redis answers the commands of one
// connection in order, and writes the invalidation of a tracked key to the
// tracking connection's output when the write executes. So when the reply
// to a PING sent at time t0 arrives, every invalidation for a write
// acknowledged (to anyone) before t0 has been written ahead of it, and
// rueidis has handed it to OnInvalidations: its read loop
// (pipe._backgroundRead in rueidis v1.0.79, pipe.go) calls handlePush,
// which runs OnInvalidations, synchronously for each push message before
// it reads the next message, and so before it delivers any later reply.
// Cached answers are then at least as new as t0, and are trusted while
// now - t0 <= bound.
type liveness struct {
	bound time.Duration
	base  time.Time    // monotonic origin of proven
	last  atomic.Int64 // when the last proving round was sent, ns since base; 0: never

	// topology is the Cluster's slot map at the last heartbeat round
	// (only the heartbeat uses it).
	topology string

	// ctx ends when the store closes, stopping the heartbeat at once.
	ctx  context.Context
	stop context.CancelFunc
	done sync.WaitGroup
}

func newLiveness(bound time.Duration) *liveness {
	ctx, stop := context.WithCancel(context.Background())
	return &liveness{bound: bound, base: time.Now(), ctx: ctx, stop: stop}
}

// now is the time since base, never 0.
func (l *liveness) now() int64 { return int64(time.Since(l.base)) + 1 }

// trusted reports whether the connections proved alive within the bound.
func (l *liveness) trusted() bool {
	last := l.last.Load()
	return last != 0 && l.now()-last <= int64(l.bound)
}

// proved records a successful round sent at sent.
func (l *liveness) proved(sent int64) {
	for {
		old := l.last.Load()
		if sent <= old || l.last.CompareAndSwap(old, sent) {
			return
		}
	}
}

// proveOnce runs one proving round, bounded by the bound.
func (s *Store) proveOnce() {
	ctx, cancel := context.WithTimeout(s.live.ctx, s.live.bound)
	defer cancel()
	sent := s.live.now()
	if err := s.prove(ctx); err == nil {
		s.live.proved(sent)
	}
}

// heartbeat proves the connections every bound/3 (with a timeout of the
// bound each time) until close. New has run the first round.
func (s *Store) heartbeat() {
	l := s.live
	defer l.done.Done()
	t := time.NewTicker(max(l.bound/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
			s.proveOnce()
		}
	}
}

// prove makes one uncached round trip on every connection that delivers
// invalidations: the one connection of a standalone or Sentinel client,
// the connection to every master of a Cluster.
func (s *Store) prove(ctx context.Context) error {
	if s.c.Mode() != rueidis.ClientModeCluster {
		return s.c.Do(ctx, s.c.B().Ping().Build()).Error()
	}
	starts, topology, err := s.slotRanges(ctx)
	if err != nil {
		return err
	}
	if topology != s.live.topology {
		// Slots moved (a failover): answers cached from a connection
		// that no longer serves their slots would hear of later writes
		// only through a connection the heartbeat does not prove.
		if s.live.topology != "" && s.local != nil {
			s.local.invalidate(nil)
		}
		s.live.topology = topology
	}
	return s.onRanges(ctx, starts, func(ctx context.Context, tag string) error {
		// A keyed read, routed by the client to the master of the slot,
		// on the connection that caches that slot's keys.
		return s.c.Do(ctx, s.c.B().Pttl().Key(s.prefix+"hb:{"+tag+"}").Build()).Error()
	})
}

// everyMaster runs f, concurrently, once for each slot range of the
// Cluster, with a hash tag that lands in the range: so on every master.
func (s *Store) everyMaster(ctx context.Context, f func(ctx context.Context, tag string) error) error {
	starts, _, err := s.slotRanges(ctx)
	if err != nil {
		return err
	}
	return s.onRanges(ctx, starts, f)
}

func (s *Store) onRanges(ctx context.Context, starts []uint16, f func(ctx context.Context, tag string) error) error {
	errs := make([]error, len(starts))
	var wg sync.WaitGroup
	for i, slot := range starts {
		wg.Go(func() { errs[i] = f(ctx, slotTag(slot)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// slotRanges returns the first slot of every slot range of the Cluster
// (CLUSTER SLOTS), at least one, and the slot map as text (ranges and
// their masters) to notice changes.
func (s *Store) slotRanges(ctx context.Context) ([]uint16, string, error) {
	ranges, err := s.c.Do(ctx, s.c.B().ClusterSlots().Build()).ToArray()
	if err != nil {
		return nil, "", fmt.Errorf("cluster slots: %w", err)
	}
	var starts []uint16
	var topology strings.Builder
	for _, r := range ranges {
		v, err := r.ToArray()
		if err != nil || len(v) < 3 {
			return nil, "", errors.New("cluster slots: unexpected answer")
		}
		start, err1 := v[0].AsInt64()
		end, err2 := v[1].AsInt64()
		if err1 != nil || err2 != nil || start < 0 || start >= slots {
			return nil, "", errors.New("cluster slots: unexpected slot")
		}
		master, err := v[2].ToArray()
		if err != nil || len(master) < 2 {
			return nil, "", errors.New("cluster slots: unexpected master")
		}
		host, _ := master[0].ToString()
		port, _ := master[1].AsInt64()
		fmt.Fprintf(&topology, "%d-%d@%s:%d ", start, end, host, port)
		starts = append(starts, uint16(start))
	}
	if len(starts) == 0 {
		return nil, "", errors.New("cluster slots: no slot is served")
	}
	return starts, topology.String(), nil
}

// slots is the number of Redis Cluster hash slots.
const slots = 16384

// slotTags[i] is a short string whose key slot is i: a hash tag that puts
// a key on the master of slot i. Filled once, on first use.
var slotTags = sync.OnceValue(func() []string {
	tags := make([]string, slots)
	left := slots
	for n := 0; left > 0; n++ {
		tag := strconv.Itoa(n)
		if i := keySlot(tag); tags[i] == "" {
			tags[i] = tag
			left--
		}
	}
	return tags
})

func slotTag(slot uint16) string { return slotTags()[slot%slots] }

// keySlot is the Redis Cluster hash slot of s (no hash tag in s):
// CRC16-CCITT (XMODEM) mod 16384.
func keySlot(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % slots
}
