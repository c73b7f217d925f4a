package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
)

// sessionSwitch wraps a revocation store for the benchmark below: with
// blind set, checks leave the token's session out of the query, as they
// did before sessions (the "without" variant); without it, queries pass
// unchanged. Both variants go through the wrapper, so that they differ
// only in the family lookup.
type sessionSwitch struct {
	revoke.Store
	blind bool
}

func (s sessionSwitch) CheckToken(ctx context.Context, q revoke.Query) (bool, error) {
	if s.blind {
		q.Family = ""
	}
	return revoke.CheckToken(ctx, s.Store, q)
}

func (s sessionSwitch) CheckCached(q revoke.Query) (revoked, ok bool) {
	c, isCached := s.Store.(revoke.CachedChecker)
	if !isCached {
		return false, false
	}
	if s.blind {
		q.Family = ""
	}
	return c.CheckCached(q)
}

// nonBlockingSwitch keeps the memory store's NonBlocking mark.
type nonBlockingSwitch struct{ sessionSwitch }

func (nonBlockingSwitch) NonBlocking() {}

func switched(s revoke.Store, blind bool) revoke.Store {
	w := sessionSwitch{Store: s, blind: blind}
	if _, ok := s.(revoke.NonBlocking); ok {
		return nonBlockingSwitch{w}
	}
	return w
}

// benchStores are the stores of the session benchmarks.
var benchStores = []struct {
	name string
	open func(b *testing.B, data *DataDir) revoke.Store
}{
	{"memory", func(*testing.B, *DataDir) revoke.Store { return revoke.NewMemory(revoke.MemoryOptions{}) }},
	{"sqlite", func(_ *testing.B, data *DataDir) revoke.Store { return data.Revocations }},
	{"redis", func(b *testing.B, _ *DataDir) revoke.Store {
		redistest.Redis(b, rueidis.ClientOption{})
		st, err := Open(context.Background(), StoreConfig{DataDir: b.TempDir(), Redis: redistest.RedisAddr(),
			RedisPrefix: "jwtgate-bench-" + rand.Text() + ":"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st.Revocations
	}},
}

// benchData returns a data directory with the user alice.
func benchData(b *testing.B) *DataDir {
	ctx := context.Background()
	data, err := OpenDataDir(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { data.Close() })
	if err := data.Users.Add(ctx, "alice", testPassword); err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkUserinfoSessions measures GET /userinfo (ES256 access token of a
// session, signature cache on, as jwtgate serve runs) with the session
// check (family=with) and without it (family=without: the query leaves
// the session out), on each store, with as many clients as GOMAXPROCS.
// The token is always the same one: the store's cache answers, as for a
// client's many requests. BenchmarkUserinfoSessionsPaired measures the
// same two alternately, for a comparison that load on the machine does
// not skew.
//
//	go test ./cmd/jwtgate/server -run '^$' -bench 'BenchmarkUserinfoSessions' -count 6 | tee sessions.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /family sessions.txt
func BenchmarkUserinfoSessions(b *testing.B) {
	for _, store := range benchStores {
		b.Run("store="+store.name, func(b *testing.B) {
			data := benchData(b)
			rev := store.open(b, data)
			for _, family := range []string{"with", "without"} {
				b.Run("family="+family, func(b *testing.B) {
					s, token := benchServer(b, data, switched(rev, family == "without"))
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						req := httptest.NewRequest("GET", "/userinfo", nil)
						req.Header.Set("Authorization", "Bearer "+token)
						w := &benchWriter{h: http.Header{}}
						for pb.Next() {
							w.status = 0
							s.ServeHTTP(w, req)
							if w.status != 200 {
								b.Errorf("userinfo: %d", w.status)
								return
							}
						}
					})
				})
			}
		})
	}
}

// BenchmarkUserinfoSessionsPaired sends requests alternately to a server
// with the session check and to one without (same store, same token),
// timing each request, and reports the median time of each
// (with-ns/req, without-ns/req) and the throughput with the check as a
// percentage of the throughput without (throughput-%, the ratio of the
// medians). A slow moment of a shared machine falls on both alike, and
// the medians leave out the requests that were preempted.
func BenchmarkUserinfoSessionsPaired(b *testing.B) {
	for _, store := range benchStores {
		b.Run("store="+store.name, func(b *testing.B) {
			data := benchData(b)
			rev := store.open(b, data)
			with, token := benchServer(b, data, switched(rev, false))
			without, _ := benchServer(b, data, switched(rev, true))
			servers := [2]*Server{with, without}
			req := httptest.NewRequest("GET", "/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			w := &benchWriter{h: http.Header{}}
			var samples [2][]time.Duration
			i := 0
			for b.Loop() {
				first := i & 1 // alternate which one goes first
				for k := range 2 {
					j := first ^ k
					w.status = 0
					t0 := time.Now()
					servers[j].ServeHTTP(w, req)
					samples[j] = append(samples[j], time.Since(t0))
					if w.status != 200 {
						b.Fatalf("userinfo: %d", w.status)
					}
				}
				i++
			}
			medWith, medWithout := median(samples[0]), median(samples[1])
			if medWith <= 0 {
				return
			}
			b.ReportMetric(float64(medWith.Nanoseconds()), "with-ns/req")
			b.ReportMetric(float64(medWithout.Nanoseconds()), "without-ns/req")
			b.ReportMetric(100*float64(medWithout)/float64(medWith), "throughput-%")
		})
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// benchServer returns a server over rev and an access token of a session
// of alice.
func benchServer(b *testing.B, data *DataDir, rev revoke.Store) (*Server, string) {
	log := slog.New(slog.DiscardHandler)
	key, err := data.SigningKey(jwt.ES256, log)
	if err != nil {
		b.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, key)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Users: data.Users, Revocations: rev, Keys: ring, Algorithm: jwt.ES256,
		Issuer: "https://auth.example", Logger: log, LoginBurst: -1})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	login := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"alice","password":"`+testPassword+`"}`))
	login.Header.Set("Content-Type", "application/json")
	s.ServeHTTP(rec, login)
	var tokens struct {
		Access string `json:"access_token"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &tokens) != nil || tokens.Access == "" {
		b.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	tok, err := s.Gate().DecodeToken(context.Background(), tokens.Access)
	if err != nil {
		b.Fatal(err)
	}
	if sid, err := revoke.SessionOf(tok); err != nil || sid == "" {
		b.Fatalf("the access token carries no session: %q, %v", sid, err)
	}
	return s, tokens.Access
}

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	h      http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.status = code }
