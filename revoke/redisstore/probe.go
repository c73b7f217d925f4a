package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
)

var _ revoke.Prober = (*Store)(nil)

// Probe implements revoke.Prober: a write that no cache can answer,
// SET <prefix>probe:<random> PX 5000, on every master of a Cluster (one
// key per slot range) or on the one server otherwise. Without a deadline
// in ctx, Probe waits at most Options.Bound.
func (s *Store) Probe(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.live.bound)
		defer cancel()
	}
	id := rand.Text()
	set := func(ctx context.Context, key string) error {
		return s.c.Do(ctx, s.c.B().Set().Key(key).Value("1").Px(5*time.Second).Build()).Error()
	}
	var err error
	if s.c.Mode() == rueidis.ClientModeCluster {
		err = s.everyMaster(ctx, func(ctx context.Context, tag string) error {
			return set(ctx, s.prefix+"probe:{"+tag+"}:"+id)
		})
	} else {
		err = set(ctx, s.prefix+"probe:"+id)
	}
	if err != nil {
		return fmt.Errorf("redisstore: probe: %w", err)
	}
	return nil
}
