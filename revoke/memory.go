package revoke

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// MemoryOptions configure NewMemory.
type MemoryOptions struct {
	// MaxEntries bounds the entries kept (revoked jtis, subject cutoffs,
	// families and single-use ids together). When the store is full and no entry has
	// expired, writes fail with ErrFull; nothing acknowledged is dropped.
	// Default: 1,000,000. Negative: no bound.
	MaxEntries int

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Memory is an in-process Store: fast, bounded, and lost when the process
// ends. Use it for a single instance, or tests. Safe for concurrent use.
type Memory struct {
	max   int
	clock func() time.Time

	mu       sync.RWMutex
	jtis     map[string]int64 // until, unix ns
	subjects map[string]subjectEntry
	families map[string]*familyEntry
	used     map[string]int64 // single-use ids: until, unix ns
}

type subjectEntry struct{ before, until int64 }

type familyEntry struct {
	current string
	revoked bool
	until   int64
}

var (
	_ Store        = (*Memory)(nil)
	_ TokenChecker = (*Memory)(nil)
	_ NonBlocking  = (*Memory)(nil)
	_ OneTimeStore = (*Memory)(nil)
)

// NewMemory returns an empty memory store.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{
		max:      opts.MaxEntries,
		clock:    opts.Clock,
		jtis:     make(map[string]int64),
		subjects: make(map[string]subjectEntry),
		families: make(map[string]*familyEntry),
		used:     make(map[string]int64),
	}
	if m.max == 0 {
		m.max = 1_000_000
	}
	if m.clock == nil {
		m.clock = time.Now
	}
	return m
}

// NonBlocking marks the memory store as never waiting on I/O.
func (m *Memory) NonBlocking() {}

// Len returns the number of entries held, expired ones not yet swept
// included.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.lenLocked()
}

func (m *Memory) lenLocked() int {
	return len(m.jtis) + len(m.subjects) + len(m.families) + len(m.used)
}

// Sweep forgets expired entries. Writes sweep by themselves when the store
// is full; call Sweep to give memory back sooner.
func (m *Memory) Sweep() {
	now := nanos(m.clock())
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
}

func (m *Memory) sweepLocked(now int64) {
	for k, u := range m.jtis {
		if u <= now {
			delete(m.jtis, k)
		}
	}
	for k, e := range m.subjects {
		if e.until <= now {
			delete(m.subjects, k)
		}
	}
	for k, e := range m.families {
		if e.until <= now {
			delete(m.families, k)
		}
	}
	for k, u := range m.used {
		if u <= now {
			delete(m.used, k)
		}
	}
}

// roomLocked makes room for n new entries or returns ErrFull.
func (m *Memory) roomLocked(n int, now int64) error {
	if m.max < 0 {
		return nil
	}
	if m.lenLocked()+n <= m.max {
		return nil
	}
	m.sweepLocked(now)
	if m.lenLocked()+n <= m.max {
		return nil
	}
	return fmt.Errorf("%w: %d entries, none expired (MemoryOptions.MaxEntries)", ErrFull, m.max)
}

// admit validates a revocation of key (a kind) and returns its until and
// the current time in nanoseconds; keep is false when there is nothing to
// store: an invalid argument (err) or an until already past (no error).
func (m *Memory) admit(kind, key string, until time.Time) (u, now int64, keep bool, err error) {
	if err := Validate(kind, key, until); err != nil {
		return 0, 0, false, err
	}
	now = nanos(m.clock())
	u = nanos(until)
	return u, now, u > now, nil
}

// Revoke implements Store.
func (m *Memory) Revoke(_ context.Context, jti string, until time.Time) error {
	u, now, keep, err := m.admit("jti", jti, until)
	if !keep {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.jtis[jti]
	if !ok {
		if err := m.roomLocked(1, now); err != nil {
			return err
		}
	} else if old > now {
		u = max(u, old)
	}
	m.jtis[jti] = u
	return nil
}

// Revoked implements Store.
func (m *Memory) Revoked(_ context.Context, jti string) (bool, error) {
	now := nanos(m.clock())
	m.mu.RLock()
	u, ok := m.jtis[jti]
	m.mu.RUnlock()
	return ok && u > now, nil
}

// RevokeSubject implements Store.
func (m *Memory) RevokeSubject(_ context.Context, subject string, before, until time.Time) error {
	u, now, keep, err := m.admit("subject", subject, until)
	if !keep {
		return err
	}
	b := nanos(before)
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.subjects[subject]
	if !ok {
		if err := m.roomLocked(1, now); err != nil {
			return err
		}
	}
	if ok && e.until > now {
		e = subjectEntry{before: max(e.before, b), until: max(e.until, u)}
	} else {
		// A new entry: its cutoff is b, even before 1970 (negative).
		e = subjectEntry{before: b, until: u}
	}
	m.subjects[subject] = e
	return nil
}

// SubjectCutoff implements Store.
func (m *Memory) SubjectCutoff(_ context.Context, subject string) (time.Time, error) {
	now := nanos(m.clock())
	m.mu.RLock()
	e, ok := m.subjects[subject]
	m.mu.RUnlock()
	if !ok || e.until <= now {
		return time.Time{}, nil
	}
	return time.Unix(0, e.before), nil
}

// CheckToken implements TokenChecker with one read lock and no clock: an
// entry still held answers even if its until has passed (a revocation is
// forgotten only to save room, and the Gate refuses expired tokens anyway;
// with Config.Leeway this keeps refusing a revoked token during the
// leeway too).
func (m *Memory) CheckToken(_ context.Context, q Query) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if _, revoked := m.jtis[q.JTI]; revoked {
		return true, nil
	}
	if q.Family != "" {
		if f, ok := m.families[q.Family]; ok && f.revoked {
			return true, nil
		}
	}
	if q.Subject == "" {
		return false, nil
	}
	e, ok := m.subjects[q.Subject]
	return ok && CutoffRevokes(time.Unix(0, e.before), q.IssuedAt), nil
}

// RevokeFamily implements Store.
func (m *Memory) RevokeFamily(_ context.Context, family string, until time.Time) error {
	u, now, keep, err := m.admit("family", family, until)
	if !keep {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.families[family]
	if !ok {
		if err := m.roomLocked(1, now); err != nil {
			return err
		}
		m.families[family] = &familyEntry{revoked: true, until: u}
		return nil
	}
	if f.until <= now {
		*f = familyEntry{}
	}
	f.revoked = true
	f.until = max(f.until, u)
	return nil
}

// FamilyRevoked implements Store.
func (m *Memory) FamilyRevoked(_ context.Context, family string) (bool, error) {
	now := nanos(m.clock())
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.families[family]
	return ok && f.revoked && f.until > now, nil
}

// Rotate implements Store.
func (m *Memory) Rotate(_ context.Context, family, oldJTI, newJTI string, until time.Time) error {
	if err := Validate("family", family, until); err != nil {
		return err
	}
	if oldJTI == "" || newJTI == "" || oldJTI == newJTI {
		return fmt.Errorf("%w: rotate needs two different jtis", ErrInvalidArgument)
	}
	now := nanos(m.clock())
	u := nanos(until)
	if u <= now {
		return fmt.Errorf("%w: until is in the past", ErrInvalidArgument)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.families[family]
	if ok && f.until <= now {
		delete(m.families, family)
		ok = false
	}
	if !ok {
		if err := m.roomLocked(1, now); err != nil {
			return err
		}
		m.families[family] = &familyEntry{current: newJTI, until: u}
		return nil
	}
	if f.revoked || f.current != oldJTI {
		f.revoked = true
		return fmt.Errorf("%w: family %q, token %q", ErrReused, family, oldJTI)
	}
	f.current = newJTI
	f.until = max(f.until, u)
	return nil
}

// Use implements OneTimeStore under the store's lock: the first call with
// id records it until the given time; later calls, until then, answer
// false. An expired record is replaced. A full store (MaxEntries) is an
// error wrapping ErrFull, and first false.
func (m *Memory) Use(_ context.Context, id string, until time.Time) (bool, error) {
	if err := Validate("single-use id", id, until); err != nil {
		return false, err
	}
	now := nanos(m.clock())
	u := nanos(until)
	if u <= now {
		return false, fmt.Errorf("%w: single-use id %q: until %v is not in the future", ErrInvalidArgument, id, until)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.used[id]
	if ok && old > now {
		return false, nil
	}
	if !ok {
		if err := m.roomLocked(1, now); err != nil {
			return false, err
		}
	}
	m.used[id] = u
	return true, nil
}

// nanos is t in Unix nanoseconds, saturated to the int64 range (years
// 1677 to 2262) where time.Time.UnixNano wraps around: an until or a
// cutoff beyond 2262 stays in the future instead of becoming a past one,
// which would drop the revocation.
func nanos(t time.Time) int64 {
	// math.MinInt64 ns is -9223372036.854775808 s, math.MaxInt64 ns
	// 9223372036.854775807 s: whole seconds strictly inside are safe.
	switch sec := t.Unix(); {
	case sec < -9223372036:
		return math.MinInt64
	case sec > 9223372035:
		return math.MaxInt64
	}
	return t.UnixNano()
}
