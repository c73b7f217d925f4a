package server

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// TestRedisOptions reads the shapes of --redis and --redis-sentinel-master.
func TestRedisOptions(t *testing.T) {
	for _, tc := range []struct {
		name, redis, master string
		addrs               []string
		wantMaster, err     string
	}{
		{"one address", "127.0.0.1:6379", "", []string{"127.0.0.1:6379"}, "", ""},
		{"cluster nodes", "10.0.0.1:7000, 10.0.0.2:7000,10.0.0.3:7000", "", []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}, "", ""},
		{"sentinels", "s1:26379,s2:26379", "mymaster", []string{"s1:26379", "s2:26379"}, "mymaster", ""},
		{"URL with more addresses", "redis://r1:6379?addr=r2:6379&addr=r3:6379", "", []string{"r1:6379", "r2:6379", "r3:6379"}, "", ""},
		{"URL with master_set", "redis://s1:26379?addr=s2:26379&master_set=m", "", []string{"s1:26379", "s2:26379"}, "m", ""},
		{"URL and the same master", "redis://s1:26379?master_set=m", "m", []string{"s1:26379"}, "m", ""},
		{"URL and another master", "redis://s1:26379?master_set=m", "n", nil, "", "two Sentinel master names"},
		{"a bad address in a list", "r1:6379,r2", "", nil, "", `"r2": want host:port`},
		{"an empty address in a list", "r1:6379,", "", nil, "", "want host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := redisOptions(tc.redis, tc.master)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(opt.InitAddress, " ") != strings.Join(tc.addrs, " ") {
				t.Errorf("addresses %q, want %q", opt.InitAddress, tc.addrs)
			}
			if opt.Sentinel.MasterSet != tc.wantMaster {
				t.Errorf("sentinel master %q, want %q", opt.Sentinel.MasterSet, tc.wantMaster)
			}
			if opt.Dialer.Timeout != redisDialTimeout || (tc.wantMaster != "" && opt.Sentinel.Dialer.Timeout != redisDialTimeout) {
				t.Errorf("dial timeouts %v, %v", opt.Dialer.Timeout, opt.Sentinel.Dialer.Timeout)
			}
		})
	}
}

// checkRedisStores uses the revocations and the login limiter of st on
// many keys (so, on a Cluster, on every master): a revocation holds, the
// probe passes, and a limiter spends a key's budget on its failures.
func checkRedisStores(t *testing.T, st *Stores) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	until := time.Now().Add(time.Hour)
	for i := range 20 {
		jti, sub := "jti-"+strconv.Itoa(i), "user-"+strconv.Itoa(i)
		if err := st.Revocations.Revoke(ctx, jti, until); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if r, err := revoke.CheckToken(ctx, st.Revocations, revoke.Query{JTI: jti, Subject: sub, IssuedAt: time.Now()}); err != nil || !r {
			t.Fatalf("CheckToken of a revoked token = %v, %v", r, err)
		}
		if r, err := revoke.CheckToken(ctx, st.Revocations, revoke.Query{JTI: "other-" + jti, Subject: sub, IssuedAt: time.Now()}); err != nil || r {
			t.Fatalf("CheckToken of a valid token = %v, %v", r, err)
		}
	}
	p, ok := st.Revocations.(revoke.Prober)
	if !ok {
		t.Fatal("the Redis store is not a revoke.Prober")
	}
	if err := p.Probe(ctx); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	l, err := NewRedisLimiter(st.Redis, st.RedisPrefix, 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		key := "ip:" + strconv.Itoa(i)
		for n := range 3 {
			id := key + "-" + strconv.Itoa(n)
			g, err := l.Take(ctx, key, id)
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			if g.Taken != (n < 2) {
				t.Fatalf("attempt %d of %s after %d failures: %+v", n+1, key, n, g)
			}
			if g.Taken {
				if err := l.Settle(ctx, key, id, true); err != nil {
					t.Fatalf("Settle: %v", err)
				}
			}
		}
	}
}

// TestOpenRedisCluster opens the stores on a Redis Cluster the test
// starts (3 masters, 3 replicas), by all its addresses and by one, and
// with revocations that wait for a replica.
func TestOpenRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	for name, cfg := range map[string]StoreConfig{
		"every node":        {Redis: strings.Join(cl.Addrs(), ",")},
		"one node":          {Redis: cl.Nodes[0].Addr},
		"waiting a replica": {Redis: cl.Nodes[1].Addr, RedisWaitReplicas: 1},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.DataDir, cfg.RedisPrefix = t.TempDir(), "jwtgate-test-"+rand.Text()+":"
			st, err := Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !strings.Contains(st.Where, "Redis Cluster") {
				t.Fatalf("Where = %q", st.Where)
			}
			checkRedisStores(t, st)
		})
	}
}

// TestOpenRedisSentinel opens the stores through a Sentinel the test
// starts, and follows a failover after the master is killed (kill -9):
// what was written (and replicated) before it holds after it, and writes
// work on the new master.
func TestOpenRedisSentinel(t *testing.T) {
	rs := redistest.StartSentinel(t)
	st, err := Open(context.Background(), StoreConfig{DataDir: t.TempDir(), Redis: rs.Sentinel.Addr, RedisSentinelMaster: rs.Master})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !strings.Contains(st.Where, "Sentinel") {
		t.Fatalf("Where = %q", st.Where)
	}
	checkRedisStores(t, st)

	ctx := context.Background()
	if err := st.Revocations.Revoke(ctx, "before", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Replication is asynchronous: wait until the replica has the
	// revocation, then fail over.
	for i := 0; ; i++ {
		if v, err := rs.Replica.Command("EXISTS", "jwtgate:j:before"); err == nil && v == "1" {
			break
		}
		if i == 400 {
			t.Fatal("the replica does not get the revocation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rs.Primary.Kill()
	for i := 0; rs.Replica.Role() != "master"; i++ {
		if i == 400 {
			t.Fatal("the replica was not promoted")
		}
		time.Sleep(25 * time.Millisecond)
	}
	// The client follows the new master (a bounded number of tries).
	var werr error
	for range 400 {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		werr = st.Revocations.Revoke(cctx, "after", time.Now().Add(time.Hour))
		cancel()
		if werr == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if werr != nil {
		t.Fatalf("writes after the failover: %v", werr)
	}
	if v, err := rs.Replica.Command("EXISTS", "jwtgate:j:after"); err != nil || v != "1" {
		t.Fatalf("the write after the failover is not on the new master: %q %v", v, err)
	}
	for _, jti := range []string{"before", "after"} {
		if r, err := st.Revocations.Revoked(ctx, jti); err != nil || !r {
			t.Fatalf("Revoked(%s) after the failover = %v, %v", jti, r, err)
		}
	}
}
