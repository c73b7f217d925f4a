package server

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// BenchmarkRefreshRecordsPaired measures POST /refresh on a data
// directory (SQLite) with the session registry and the audit log
// (records) and without them (none), alternately, one refresh of each
// per iteration, and reports the median time of each (records-ns/req,
// none-ns/req) and the throughput with the records as a percentage of the
// throughput without. With the records, each refresh writes one audit
// event; the registry's last use is written once a minute at most, so it
// is not in the steady state measured here.
//
//	go test ./cmd/jwtgate/server -run '^$' -bench 'BenchmarkRefreshRecordsPaired' -count 6
func BenchmarkRefreshRecordsPaired(b *testing.B) {
	data := benchData(b)
	log := slog.New(slog.DiscardHandler)
	data.Audit.SetLogger(log)
	key, err := data.SigningKey(jwt.ES256, log)
	if err != nil {
		b.Fatal(err)
	}
	ring, err := jwk.NewRing(jwk.RingOptions{}, key)
	if err != nil {
		b.Fatal(err)
	}
	var servers [2]*Server
	var refresh [2]string
	for i := range servers {
		cfg := Config{Users: data.Users, Revocations: data.Revocations, Keys: ring, Algorithm: jwt.ES256,
			Issuer: "https://auth.example", Logger: log, LoginBurst: -1}
		if i == 0 {
			cfg.Sessions, cfg.Audit = data.Sessions, data.Audit
		}
		if servers[i], err = New(cfg); err != nil {
			b.Fatal(err)
		}
		refresh[i] = benchRefresh(b, servers[i], "POST", "/login", `{"username":"alice","password":"`+testPassword+`"}`)
	}
	var samples [2][]time.Duration
	i := 0
	for b.Loop() {
		first := i & 1
		for k := range 2 {
			j := first ^ k
			t0 := time.Now()
			refresh[j] = benchRefresh(b, servers[j], "POST", "/refresh", refresh[j])
			samples[j] = append(samples[j], time.Since(t0))
		}
		i++
	}
	with, without := median(samples[0]), median(samples[1])
	if with <= 0 {
		return
	}
	b.ReportMetric(float64(with.Nanoseconds()), "records-ns/req")
	b.ReportMetric(float64(without.Nanoseconds()), "none-ns/req")
	b.ReportMetric(100*float64(without)/float64(with), "throughput-%")
}

// benchRefresh sends a login (body: credentials) or a refresh (body: the
// refresh token, sent as a bearer token) and returns the new refresh
// token.
func benchRefresh(b *testing.B, s *Server, method, path, body string) string {
	var req = httptest.NewRequest(method, path, nil)
	if path == "/login" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Authorization", "Bearer "+body)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var tokens struct {
		Refresh string `json:"refresh_token"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &tokens) != nil || tokens.Refresh == "" {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	return tokens.Refresh
}
