package redisstore_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// These tests start a Redis Cluster of their own each: 3 masters and 3
// replicas on free loopback ports (redistest.StartCluster), stopped when
// the test ends.

// clusterStore returns a store with its own client on cl.
func clusterStore(t testing.TB, cl *redistest.RedisCluster, prefix string) *redisstore.Store {
	t.Helper()
	return clusterStoreOpt(t, cl, redisstore.Options{Prefix: prefix, Bound: testBound})
}

func clusterStoreOpt(t testing.TB, cl *redistest.RedisCluster, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	return newStoreOpt(t, rueidis.ClientOption{InitAddress: cl.Addrs(), Dialer: net.Dialer{Timeout: time.Second}}, opts)
}

func TestClusterConformance(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	prefixes := map[revoke.Store]string{}
	storetest.RunConfig(t, storetest.Config{
		ServerClock: true,
		New: func(t *testing.T, _ func() time.Time) revoke.Store {
			p := storetest.ID("jwtgate-test") + ":"
			s := clusterStore(t, cl, p)
			if s.Client().Mode() != rueidis.ClientModeCluster {
				t.Fatalf("client mode %v, want cluster", s.Client().Mode())
			}
			prefixes[s] = p
			return s
		},
		Reopen: func(t *testing.T, old revoke.Store) revoke.Store {
			return clusterStore(t, cl, prefixes[old])
		},
	})
	t.Run("instances", func(t *testing.T) {
		p := storetest.ID("jwtgate-test") + ":"
		storetest.RunInstances(t, clusterStore(t, cl, p), clusterStore(t, cl, p))
	})
}

// session is a logged-in user of the failover test.
type session struct {
	access string
	// acked is when a logout of it was acknowledged (zero: never), on
	// instance by (0 or 1).
	acked atomic.Pointer[time.Time]
	by    atomic.Int32
	tried atomic.Bool // a logout was sent
}

// TestClusterFailover: a manual failover (CLUSTER FAILOVER on a
// replica: the master hands over once the replica has all its writes)
// loses no acknowledged logout without WaitReplicas.
func TestClusterFailover(t *testing.T) {
	runFailover(t, 0, func(t *testing.T, cl *redistest.RedisCluster, master, replica *redistest.RedisServer) {
		if _, err := replica.Command("CLUSTER", "FAILOVER"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClusterKillMaster: a master killed (kill -9) is replaced by its
// replica, and with WaitReplicas 1 no acknowledged logout is lost.
func TestClusterKillMaster(t *testing.T) {
	runFailover(t, 1, func(t *testing.T, cl *redistest.RedisCluster, master, replica *redistest.RedisServer) {
		master.Kill()
	})
}

// runFailover logs users in and out on two instances while requests
// flow, and fails a master over to its replica with failover in the
// middle: a token whose logout was acknowledged is never accepted
// afterwards (on the instance that logged it out, from the moment of the
// answer; on the other, after at most the bound), no acknowledged logout
// is lost, and requests recover once the cluster has.
func runFailover(t *testing.T, waitReplicas int, failover func(t *testing.T, cl *redistest.RedisCluster, master, replica *redistest.RedisServer)) {
	cl := redistest.StartCluster(t, 3, 1)
	p := storetest.ID("jwtgate-test") + ":"
	opts := redisstore.Options{Prefix: p, Bound: testBound, WaitReplicas: waitReplicas}
	ins := []*storetest.Instance{
		storetest.NewInstance(t, clusterStoreOpt(t, cl, opts)),
		storetest.NewInstance(t, clusterStoreOpt(t, cl, opts)),
	}
	var sessions []*session
	for i := range 60 {
		tok, _ := ins[i%2].Login(t, "/login", storetest.ID("user"))
		sessions = append(sessions, &session{access: tok})
	}

	var (
		stop                     atomic.Bool
		wg                       sync.WaitGroup
		ok, unavailable, refused atomic.Int64
		crossMax                 atomic.Int64 // longest 200 after a logout on the other instance, ns
		violation                = make(chan string, 1)
	)
	do := func(in *storetest.Instance, method, path, tok string) (int, error) {
		req, err := http.NewRequest(method, in.Server.URL+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := in.Server.Client().Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	fail := func(format string, args ...any) {
		select {
		case violation <- fmt.Sprintf(format, args...):
		default:
		}
		stop.Store(true)
	}
	// Readers: every token, on both instances, all the time.
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				s := sessions[rand.IntN(len(sessions))]
				which := (w + i) % 2
				start := time.Now()
				code, err := do(ins[which], "GET", "/protected", s.access)
				if err != nil {
					fail("request: %v", err)
					return
				}
				switch code {
				case 200:
					ok.Add(1)
					if at := s.acked.Load(); at != nil && start.After(*at) {
						late := start.Sub(*at)
						if int(s.by.Load()) == which {
							fail("a token logged out on instance %d was accepted there %v after the logout was acknowledged", which, late)
							return
						}
						if late > testBound {
							fail("a token logged out on the other instance was accepted %v after the logout was acknowledged (bound %v)", late, testBound)
							return
						}
						for {
							m := crossMax.Load()
							if int64(late) <= m || crossMax.CompareAndSwap(m, int64(late)) {
								break
							}
						}
					}
				case 503:
					unavailable.Add(1)
				case 401:
					refused.Add(1)
				default:
					fail("unexpected status %d", code)
					return
				}
				time.Sleep(time.Millisecond) // the machine is shared
			}
		})
	}
	// The writer: log sessions out, one by one, on either instance.
	var logouts, unknown atomic.Int64
	wg.Go(func() {
		for i := 0; i < len(sessions)/2 && !stop.Load(); i++ {
			s := sessions[i*2]
			which := rand.IntN(2)
			s.tried.Store(true)
			code, err := do(ins[which], "POST", "/logout", s.access)
			if err != nil {
				fail("logout: %v", err)
				return
			}
			switch code {
			case 204:
				now := time.Now()
				s.by.Store(int32(which))
				s.acked.Store(&now)
				logouts.Add(1)
			case 503:
				unknown.Add(1) // outcome unknown: no promise either way
			default:
				fail("logout: status %d", code)
				return
			}
			time.Sleep(40 * time.Millisecond)
		}
	})

	// In the middle of it, fail a master over to its replica.
	time.Sleep(400 * time.Millisecond)
	master := cl.Masters()[0]
	replica := cl.ReplicaOf(master)
	if replica == nil {
		t.Fatalf("no replica of %s", master.Addr)
	}
	failover(t, cl, master, replica)
	failedOver := time.Now()
	for i := 0; replica.Role() != "master"; i++ {
		if i == 400 {
			t.Fatalf("the replica was not promoted:\n%s", replica.Logs())
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Logf("%s took over from %s after %v", replica.Addr, master.Addr, time.Since(failedOver).Round(time.Millisecond))
	cl.WaitOK(t, master)
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	select {
	case v := <-violation:
		t.Fatal(v)
	default:
	}
	t.Logf("while failing over: %d × 200, %d × 401, %d × 503; %d logouts acknowledged, %d answered 503; a logout on one instance was last accepted on the other %v after it",
		ok.Load(), refused.Load(), unavailable.Load(), logouts.Load(), unknown.Load(), time.Duration(crossMax.Load()).Round(time.Microsecond))
	if logouts.Load() == 0 {
		t.Fatal("no logout was acknowledged")
	}

	// After the failover: every acknowledged logout holds on both
	// instances, and every other session works (a bounded number of
	// tries while the clients learn the new topology).
	for _, s := range sessions {
		want := 200
		if s.acked.Load() != nil {
			want = 401
		}
		for _, in := range ins {
			code := 0
			for range 200 {
				var err error
				if code, err = do(in, "GET", "/protected", s.access); err != nil {
					t.Fatal(err)
				}
				if code != 503 {
					break
				}
				time.Sleep(25 * time.Millisecond)
			}
			switch {
			case code == want:
			case want == 401 && code == 200:
				t.Fatal("an acknowledged logout was lost in the failover: 200")
			case code == 401 && s.tried.Load():
				// A logout answered 503 (outcome unknown) happened.
			default:
				t.Fatalf("after the failover: %d, want %d", code, want)
			}
		}
	}
	var err error
	for range 40 {
		if err = ins[0].Store.(revoke.Prober).Probe(context.Background()); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Probe after the failover: %v", err)
	}
}

// TestClusterFrozenMaster: the cache is trusted only while the connection
// to every master proves alive. With one master frozen (SIGSTOP, and its
// replica too, so that no failover can end the test's premise), cached
// answers stop being trusted within the bound, whatever master their keys
// are on, and Probe fails; after SIGCONT both work again.
func TestClusterFrozenMaster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	s := clusterStore(t, cl, storetest.ID("jwtgate-test")+":")
	ctx := context.Background()
	var qs []revoke.Query
	for i := range 10 {
		q := revoke.Query{JTI: storetest.ID("jti"), Subject: fmt.Sprint("user-", i), IssuedAt: time.Now()}
		// The answer is cached, and trusted once the heartbeat of every
		// master has been answered within the bound: on a loaded machine
		// the first heartbeats of a new cluster may come late, so ask
		// again a few times before calling it a failure.
		cached := false
		for try := 0; try < 50 && !cached; try++ {
			if try > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			if r, err := s.CheckToken(ctx, q); err != nil || r {
				t.Fatalf("CheckToken = %v, %v", r, err)
			}
			_, cached = s.CheckCached(q)
		}
		if !cached {
			t.Fatal("a checked token is not in the cache")
		}
		qs = append(qs, q)
	}
	master := cl.Masters()[0]
	replica := cl.ReplicaOf(master)
	if replica == nil {
		t.Fatalf("no replica of %s", master.Addr)
	}
	for _, n := range []*redistest.RedisServer{replica, master} {
		if err := n.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	frozen := time.Now()
	time.Sleep(testBound + 100*time.Millisecond)
	for _, q := range qs {
		if _, ok := s.CheckCached(q); ok {
			t.Fatalf("a cached answer is trusted %v after a master froze (bound %v)", time.Since(frozen), testBound)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, testBound)
	err := s.Probe(pctx)
	cancel()
	if err == nil {
		t.Fatal("Probe succeeded with a master frozen")
	}
	t.Logf("master frozen: Probe: %v", err)

	for _, n := range []*redistest.RedisServer{master, replica} {
		if err := n.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
	cl.WaitOK(t)
	for i := 0; ; i++ {
		if err = s.Probe(ctx); err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("Probe after SIGCONT: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := 0; ; i++ {
		if _, err := s.CheckToken(ctx, qs[0]); err == nil {
			if _, ok := s.CheckCached(qs[0]); ok {
				break
			}
		}
		if i == 100 {
			t.Fatal("the cache is not trusted again after SIGCONT")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
