package redisstore

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
)

// localCache holds answers read from Redis while Redis tracks their keys
// for this client: an entry lives until Redis says its key changed (or the
// connection drops, which rueidis reports as a nil invalidation).
//
// A read that raced with an invalidation must not be stored: readers take
// the epoch before asking Redis, and store only if no invalidation came in
// between.
type localCache struct {
	prefixJ, prefixS, prefixF string
	max                       int
	epoch                     atomic.Uint64

	mu   sync.RWMutex
	jtis map[string]bool  // jti -> revoked
	subs map[string]int64 // subject -> cutoff (Unix ms), noCutoff: none
	fams map[string]bool  // family -> revoked
}

// noCutoff marks a subject without a cutoff in localCache.subs: a cutoff
// may be any millisecond, 1970's first (0) and earlier ones included.
const noCutoff = math.MinInt64

// answer is what Redis said about a token's keys.
type answer struct {
	jti, family bool
	cutoff      time.Time
}

func (a answer) revokes(issuedAt time.Time) bool {
	return a.jti || a.family || revoke.CutoffRevokes(a.cutoff, issuedAt)
}

func newLocalCache(max int, prefix string) *localCache {
	l := &localCache{prefixJ: prefix + "j:", prefixS: prefix + "s:", prefixF: prefix + "f:", max: max}
	l.resetLocked()
	return l
}

func (l *localCache) resetLocked() {
	l.jtis, l.subs, l.fams = make(map[string]bool), make(map[string]int64), make(map[string]bool)
}

// check answers q if the map holds every key q needs (ok true).
func (l *localCache) check(q revoke.Query) (revoked, ok bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	r, ok := l.jtis[q.JTI]
	if !ok {
		return false, false
	}
	if r {
		return true, true
	}
	if q.Family != "" {
		r, ok := l.fams[q.Family]
		if !ok {
			return false, false
		}
		if r {
			return true, true
		}
	}
	if q.Subject == "" {
		return false, true
	}
	c, ok := l.subs[q.Subject]
	if !ok {
		return false, false
	}
	if c == noCutoff {
		return false, true
	}
	return revoke.CutoffRevokes(time.UnixMilli(c), q.IssuedAt), true
}

// store keeps the answer a read begun at epoch got for q, unless an
// invalidation came in since.
func (l *localCache) store(epoch uint64, q revoke.Query, a answer) {
	c := int64(noCutoff)
	if !a.cutoff.IsZero() {
		c = a.cutoff.UnixMilli()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch.Load() != epoch {
		return
	}
	if len(l.jtis) >= l.max || len(l.subs) >= l.max || len(l.fams) >= l.max {
		l.resetLocked()
	}
	l.jtis[q.JTI] = a.jti
	if q.Subject != "" {
		l.subs[q.Subject] = c
	}
	if q.Family != "" {
		l.fams[q.Family] = a.family
	}
}

// invalidate handles Redis's invalidation messages; nil means everything.
func (l *localCache) invalidate(keys []rueidis.RedisMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.epoch.Add(1)
	if keys == nil {
		l.resetLocked()
		return
	}
	for _, k := range keys {
		key, err := k.ToString()
		if err != nil {
			// Unreadable: forget everything rather than keep a stale answer.
			l.resetLocked()
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
	} else if fam, ok := strings.CutPrefix(key, l.prefixF); ok {
		delete(l.fams, fam)
	}
}
