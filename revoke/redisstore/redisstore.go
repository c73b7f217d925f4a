// Package redisstore is a revoke.Store in Redis, for many instances
// serving the same users. It uses github.com/redis/rueidis with RESP3
// client-side caching: once an instance has asked about a jti (or a
// subject, or a session), later checks of it are answered from the
// instance's memory without a round trip, and a revocation written by any
// instance makes Redis invalidate that cached answer in every instance at
// once (server-assisted client-side caching, CLIENT TRACKING). The first
// check of a token costs one round trip: its jti, its subject and its
// session are fetched in one pipeline.
//
// Entries expire with Redis TTLs set to the token's expiry (PXAT), and
// refresh-token rotation and the end of a session are each one Lua script
// on the family's key, atomic on the server.
//
// Keys (with Options.Prefix, "jwtgate:" by default):
//
//	<prefix>j:<jti>      "1", expiring at the token's exp
//	<prefix>s:<subject>  cutoff, Unix ms (negative before 1970), expiring at
//	                     the cutoff's until
//	<prefix>f:<family>   hash {cur: current jti, rev: "1" once revoked}
//	<prefix>u:<id>       "1", a single-use id (OneTimeStore), expiring at
//	                     its until
//
// Redis must keep what it acknowledged: run it with
// maxmemory-policy noeviction (every key here has a TTL, so volatile-*
// policies would evict revocations) and with persistence (AOF) if a Redis
// restart must not forget revocations. Every command and script touches
// exactly one key, so the store works on a standalone Redis, under
// Sentinel (rueidis.ClientOption.Sentinel) and on a Redis Cluster (give
// the addresses of some of its nodes: rueidis finds the others); the
// heartbeat and Probe reach every master. Options.WaitReplicas makes
// writes wait for replicas, so a failover after a master dies loses no
// acknowledged revocation.
//
// # Security: a bound on cached answers
//
// A cached answer is only as fresh as the last invalidation that reached
// the instance; over a partitioned or frozen connection none arrives, and
// the connection may take long to fail. So the store trusts its caches
// only within Options.Bound (1 s by default) of the last heartbeat round
// that proved every connection alive (a PING sent, then answered: Redis
// answers in order, so every invalidation for a write acknowledged before
// the PING was sent has been applied), and otherwise goes to Redis, under
// the caller's timeout, and fails closed. A revocation acknowledged
// anywhere is therefore refused by every instance within the bound, even
// by one cut from Redis (which answers 503), and Probe, a write no cache
// answers, tells readiness checks the truth.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
)

// Options configure New.
type Options struct {
	// Prefix is put before every key: "jwtgate:" by default.
	Prefix string

	// CacheTTL bounds how long rueidis keeps an answer in its client-side
	// cache (Redis invalidates it sooner when the key changes): 1 minute
	// by default. Negative: no client-side caching at all.
	CacheTTL time.Duration

	// LocalEntries bounds the store's own map of answers (jtis and
	// subjects seen), kept beside rueidis's cache so that a token already
	// seen is answered with two map lookups; it is emptied when full, and
	// on every reconnection. Default 100,000.
	LocalEntries int

	// Bound is how long a cached answer stays trusted after the
	// connections that deliver invalidations last proved alive
	// (DefaultBound, 1 s). A heartbeat (a PING every Bound/3 on each
	// such connection: one per Cluster master) proves them; past the
	// bound, checks skip both caches and go to Redis, under the caller's
	// timeout, so a partitioned or frozen Redis makes them fail (the Gate
	// answers 503) instead of answering from a cache that can no longer
	// hear about revocations. It also sets the client's
	// ConnWriteTimeout (to Bound) and Dialer.KeepAlive (to Bound/3) when
	// they are zero, so that a frozen connection is dropped within about
	// 1.3 × Bound.
	Bound time.Duration

	// WaitReplicas, when positive, makes every write wait until that many
	// replicas of its master have acknowledged it (WAIT, on the write's
	// own connection, until the context's deadline or Bound), and fail
	// with an error wrapping ErrNotReplicated otherwise: Redis replicates
	// asynchronously, and a write acknowledged by a master that dies
	// before any replica has it is lost in a failover. 0 by default.
	WaitReplicas int
}

// Store is a revoke.Store in Redis. Close it to close its client.
type Store struct {
	c         rueidis.Client
	prefix    string
	cacheTTL  time.Duration
	local     *localCache
	live      *liveness
	closeOnce sync.Once
	// waitReplicas is Options.WaitReplicas.
	waitReplicas int
}

var (
	_ revoke.Store         = (*Store)(nil)
	_ revoke.TokenChecker  = (*Store)(nil)
	_ revoke.CachedChecker = (*Store)(nil)
	_ revoke.OneTimeStore  = (*Store)(nil)
)

// New connects to Redis with opt and returns a store on that client.
// Leave opt.DisableCache false (client-side caching needs RESP3: Redis 6 or
// later; the scripts need Redis 7). New sets opt.PipelineMultiplex to -1
// (one pipelined connection: rueidis caches a key on the connection that
// serves it, and with one connection a revocation returns only after this
// instance's cache has dropped the old answer) and installs its
// invalidation hook before any opt.OnInvalidations of yours.
func New(opt rueidis.ClientOption, opts Options) (*Store, error) {
	s := &Store{prefix: opts.Prefix, cacheTTL: opts.CacheTTL}
	if opts.Bound < 0 {
		return nil, fmt.Errorf("redisstore: negative Bound %v", opts.Bound)
	}
	bound := opts.Bound
	if bound == 0 {
		bound = DefaultBound
	}
	s.live = newLiveness(bound)
	if opts.WaitReplicas < 0 {
		return nil, fmt.Errorf("redisstore: negative WaitReplicas %d", opts.WaitReplicas)
	}
	s.waitReplicas = opts.WaitReplicas
	if opt.ConnWriteTimeout == 0 {
		opt.ConnWriteTimeout = bound
	}
	if opt.Dialer.KeepAlive == 0 {
		opt.Dialer.KeepAlive = max(bound/3, time.Millisecond)
	}
	if s.prefix == "" {
		s.prefix = "jwtgate:"
	}
	if s.cacheTTL == 0 {
		s.cacheTTL = time.Minute
	}
	if s.cacheTTL > 0 {
		n := opts.LocalEntries
		if n <= 0 {
			n = 100_000
		}
		s.local = newLocalCache(n, s.prefix)
		user := opt.OnInvalidations
		opt.OnInvalidations = func(keys []rueidis.RedisMessage) {
			s.local.invalidate(keys)
			if user != nil {
				user(keys)
			}
		}
	}
	opt.PipelineMultiplex = -1
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	s.c = c
	if s.local != nil {
		// The first round before the first check, so that a store that
		// reached Redis answers from its cache at once.
		s.proveOnce()
		s.live.done.Add(1)
		go s.heartbeat()
	}
	return s, nil
}

// Client returns the store's client.
func (s *Store) Client() rueidis.Client { return s.c }

// Close stops the heartbeat and closes the client.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		s.live.stop()
		s.live.done.Wait()
		s.c.Close()
	})
}

func (s *Store) jtiKey(jti string) string { return s.prefix + "j:" + jti }
func (s *Store) subKey(sub string) string { return s.prefix + "s:" + sub }
func (s *Store) famKey(fam string) string { return s.prefix + "f:" + fam }
func (s *Store) useKey(id string) string  { return s.prefix + "u:" + id }

// revokeScript sets KEYS[1] until ARGV[1] (Unix ms), keeping a later
// expiry that is already there.
var revokeScript = newScript(`
redis.call('SET', KEYS[1], '1', 'NX', 'PXAT', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1], 'GT')
return 1`)

// subjectScript sets the cutoff KEYS[1] to max(old, ARGV[1]) and its
// expiry to max(old, ARGV[2]).
var subjectScript = newScript(`
local old = redis.call('GET', KEYS[1])
if old then
  local o = tonumber(old)
  if o == nil then return redis.error_reply('redisstore: unreadable cutoff') end
  if o > tonumber(ARGV[1]) then return redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'GT') end
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  return redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'GT')
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1`)

// rotateScript: KEYS[1] the family; ARGV old jti, new jti, until (ms).
// Returns "ok", or "reused" once the family is revoked (it was already,
// or oldJTI is not its current token). Checks read the family's rev field,
// so revoking the family refuses all its tokens: no other key is touched.
var rotateScript = newScript(`
local f = redis.call('HMGET', KEYS[1], 'cur', 'rev')
local cur, rev = f[1], f[2]
if rev == '1' then return 'reused' end
if not cur then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'rev', '0')
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  return 'ok'
end
if cur ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'rev', '1')
  return 'reused'
end
redis.call('HSET', KEYS[1], 'cur', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'GT')
return 'ok'`)

// familyScript revokes the family KEYS[1] (rev "1") and keeps it until at
// least ARGV[1] (Unix ms), creating it if it is missing.
var familyScript = newScript(`
redis.call('HSET', KEYS[1], 'rev', '1')
local exp = redis.call('PEXPIRETIME', KEYS[1])
if exp < tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1`)

// sync makes sure this client's cache has seen the invalidation of its own
// write to key before the write returns: one more command on the same
// connection (the store uses one) is answered only after any invalidation
// Redis sent for the write, whether Redis sent it before or after the
// write's reply. (On Redis 7.0 the tests pass without it; it is kept so the
// guarantee does not hang on that ordering.) Other instances see the write
// when their invalidation arrives (about a millisecond in the tests).
func (s *Store) sync(ctx context.Context, key string) error {
	if s.cacheTTL < 0 {
		return nil
	}
	return s.c.Do(ctx, s.c.B().Pttl().Key(key).Build()).Error()
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Revoke implements revoke.Store.
func (s *Store) Revoke(ctx context.Context, jti string, until time.Time) error {
	if err := revoke.Validate("jti", jti, until); err != nil {
		return err
	}
	if !until.After(time.Now()) {
		return nil
	}
	key := s.jtiKey(jti)
	if err := s.exec(ctx, revokeScript, []string{key}, []string{ms(until)}).Error(); err != nil {
		return fmt.Errorf("redisstore: revoke: %w", err)
	}
	if err := s.sync(ctx, key); err != nil {
		return fmt.Errorf("redisstore: revoke: %w", err)
	}
	s.local.drop(key)
	return nil
}

func (s *Store) get(ctx context.Context, key string) rueidis.RedisResult {
	return s.read(ctx, s.c.B().Get().Key(key).Cache())
}

// read sends cmd through the client-side cache while the cache is on and
// trusted (Options.Bound), and straight to Redis otherwise.
func (s *Store) read(ctx context.Context, cmd rueidis.Cacheable) rueidis.RedisResult {
	if s.cacheTTL < 0 || !s.live.trusted() {
		return s.c.Do(ctx, rueidis.Completed(cmd))
	}
	return s.c.DoCache(ctx, cmd, s.cacheTTL)
}

func readRevoked(r rueidis.RedisResult) (bool, error) {
	v, err := r.ToString()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if v != "1" {
		return false, fmt.Errorf("%w: %.40q in a jti key", errUnreadable, v)
	}
	return true, nil
}

// errUnreadable: a key holds a value the store does not write.
var errUnreadable = errors.New("redisstore: unreadable value")

// readCutoff reads a subject's cutoff: the zero time if there is none.
func readCutoff(r rueidis.RedisResult) (time.Time, error) {
	v, err := r.ToString()
	if rueidis.IsRedisNil(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return parseCutoff(v)
}

// parseCutoff reads a cutoff as ms writes it: Unix milliseconds in
// decimal, negative before 1970, without sign or leading zeros otherwise.
func parseCutoff(v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != v {
		return time.Time{}, fmt.Errorf("%w: cutoff %.40q is not Unix milliseconds", errUnreadable, v)
	}
	return time.UnixMilli(n), nil
}

// Revoked implements revoke.Store.
func (s *Store) Revoked(ctx context.Context, jti string) (bool, error) {
	r, err := readRevoked(s.get(ctx, s.jtiKey(jti)))
	if err != nil {
		return false, fmt.Errorf("redisstore: revoked: %w", err)
	}
	return r, nil
}

// RevokeSubject implements revoke.Store.
func (s *Store) RevokeSubject(ctx context.Context, subject string, before, until time.Time) error {
	if err := revoke.Validate("subject", subject, until); err != nil {
		return err
	}
	if !until.After(time.Now()) {
		return nil
	}
	key := s.subKey(subject)
	if err := s.exec(ctx, subjectScript, []string{key}, []string{ms(before), ms(until)}).Error(); err != nil {
		return fmt.Errorf("redisstore: revoke subject: %w", err)
	}
	if err := s.sync(ctx, key); err != nil {
		return fmt.Errorf("redisstore: revoke subject: %w", err)
	}
	s.local.drop(key)
	return nil
}

// SubjectCutoff implements revoke.Store.
func (s *Store) SubjectCutoff(ctx context.Context, subject string) (time.Time, error) {
	c, err := readCutoff(s.get(ctx, s.subKey(subject)))
	if err != nil {
		return time.Time{}, fmt.Errorf("redisstore: subject cutoff: %w", err)
	}
	return c, nil
}

// readFamily reads the rev field of a family: "1" revoked, "0" or none
// not.
func readFamily(r rueidis.RedisResult) (bool, error) {
	v, err := r.ToString()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch v {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: %.40q in a family's rev field", errUnreadable, v)
}

func (s *Store) famRev(family string) rueidis.Cacheable {
	return s.c.B().Hget().Key(s.famKey(family)).Field("rev").Cache()
}

// RevokeFamily implements revoke.Store with one Lua script on the
// family's key.
func (s *Store) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if err := revoke.Validate("family", family, until); err != nil {
		return err
	}
	if !until.After(time.Now()) {
		return nil
	}
	key := s.famKey(family)
	if err := s.exec(ctx, familyScript, []string{key}, []string{ms(until)}).Error(); err != nil {
		return fmt.Errorf("redisstore: revoke family: %w", err)
	}
	if err := s.sync(ctx, key); err != nil {
		return fmt.Errorf("redisstore: revoke family: %w", err)
	}
	s.local.drop(key)
	return nil
}

// FamilyRevoked implements revoke.Store.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	rev, err := readFamily(s.read(ctx, s.famRev(family)))
	if err != nil {
		return false, fmt.Errorf("redisstore: family revoked: %w", err)
	}
	return rev, nil
}

// CheckToken implements revoke.TokenChecker: the jti, subject and family
// keys in one pipeline, each answered from the client-side cache when it
// holds them.
func (s *Store) CheckToken(ctx context.Context, q revoke.Query) (bool, error) {
	var epoch uint64
	if s.local != nil {
		epoch = s.local.epoch.Load()
	}
	cmds := make([]rueidis.Cacheable, 1, 3)
	cmds[0] = s.c.B().Get().Key(s.jtiKey(q.JTI)).Cache()
	sub, fam := -1, -1
	if q.Subject != "" {
		sub = len(cmds)
		cmds = append(cmds, s.c.B().Get().Key(s.subKey(q.Subject)).Cache())
	}
	if q.Family != "" {
		fam = len(cmds)
		cmds = append(cmds, s.famRev(q.Family))
	}
	var rs []rueidis.RedisResult
	cached := s.cacheTTL >= 0 && s.live.trusted()
	if !cached {
		plain := make(rueidis.Commands, len(cmds))
		for i, c := range cmds {
			plain[i] = rueidis.Completed(c)
		}
		rs = s.c.DoMulti(ctx, plain...)
	} else {
		cts := make([]rueidis.CacheableTTL, len(cmds))
		for i, c := range cmds {
			cts[i] = rueidis.CT(c, s.cacheTTL)
		}
		rs = s.c.DoMultiCache(ctx, cts...)
	}
	if len(rs) != len(cmds) {
		return false, fmt.Errorf("redisstore: check: %d answers to %d commands", len(rs), len(cmds))
	}
	var a answer
	var err error
	if a.jti, err = readRevoked(rs[0]); err != nil {
		return false, fmt.Errorf("redisstore: check: %w", err)
	}
	if sub >= 0 {
		if a.cutoff, err = readCutoff(rs[sub]); err != nil {
			return false, fmt.Errorf("redisstore: check: %w", err)
		}
	}
	if fam >= 0 {
		if a.family, err = readFamily(rs[fam]); err != nil {
			return false, fmt.Errorf("redisstore: check: %w", err)
		}
	}
	if cached && s.local != nil {
		s.local.store(epoch, q, a)
	}
	return a.revokes(q.IssuedAt), nil
}

// CheckCached implements revoke.CachedChecker: the answer from the local
// map, if it holds the jti, the subject and the family asked about,
// without I/O, and only while the connections proved alive within
// Options.Bound.
func (s *Store) CheckCached(q revoke.Query) (revoked, ok bool) {
	if s.local == nil || !s.live.trusted() {
		return false, false
	}
	return s.local.check(q)
}

// Rotate implements revoke.Store with one Lua script on the family's key.
func (s *Store) Rotate(ctx context.Context, family, oldJTI, newJTI string, until time.Time) error {
	if err := revoke.Validate("family", family, until); err != nil {
		return err
	}
	if oldJTI == "" || newJTI == "" || oldJTI == newJTI {
		return fmt.Errorf("%w: rotate needs two different jtis", revoke.ErrInvalidArgument)
	}
	if !until.After(time.Now()) {
		return fmt.Errorf("%w: until is in the past", revoke.ErrInvalidArgument)
	}
	key := s.famKey(family)
	res, err := s.exec(ctx, rotateScript, []string{key}, []string{oldJTI, newJTI, ms(until)}).ToString()
	if err != nil {
		return fmt.Errorf("redisstore: rotate: %w", err)
	}
	switch res {
	case "ok":
		return nil
	case "reused":
	default:
		return fmt.Errorf("redisstore: rotate: unexpected answer %.60q", res)
	}
	if err := s.sync(ctx, key); err != nil {
		return fmt.Errorf("%w (and reading back the revocation failed: %w)", revoke.ErrReused, err)
	}
	s.local.drop(key)
	return fmt.Errorf("%w: family %q, token %q", revoke.ErrReused, family, oldJTI)
}

// useScript is SET NX PX as a script, for Options.WaitReplicas (exec runs
// scripts): 1 when KEYS[1] was set, 0 when it was there.
var useScript = newScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`)

// Use implements revoke.OneTimeStore with one command on one key, SET
// <prefix>u:<id> 1 NX PX <ms to until>: Redis sets the key only if it is
// missing, atomically, so one caller on any instance gets "OK" and the
// others nil until the key expires (Cluster: one key, one slot). The
// lifetime is relative (PX, from this instance's clock), so a Redis
// server whose clock is off neither shortens nor stretches it. With
// Options.WaitReplicas the write waits for replicas (an error, and first
// false, when too few acknowledge it: the id stays used). The key is
// never read through a cache.
func (s *Store) Use(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := revoke.Validate("single-use id", id, until); err != nil {
		return false, err
	}
	ttl := time.Until(until)
	if ttl <= 0 {
		return false, fmt.Errorf("%w: single-use id %q: until %v is not in the future", revoke.ErrInvalidArgument, id, until)
	}
	// Rounded up to the millisecond, so that the key outlives until.
	px := int64((ttl + time.Millisecond - 1) / time.Millisecond)
	key := s.useKey(id)
	if s.waitReplicas > 0 {
		n, err := s.exec(ctx, useScript, []string{key}, []string{strconv.FormatInt(px, 10)}).AsInt64()
		if err != nil {
			return false, fmt.Errorf("redisstore: use: %w", err)
		}
		if n != 0 && n != 1 {
			return false, fmt.Errorf("redisstore: use: unexpected answer %d", n)
		}
		return n == 1, nil
	}
	v, err := s.c.Do(ctx, s.c.B().Set().Key(key).Value("1").Nx().PxMilliseconds(px).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redisstore: use: %w", err)
	}
	if v != "OK" {
		return false, fmt.Errorf("redisstore: use: unexpected answer %.40q", v)
	}
	return true, nil
}
