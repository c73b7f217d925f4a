package server

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate"
)

// metrics are the service's counters, served at GET /metrics in the
// Prometheus text format (version 0.0.4). They are kept with atomics and a
// mutex for the label sets, without a client library.
type metrics struct {
	mu            sync.Mutex
	logins        map[string]*atomic.Uint64 // by outcome
	issued        map[string]*atomic.Uint64 // by token type
	verifications map[string]*atomic.Uint64 // by outcome
	lost          map[string]*atomic.Uint64 // records not written, by kind
	store         histogram                 // revocation store check latency
}

func newMetrics() *metrics {
	return &metrics{
		logins:        map[string]*atomic.Uint64{},
		issued:        map[string]*atomic.Uint64{},
		verifications: map[string]*atomic.Uint64{},
		lost:          map[string]*atomic.Uint64{},
		store:         newHistogram([]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}),
	}
}

func (m *metrics) inc(set map[string]*atomic.Uint64, label string) {
	m.mu.Lock()
	c, ok := set[label]
	if !ok {
		c = new(atomic.Uint64)
		set[label] = c
	}
	m.mu.Unlock()
	c.Add(1)
}

func (m *metrics) login(outcome string)        { m.inc(m.logins, outcome) }
func (m *metrics) tokenIssued(typ string)      { m.inc(m.issued, typ) }
func (m *metrics) verification(outcome string) { m.inc(m.verifications, outcome) }
func (m *metrics) recordLost(kind string)      { m.inc(m.lost, kind) }

// verificationOutcome names a Gate error for the verifications counter.
func verificationOutcome(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{jwtgate.ErrNoToken, "no_token"}, {jwtgate.ErrBadHeader, "bad_header"},
		{jwtgate.ErrExpired, "expired"}, {jwtgate.ErrWrongType, "wrong_type"},
		{jwtgate.ErrNotFresh, "not_fresh"}, {jwtgate.ErrRevoked, "revoked"},
		{jwtgate.ErrCSRF, "csrf"}, {jwtgate.ErrClaims, "claims"},
		{jwtgate.ErrUserLoad, "user_load"}, {jwtgate.ErrUnavailable, "unavailable"},
		{jwtgate.ErrInvalid, "invalid"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "error"
}

// histogram is a fixed-bucket latency histogram in seconds.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64 // one per bound, plus +Inf
	sumNs  atomic.Uint64
	total  atomic.Uint64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(h.bounds, s)
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(max(d, 0)))
	h.total.Add(1)
}

// ServeHTTP writes the metrics.
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	counter := func(name, help, label string, set map[string]*atomic.Uint64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		m.mu.Lock()
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		m.mu.Unlock()
		sort.Strings(keys)
		for _, k := range keys {
			m.mu.Lock()
			v := set[k].Load()
			m.mu.Unlock()
			fmt.Fprintf(&b, "%s{%s=%q} %d\n", name, label, k, v)
		}
	}
	counter("jwtgate_logins_total", "Login attempts (POST /auth and /login) by outcome.", "outcome", m.logins)
	counter("jwtgate_tokens_issued_total", "Tokens issued by type.", "type", m.issued)
	counter("jwtgate_verifications_total", "Token verifications on protected endpoints by outcome.", "outcome", m.verifications)
	counter("jwtgate_records_lost_total", "Audit events and session registry writes that failed (the request went on), by kind.", "kind", m.lost)
	h := &m.store
	const name = "jwtgate_revocation_check_seconds"
	fmt.Fprintf(&b, "# HELP %s Latency of revocation store checks.\n# TYPE %s histogram\n", name, name)
	var cum uint64
	for i, bound := range h.bounds {
		cum += h.counts[i].Load()
		fmt.Fprintf(&b, "%s_bucket{le=\"%g\"} %d\n", name, bound, cum)
	}
	cum += h.counts[len(h.bounds)].Load()
	fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n", name, cum)
	fmt.Fprintf(&b, "%s_sum %g\n%s_count %d\n", name, float64(h.sumNs.Load())/1e9, name, h.total.Load())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
