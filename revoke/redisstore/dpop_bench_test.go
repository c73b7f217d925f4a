//go:build unix

package redisstore_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
	"github.com/jwtgate/jwtgate/revoke/redisstore"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start: on a machine
// shared with other work, a steadier figure than the wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDPoPRequest measures a request to a Gate-protected route with
// a DPoP-bound token and an ES256 proof (Config.DPoP, replay check in
// memory and in Redis) against its parts: the ES256 floor (one
// ecdsa.VerifyASN1) and the Gate's bearer Required (HS256 access token,
// no revocation check). The target is dpop <= 1.1 × (floor + bearer).
// Each request has a proof of its own, made before the timed loop.
func BenchmarkDPoPRequest(b *testing.B) {
	ctx := context.Background()
	hkey, err := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	ck, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	prover, err := dpop.NewProver(ck, jwt.ES256, nil)
	if err != nil {
		b.Fatal(err)
	}
	target, _ := url.Parse("http://api.example/orders")
	calls := 0
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(204)
	})
	w := &nopWriter{h: http.Header{}}

	b.Run("impl=es256-floor", func(b *testing.B) {
		digest := sha256.Sum256([]byte("a DPoP proof's signing input"))
		sig, err := ecdsa.SignASN1(rand.Reader, ck, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			if !ecdsa.VerifyASN1(&ck.PublicKey, digest[:], sig) {
				b.Fatal("signature refused")
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("impl=bearer-required", func(b *testing.B) {
		g, err := jwtgate.New(jwtgate.Config{SigningKey: hkey})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := g.CreateAccessToken(ctx, "user-12345")
		if err != nil {
			b.Fatal(err)
		}
		r := httptest.NewRequest("GET", target.String(), nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h := g.Required(ok)
		calls = 0
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
		reportCPU(b, cpu)
		if calls != b.N {
			b.Fatalf("%d of %d requests passed", calls, b.N)
		}
	})
	run := func(b *testing.B, replay dpop.ReplayStore) {
		v, err := dpop.NewVerifier(dpop.Options{Replay: replay})
		if err != nil {
			b.Fatal(err)
		}
		g, err := jwtgate.New(jwtgate.Config{SigningKey: hkey, DPoP: v})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := g.CreateAccessToken(ctx, "user-12345", jwtgate.BindTo(prover.Thumbprint()))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		proofs := make([]string, b.N)
		for i := range proofs {
			if proofs[i], err = prover.Proof("GET", target, tok, ""); err != nil {
				b.Fatal(err)
			}
		}
		r := httptest.NewRequest("GET", target.String(), nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		h := g.Required(ok)
		calls = 0
		b.ReportAllocs()
		cpu := cpuTime(b)
		b.StartTimer()
		for i := 0; i < b.N; i++ {
			r.Header["Dpop"] = proofs[i : i+1]
			h.ServeHTTP(w, r)
		}
		b.StopTimer()
		reportCPU(b, cpu)
		if calls != b.N {
			b.Fatalf("%d of %d requests passed", calls, b.N)
		}
	}
	b.Run("impl=dpop-memory", func(b *testing.B) {
		run(b, revoke.NewMemory(revoke.MemoryOptions{}))
	})
	b.Run("impl=redis-use", func(b *testing.B) {
		// The replay check alone: one SET NX PX round trip.
		needRedis(b)
		s, err := redisstore.New(rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}},
			redisstore.Options{Prefix: storetest.ID("jwtgate-bench") + ":"})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		prefix := storetest.ID("use")
		until := time.Now().Add(time.Minute)
		i := 0
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			i++
			if first, err := s.Use(ctx, prefix+strconv.Itoa(i), until); err != nil || !first {
				b.Fatal(first, err)
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("impl=es256-raw-redis-floor", func(b *testing.B) {
		// The floor of any Redis replay check that overlaps the
		// signature check: a SET NX PX written on a plain connection
		// before one ecdsa.VerifyASN1 and its answer read after it, on
		// the same goroutine (no client, no pipelining goroutines, no
		// allocation but the key). What this costs over es256-floor is
		// the two system calls, and what Redis's own work on the same
		// cores takes from the signature check.
		needRedis(b)
		c, err := net.Dial("tcp", redistest.RedisAddr())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		rd := bufio.NewReader(c)
		digest := sha256.Sum256([]byte("a DPoP proof's signing input"))
		sig, err := ecdsa.SignASN1(rand.Reader, ck, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		key := storetest.ID("jwtgate-bench-raw") + ":"
		cmd := make([]byte, 0, 128)
		i := 0
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			i++
			k := strconv.AppendInt([]byte(key), int64(i), 10)
			cmd = append(cmd[:0], "*6\r\n$3\r\nSET\r\n$"...)
			cmd = strconv.AppendInt(cmd, int64(len(k)), 10)
			cmd = append(append(append(cmd, "\r\n"...), k...), "\r\n$1\r\n1\r\n$2\r\nNX\r\n$2\r\nPX\r\n$5\r\n60000\r\n"...)
			if _, err := c.Write(cmd); err != nil {
				b.Fatal(err)
			}
			if !ecdsa.VerifyASN1(&ck.PublicKey, digest[:], sig) {
				b.Fatal("signature refused")
			}
			if line, err := rd.ReadSlice('\n'); err != nil || string(line) != "+OK\r\n" {
				b.Fatalf("SET NX: %q %v", line, err)
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("impl=dpop-redis", func(b *testing.B) {
		needRedis(b)
		// The proofs' ids expire in Redis on their own, MaxAge plus
		// Leeway after their iat.
		s, err := redisstore.New(rueidis.ClientOption{InitAddress: []string{redistest.RedisAddr()}},
			redisstore.Options{Prefix: storetest.ID("jwtgate-bench") + ":"})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s)
	})
}
