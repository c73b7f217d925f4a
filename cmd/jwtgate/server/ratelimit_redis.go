package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// NewRedisLimiter returns a Limiter whose buckets live in Redis, so that
// every instance using the same Redis and prefix shares one budget per
// key: failures counted by one instance are refused by all, and attempts
// in flight on any instance hold tokens on all. It is the same token
// bucket as the in-memory limiter (burst failures at once, then one more per
// every; Take reserves a token atomically, Settle spends or releases it),
// without its bound on the number of keys: Redis holds them, and each one
// expires once its bucket would be full again with no attempt in flight.
//
// Each key is a hash, <prefix>rl:<key>, with fields tokens (a float),
// last_us (when tokens was computed, Unix µs) and a:<id> for each attempt
// in flight (its expiry, Unix µs), read and written by Lua scripts,
// atomic on the server. Every script touches that one key only, so the
// limiter works on a Redis Cluster. The time is Redis's own clock (TIME
// in the scripts), never an instance's, so instances whose clocks
// disagree still agree on every bucket, and the reservations of an
// instance that died expire after attemptTTL whatever its clock said. A
// write sets the key's PEXPIRE to burst × every, the time a drained
// bucket needs to be full again, or longer while a reservation lives, so
// idle keys vanish. Keys are used as they are (any bytes): callers tell
// their namespaces apart with a tag in the key, as in "ip:1.2.3.4" and
// "user:alice", and the "rl:" segment keeps these keys apart from the
// other keys the project stores under the same prefix.
//
// Errors from Redis are returned (wrapped); the server answers them with
// 503. client is not closed by the limiter.
func NewRedisLimiter(client rueidis.Client, prefix string, burst int, every time.Duration) (Limiter, error) {
	if client == nil {
		return nil, errors.New("redis limiter: nil client")
	}
	if burst < 1 {
		return nil, fmt.Errorf("redis limiter: burst %d: want at least 1", burst)
	}
	if every <= 0 {
		return nil, fmt.Errorf("redis limiter: every %v: want a positive duration", every)
	}
	return &redisLimiter{
		c:      client,
		prefix: prefix + "rl:",
		burst:  burst,
		every:  every,
		args: []string{
			strconv.Itoa(burst),
			strconv.FormatInt(int64(every), 10),
			strconv.FormatInt(limiterFullAfterMS(burst, every), 10),
			strconv.FormatInt(attemptTTL.Microseconds(), 10),
		},
	}, nil
}

// redisLimiter is a Limiter in Redis (see NewRedisLimiter).
type redisLimiter struct {
	c      rueidis.Client
	prefix string // the caller's prefix and "rl:"
	burst  int
	every  time.Duration
	args   []string // the scripts' ARGV: burst, every (ns), key TTL (ms), attempt TTL (µs)
}

var _ Limiter = (*redisLimiter)(nil)

// limiterMaxTTLMS bounds the keys' TTL (about 140,000 years): Redis
// refuses an expiry that would overflow its clock.
const limiterMaxTTLMS = 1 << 52

// limiterFullAfterMS is burst × every in whole milliseconds, rounded up,
// at least 1 and at most limiterMaxTTLMS.
func limiterFullAfterMS(burst int, every time.Duration) int64 {
	ms := math.Ceil(float64(burst) * float64(every) / float64(time.Millisecond))
	return int64(min(max(ms, 1), limiterMaxTTLMS))
}

// limiterBucketLua is the part both scripts share: it reads the bucket
// KEYS[1] (ARGV: burst, every in ns) and refills it up to Redis's own
// clock (TIME), leaving tokens, last and now (Unix µs) in locals. A key
// never seen is a full bucket. A bucket the script cannot read is an
// error; one holding more than burst tokens (burst was lowered since) is
// cut to burst.
const limiterBucketLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local burst = tonumber(ARGV[1])
local every = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'last_us')
local tokens, last = burst, now
if v[1] or v[2] then
  tokens, last = tonumber(v[1]), tonumber(v[2])
  if tokens == nil or last == nil or tokens ~= tokens or tokens < 0 or tokens == math.huge or last ~= last or last == math.huge or last == -math.huge then
    return redis.error_reply('ERR rate limiter: unreadable bucket')
  end
  tokens = math.min(burst, tokens)
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * 1000 / every)
  last = now
end
`

// limiterHeldLua follows limiterBucketLua in the scripts that write: it
// deletes KEYS[1]'s expired reservations (fields a:<id>, whose values are
// their expiry, Unix µs) and leaves in locals the number of those left,
// held, and the latest expiry among them, latest (0 if none). A
// reservation the script cannot read is an error.
const limiterHeldLua = `
local held, latest = 0, 0
local f = redis.call('HGETALL', KEYS[1])
for i = 1, #f, 2 do
  if string.sub(f[i], 1, 2) == 'a:' then
    local e = tonumber(f[i + 1])
    if e == nil or e ~= e or e == math.huge or e == -math.huge then
      return redis.error_reply('ERR rate limiter: unreadable reservation')
    end
    if e <= now then
      redis.call('HDEL', KEYS[1], f[i])
    else
      held = held + 1
      latest = math.max(latest, e)
    end
  end
end
`

// limiterWriteLua writes tokens and last back to KEYS[1] and sets its
// TTL: ARGV[3] ms, or longer while a reservation lives.
const limiterWriteLua = `
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'last_us', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], string.format('%.17g', math.max(tonumber(ARGV[3]), math.ceil((latest - now) / 1000))))
`

// limiterCheckScript answers KEYS[1]'s tokens after refill, as a decimal
// string, and writes nothing (so it may be retried).
var limiterCheckScript = rueidis.NewLuaScriptRetryable(limiterBucketLua + `
return string.format('%.17g', tokens)`)

// limiterTakeScript reserves a token of KEYS[1] for the attempt whose
// field is ARGV[5], until ARGV[4] µs from now, if failures have left one
// that no attempt in flight holds. It answers {1 if it did else 0, the
// tokens after refill as a decimal string}.
var limiterTakeScript = rueidis.NewLuaScript(limiterBucketLua + limiterHeldLua + `
local taken = 0
if tokens >= 1 and tokens - held >= 1 then
  local e = now + tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], ARGV[5], string.format('%.17g', e))
  latest = math.max(latest, e)
  taken = 1
` + limiterWriteLua + `
end
return {taken, string.format('%.17g', tokens)}`)

// limiterSettleScript ends the reservation ARGV[5] of KEYS[1]; when
// ARGV[6] is 1 (a failure) it also takes a token (floored at zero),
// whether the reservation was still there or not.
var limiterSettleScript = rueidis.NewLuaScript(`
redis.call('HDEL', KEYS[1], ARGV[5])
if ARGV[6] ~= '1' then return 0 end
` + limiterBucketLua + limiterHeldLua + `
tokens = math.max(0, tokens - 1)
` + limiterWriteLua + `
return 1`)

func (l *redisLimiter) key(key string) []string { return []string{l.prefix + key} }

// settleArgs returns the ARGV of limiterSettleScript.
func (l *redisLimiter) settleArgs(id string, failed bool) []string {
	flag := "0"
	if failed {
		flag = "1"
	}
	return append(l.args[:len(l.args):len(l.args)], "a:"+id, flag)
}

// Take implements Limiter.
func (l *redisLimiter) Take(ctx context.Context, key, id string) (Grant, error) {
	args := append(l.args[:len(l.args):len(l.args)], "a:"+id)
	v, err := limiterTakeScript.Exec(ctx, l.c, l.key(key), args).ToArray()
	if err != nil {
		return Grant{}, fmt.Errorf("redis limiter: take: %w", err)
	}
	if len(v) != 2 {
		return Grant{}, fmt.Errorf("redis limiter: take: unexpected answer of %d values", len(v))
	}
	taken, err1 := v[0].AsInt64()
	s, err2 := v[1].ToString()
	if err := errors.Join(err1, err2); err != nil {
		return Grant{}, fmt.Errorf("redis limiter: take: unexpected answer: %w", err)
	}
	ok, wait, err := l.answer("take", s)
	switch {
	case err != nil:
		return Grant{}, err
	case taken == 1:
		return Grant{Taken: true}, nil
	case ok: // failures left a token, attempts in flight hold it
		return Grant{Busy: true}, nil
	}
	return Grant{Wait: wait}, nil
}

// Settle implements Limiter.
func (l *redisLimiter) Settle(ctx context.Context, key, id string, failed bool) error {
	if err := limiterSettleScript.Exec(ctx, l.c, l.key(key), l.settleArgs(id, failed)).Error(); err != nil {
		return fmt.Errorf("redis limiter: settle: %w", err)
	}
	return nil
}

// Check reports whether key's failures have left a token, or how long
// until they have, taking nothing and ignoring attempts in flight.
func (l *redisLimiter) Check(ctx context.Context, key string) (bool, time.Duration, error) {
	s, err := limiterCheckScript.Exec(ctx, l.c, l.key(key), l.args).ToString()
	if err != nil {
		return false, 0, fmt.Errorf("redis limiter: check: %w", err)
	}
	return l.answer("check", s)
}

// answer reads the tokens a script found: at least one means ok, else
// the wait for the next one.
func (l *redisLimiter) answer(op, s string) (bool, time.Duration, error) {
	tokens, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(tokens) || tokens < 0 || tokens > float64(l.burst) {
		return false, 0, fmt.Errorf("redis limiter: %s: unexpected answer %.40q", op, s)
	}
	if tokens >= 1 {
		return true, 0, nil
	}
	wait := l.every // (1 - tokens) × every, rounded up, in (0, every]
	if f := math.Ceil((1 - tokens) * float64(l.every)); f < float64(l.every) {
		wait = max(time.Duration(f), 1)
	}
	return false, wait, nil
}

// Fail takes a token from key's bucket, floored at zero: a failure
// without a reservation.
func (l *redisLimiter) Fail(ctx context.Context, key string) error {
	if err := limiterSettleScript.Exec(ctx, l.c, l.key(key), l.settleArgs("", true)).Error(); err != nil {
		return fmt.Errorf("redis limiter: fail: %w", err)
	}
	return nil
}
