package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// ErrNotReplicated: a write reached the master but fewer replicas than
// Options.WaitReplicas acknowledged it in time. Whether it survives a
// failover is unknown; repeating it is safe.
var ErrNotReplicated = errors.New("redisstore: write not acknowledged by enough replicas")

// script is a Lua script of the store: its source (for EVAL on a
// dedicated connection) and rueidis's EVALSHA wrapper.
type script struct {
	src string
	lua *rueidis.Lua
}

func newScript(src string) script { return script{src: src, lua: rueidis.NewLuaScript(src)} }

// exec runs sc on keys and args. With Options.WaitReplicas, it runs it
// and then WAIT on one dedicated connection (WAIT counts the writes of its
// own connection) to the master of the key, and fails with
// ErrNotReplicated unless enough replicas acknowledged it.
func (s *Store) exec(ctx context.Context, sc script, keys, args []string) rueidis.RedisResult {
	if s.waitReplicas <= 0 {
		return sc.lua.Exec(ctx, s.c, keys, args)
	}
	timeout := s.live.bound
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	waitMS := max(timeout.Milliseconds(), 1)
	var res rueidis.RedisResult
	err := s.c.Dedicated(func(d rueidis.DedicatedClient) error {
		rs := d.DoMulti(ctx,
			d.B().Eval().Script(sc.src).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(),
			d.B().Wait().Numreplicas(int64(s.waitReplicas)).Timeout(waitMS).Build())
		if len(rs) != 2 {
			return fmt.Errorf("redisstore: %d answers to 2 commands", len(rs))
		}
		res = rs[0]
		if res.Error() != nil {
			return nil
		}
		n, err := rs[1].AsInt64()
		if err != nil {
			return fmt.Errorf("redisstore: wait: %w", err)
		}
		if n < int64(s.waitReplicas) {
			return fmt.Errorf("%w: %d of %d within %d ms", ErrNotReplicated, n, s.waitReplicas, waitMS)
		}
		return nil
	})
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	return res
}
