package redisstore

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/redis/rueidis"
)

// localCache holds answers read from Redis while Redis tracks their keys
// for this client: an entry lives until Redis says its key changed (or the
// connection drops, which rueidis reports as a nil invalidation).
//
// A read that raced with an invalidation must not be stored: readers take
// the epoch before asking Redis, and store only if no invalidation came in
// between.
type localCache struct {
	prefixJ, prefixS string
	max              int
	epoch            atomic.Uint64

	mu   sync.RWMutex
	jtis map[string]bool  // jti -> revoked
	subs map[string]int64 // subject -> cutoff (Unix ms), 0: none
}

func newLocalCache(max int, prefix string) *localCache {
	return &localCache{
		prefixJ: prefix + "j:", prefixS: prefix + "s:", max: max,
		jtis: make(map[string]bool), subs: make(map[string]int64),
	}
}

func (l *localCache) check(jti, subject string, issuedAt time.Time) (revoked, ok bool) {
	l.mu.RLock()
	r, okJ := l.jtis[jti]
	c, okS := l.subs[subject]
	l.mu.RUnlock()
	if okJ && r {
		return true, true
	}
	if !okJ || !okS {
		return false, false
	}
	if c == 0 {
		return false, true
	}
	return revoke.CutoffRevokes(time.UnixMilli(c), issuedAt), true
}

func (l *localCache) store(epoch uint64, jti string, revoked bool, subject string, cutoff time.Time) {
	var c int64
	if !cutoff.IsZero() {
		c = cutoff.UnixMilli()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch.Load() != epoch {
		return
	}
	if len(l.jtis) >= l.max || len(l.subs) >= l.max {
		l.jtis, l.subs = make(map[string]bool), make(map[string]int64)
	}
	l.jtis[jti] = revoked
	l.subs[subject] = c
}

// invalidate handles Redis's invalidation messages; nil means everything.
func (l *localCache) invalidate(keys []rueidis.RedisMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.epoch.Add(1)
	if keys == nil {
		l.jtis, l.subs = make(map[string]bool), make(map[string]int64)
		return
	}
	for _, k := range keys {
		key, err := k.ToString()
		if err != nil {
			// Unreadable: forget everything rather than keep a stale answer.
			l.jtis, l.subs = make(map[string]bool), make(map[string]int64)
			return
		}
		l.dropLocked(key)
	}
}

func (l *localCache) drop(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.epoch.Add(1)
	l.dropLocked(key)
	l.mu.Unlock()
}

func (l *localCache) dropLocked(key string) {
	if jti, ok := strings.CutPrefix(key, l.prefixJ); ok {
		delete(l.jtis, jti)
	} else if sub, ok := strings.CutPrefix(key, l.prefixS); ok {
		delete(l.subs, sub)
	}
}
