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
// key: attempts counted by one instance are refused by all. It is the same
// token bucket as NewMemoryLimiter (burst attempts at once, then one more
// per every; Take takes a token atomically, Refund gives one back),
// without its bound on the number of keys: Redis holds them, and each one
// expires once its bucket would be full again.
//
// Each key is a hash, <prefix>rl:<key>, with fields tokens (a float) and
// last_us (when tokens was computed, Unix µs), read and written by Lua
// scripts, atomic on the server. The time is Redis's own clock (TIME in
// the scripts), never an instance's, so instances whose clocks disagree
// still agree on every bucket. A write sets the key's PEXPIRE to
// burst × every, the time a drained bucket needs to be full again, so idle
// keys vanish. Keys are used as they are (any bytes): callers tell their
// namespaces apart with a tag in the key, as in "ip:1.2.3.4" and
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
		},
	}, nil
}

// redisLimiter is a Limiter in Redis (see NewRedisLimiter).
type redisLimiter struct {
	c      rueidis.Client
	prefix string // the caller's prefix and "rl:"
	burst  int
	every  time.Duration
	args   []string // the scripts' ARGV: burst, every (ns), key TTL (ms)
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

// limiterCheckScript answers KEYS[1]'s tokens after refill, as a decimal
// string, and writes nothing (so it may be retried).
var limiterCheckScript = rueidis.NewLuaScriptRetryable(limiterBucketLua + `
return string.format('%.17g', tokens)`)

// limiterTakeScript takes a token from KEYS[1] if it has one, setting the
// key's TTL to ARGV[3] ms, and answers the tokens there were before, as
// a decimal string; a bucket without a token is left as it was.
var limiterTakeScript = rueidis.NewLuaScript(limiterBucketLua + `
if tokens >= 1 then
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens - 1), 'last_us', string.format('%.17g', last))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return string.format('%.17g', tokens)`)

// limiterRefundScript gives a token back to KEYS[1] (up to burst), if
// the key is there.
var limiterRefundScript = rueidis.NewLuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
` + limiterBucketLua + `
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', math.min(burst, tokens + 1)), 'last_us', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

// limiterFailScript takes a token from KEYS[1] (floored at zero) and sets
// the key's TTL to ARGV[3] ms.
var limiterFailScript = rueidis.NewLuaScript(limiterBucketLua + `
tokens = math.max(0, tokens - 1)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'last_us', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

func (l *redisLimiter) key(key string) []string { return []string{l.prefix + key} }

// Take implements Limiter.
func (l *redisLimiter) Take(ctx context.Context, key string) (bool, time.Duration, error) {
	s, err := limiterTakeScript.Exec(ctx, l.c, l.key(key), l.args).ToString()
	if err != nil {
		return false, 0, fmt.Errorf("redis limiter: take: %w", err)
	}
	return l.answer("take", s)
}

// Refund implements Limiter.
func (l *redisLimiter) Refund(ctx context.Context, key string) error {
	if err := limiterRefundScript.Exec(ctx, l.c, l.key(key), l.args).Error(); err != nil {
		return fmt.Errorf("redis limiter: refund: %w", err)
	}
	return nil
}

// Check reports whether key has a token, or how long until it has one,
// taking nothing.
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

// Fail takes a token from key's bucket, floored at zero.
func (l *redisLimiter) Fail(ctx context.Context, key string) error {
	if err := limiterFailScript.Exec(ctx, l.c, l.key(key), l.args).Error(); err != nil {
		return fmt.Errorf("redis limiter: fail: %w", err)
	}
	return nil
}
