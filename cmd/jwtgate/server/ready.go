package server

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/revoke"
)

// storeCheck is the readiness check of one store.
type storeCheck struct {
	name  string // in the answer and the logs: users, revocations, keys
	probe func(context.Context) error
}

// storeChecks returns the checks /readyz runs: each store's Probe
// (revoke.Prober) where it has one. A user store without one is pinged; a
// revocation store without one is asked about a jti nobody has (no cache
// can answer that), unless its calls never wait (revoke.NonBlocking, the
// memory store): then there is nothing to check. A key source without
// Probe (a fixed *jwk.Ring) is not checked.
func storeChecks(cfg Config) []storeCheck {
	var checks []storeCheck
	if p, ok := cfg.Users.(revoke.Prober); ok {
		checks = append(checks, storeCheck{"users", p.Probe})
	} else {
		checks = append(checks, storeCheck{"users", cfg.Users.Ping})
	}
	switch rs := cfg.Revocations.(type) {
	case revoke.Prober:
		checks = append(checks, storeCheck{"revocations", rs.Probe})
	case revoke.NonBlocking:
	default:
		checks = append(checks, storeCheck{"revocations", func(ctx context.Context) error {
			_, err := rs.Revoked(ctx, "readyz-"+rand.Text())
			return err
		}})
	}
	if p, ok := cfg.Keys.(revoke.Prober); ok {
		checks = append(checks, storeCheck{"keys", p.Probe})
	}
	return checks
}

// Outcomes of a store check in the /readyz answer.
const (
	checkOK      = "ok"
	checkFailed  = "failed"  // the store answered with an error
	checkTimeout = "timeout" // no answer within Config.StoreBound
)

// readyz probes every store at once, each within Config.StoreBound, on
// every request (nothing is remembered between requests), and answers
// 200 when all passed, else 503 naming the stores that did not. The
// answer carries no error text (it may name hosts or files): the log has
// it.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreBound)
	defer cancel()
	type result struct {
		i   int
		err error
	}
	// Buffered: a probe that outlives the request (a driver that ignores
	// its context) still ends without a reader.
	done := make(chan result, len(s.checks))
	for i, c := range s.checks {
		go func() { done <- result{i, c.probe(ctx)} }()
	}
	outcome := make(map[string]string, len(s.checks))
	for _, c := range s.checks {
		outcome[c.name] = checkTimeout
	}
wait:
	for range s.checks {
		var res result
		select {
		case res = <-done:
		case <-ctx.Done():
			break wait // the others stay "timeout"
		}
		c := s.checks[res.i]
		switch {
		case res.err == nil:
			outcome[c.name] = checkOK
			continue
		case ctx.Err() == nil:
			outcome[c.name] = checkFailed
		}
		s.log.Warn("not ready", "store", c.name, "outcome", outcome[c.name], "err", res.err)
	}
	var failed []string
	for _, c := range s.checks {
		if outcome[c.name] != checkOK {
			failed = append(failed, c.name)
		}
	}
	if len(failed) > 0 {
		s.log.Warn("answering not ready", "stores", strings.Join(failed, ","), "bound", s.cfg.StoreBound)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"status":            "unavailable",
			"error":             "temporarily_unavailable",
			"error_description": "not ready: no answer, or an error, within " + s.cfg.StoreBound.String() + " from the store(s): " + strings.Join(failed, ", "),
			"stores":            outcome,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "stores": outcome})
}
