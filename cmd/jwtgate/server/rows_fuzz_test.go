package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// inStoredRange reports whether ms is a time storedTime accepts.
func inStoredRange(ms int64) bool { return minStoredMillis <= ms && ms <= maxStoredMillis }

// wantStoredTime checks a time read from a column of Unix milliseconds:
// the same milliseconds, and JSON can write it.
func wantStoredTime(t *testing.T, column string, got time.Time, ms int64) {
	t.Helper()
	if got.UnixMilli() != ms {
		t.Fatalf("%s %d read as %v (%d)", column, ms, got, got.UnixMilli())
	}
	if _, err := json.Marshal(got.UTC()); err != nil {
		t.Fatalf("%s %d read as %v, which JSON cannot hold: %v", column, ms, got, err)
	}
}

// wantCorrupt checks the error of a row: it wraps errCorruptRow exactly
// when some time is out of years 1 to 9999 (or, ok false, another value
// is out of its range).
func wantCorrupt(t *testing.T, err error, ok bool) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Fatalf("a good row refused: %v", err)
	case !ok && !errors.Is(err, errCorruptRow):
		t.Fatalf("a corrupt row read (%v), want errCorruptRow", err)
	}
}

var storedMillisSeeds = []int64{0, 1_767_225_600_000, -1, minStoredMillis, maxStoredMillis, minStoredMillis - 1,
	maxStoredMillis + 1, math.MaxInt64, math.MinInt64}

// FuzzStoredUser: a user row is read when its creation time is of years
// 1 to 9999, and then as stored (the same milliseconds, flags as 0 or
// not) and the admin API can write it as JSON; otherwise it is refused
// with errCorruptRow.
func FuzzStoredUser(f *testing.F) {
	for _, ms := range storedMillisSeeds {
		f.Add("ann", ms, 1, 0)
	}
	f.Add("\xff\x00", int64(0), -1, 2)
	f.Fuzz(func(t *testing.T, name string, ms int64, admin, disabled int) {
		u, err := userFromRow(name, ms, admin, disabled)
		wantCorrupt(t, err, inStoredRange(ms))
		if err != nil {
			return
		}
		wantStoredTime(t, "created_ms", u.Created, ms)
		if u.Username != name || u.Admin != (admin != 0) || u.Disabled != (disabled != 0) {
			t.Fatalf("row (%q, %d, %d) read as %+v", name, admin, disabled, u)
		}
		if _, err := json.Marshal(toUserJSON(u)); err != nil {
			t.Fatalf("%+v: %v", u, err)
		}
	})
}

// FuzzStoredSession: a session row is read when its times are of years
// 1 to 9999 (ended_ms when not NULL), and then as stored; the API can
// write it as JSON. Otherwise it is refused with errCorruptRow.
func FuzzStoredSession(f *testing.F) {
	for _, ms := range storedMillisSeeds {
		f.Add("sid", "ann", int64(0), ms, int64(0), "agent", "127.0.0.1", true, ms, true, "logout")
		f.Add("sid", "ann", ms, int64(0), ms, "", "", false, ms, false, "")
	}
	f.Fuzz(func(t *testing.T, sid, username string, created, used, expires int64, ua, addr string,
		endedValid bool, ended int64, reasonValid bool, reason string) {
		r := sessionRow{sid: sid, username: username, created: created, used: used, expires: expires, userAgent: ua, address: addr,
			ended: sql.NullInt64{Int64: ended, Valid: endedValid}, reason: sql.NullString{String: reason, Valid: reasonValid}}
		x, err := r.session()
		ok := inStoredRange(created) && inStoredRange(used) && inStoredRange(expires) && (!endedValid || inStoredRange(ended))
		wantCorrupt(t, err, ok)
		if err != nil {
			return
		}
		wantStoredTime(t, "created_ms", x.Created, created)
		wantStoredTime(t, "last_used_ms", x.LastUsed, used)
		wantStoredTime(t, "expires_ms", x.Expires, expires)
		if endedValid {
			wantStoredTime(t, "ended_ms", x.Ended, ended)
			if x.EndedReason != reason {
				t.Fatalf("ended_reason %q read as %q", reason, x.EndedReason)
			}
		} else if !x.Ended.IsZero() || x.EndedReason != "" {
			t.Fatalf("an active session read as ended: %+v", x)
		}
		if x.SID != sid || x.Username != username || x.UserAgent != ua || x.Address != addr {
			t.Fatalf("row read as %+v", x)
		}
		if _, err := json.Marshal(sessionsJSON([]Session{x}, sid)); err != nil {
			t.Fatalf("%+v: %v", x, err)
		}
	})
}

// FuzzStoredClient: a client row is read when its times are of years 1
// to 9999 and its ttl_ms fits a time.Duration, and then as stored: what
// an update writes back (times, ttl_ms, scopes, audiences) is what was
// read, and the admin API can write it as JSON. Otherwise it is refused
// with errCorruptRow.
func FuzzStoredClient(f *testing.F) {
	for _, ms := range storedMillisSeeds {
		f.Add("jc_X", "svc", "", ms, "read write", "https://api.example", ms, `{"keys":[]}`, "", 1, 0, ms)
	}
	f.Add("jc_X", "svc", "", time.Time{}.UnixMilli(), "  a\t\nb ", "", maxStoredTTL, "", "https://x", 0, 1, int64(0))
	f.Add("jc_X", "svc", "", int64(0), "", "", maxStoredTTL+1, "", "", 0, 0, int64(0))
	f.Add("jc_X", "svc", "", int64(0), "", "", -maxStoredTTL-1, "", "", 0, 0, int64(0))
	s := &Server{cfg: Config{Clock: time.Now}}
	f.Fuzz(func(t *testing.T, id, name, oldHash string, oldUntil int64, scopes, auds string, ttl int64,
		jwks, jwksURI string, refresh, disabled int, created int64) {
		r := clientRow{id: id, name: name, secretHash: "h", oldSecretHash: oldHash, oldSecretUntil: oldUntil, scopes: scopes,
			audiences: auds, ttl: ttl, jwks: jwks, jwksURI: jwksURI, refresh: refresh, disabled: disabled, created: created}
		c, err := r.client()
		ok := inStoredRange(oldUntil) && inStoredRange(created) && ttl >= -maxStoredTTL && ttl <= maxStoredTTL
		wantCorrupt(t, err, ok)
		if err != nil {
			return
		}
		wantStoredTime(t, "old_secret_until", c.OldSecretUntil, oldUntil)
		wantStoredTime(t, "created_ms", c.Created, created)
		if c.TTL.Milliseconds() != ttl || (ttl > 0) != (c.TTL > 0) {
			t.Fatalf("ttl_ms %d read as %v", ttl, c.TTL)
		}
		for _, l := range []struct {
			column string
			got    []string
		}{{scopes, c.Scopes}, {auds, c.Audiences}} {
			if again := strings.Fields(strings.Join(l.got, " ")); !slices.Equal(again, l.got) || len(l.got) != len(strings.Fields(l.column)) {
				t.Fatalf("%q read as %q, written back as %q", l.column, l.got, again)
			}
		}
		if c.ID != id || c.Name != name || c.JWKS != jwks || c.JWKSURI != jwksURI || c.Refresh != (refresh != 0) || c.Disabled != (disabled != 0) {
			t.Fatalf("row read as %+v", c)
		}
		if _, err := json.Marshal(s.toClientJSON(c)); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
	})
}

// FuzzStoredKey: a signing key row is read only when its key parses,
// carries the row's kid and can sign with the row's algorithm, and its
// times are of years 1 to 9999: then the key signs a token that its
// public part verifies. Otherwise the error says which key, and times
// out of range wrap errCorruptRow. Never a panic.
func FuzzStoredKey(f *testing.F) {
	kidES, pemES := storedKeyPEM(f, jwt.ES256)
	kidEd, pemEd := storedKeyPEM(f, jwt.EdDSA)
	for _, ms := range storedMillisSeeds {
		f.Add(kidES, "ES256", pemES, true, ms, false, int64(0))
		f.Add(kidEd, "EdDSA", pemEd, false, int64(0), true, ms)
	}
	f.Add(kidES, "ES384", pemES, false, int64(0), false, int64(0))
	f.Add(kidES, "HS256", pemES, false, int64(0), false, int64(0))
	f.Add("other", "ES256", pemES, false, int64(0), false, int64(0))
	f.Add(kidES, "ES256", pemES[:len(pemES)/2], false, int64(0), false, int64(0))
	f.Add(kidES, "ES256", `{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2U","kid":"k"}`, false, int64(0), false, int64(0))
	f.Add("", "", "", false, int64(0), false, int64(0))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, kid, alg, pem string, activateValid bool, activate int64, retireValid bool, retire int64) {
		r := keyRow{kid: kid, alg: alg, pem: pem, activate: sql.NullInt64{Int64: activate, Valid: activateValid},
			retire: sql.NullInt64{Int64: retire, Valid: retireValid}}
		sk, err := r.parse()
		timesOK := (!activateValid || inStoredRange(activate)) && (!retireValid || inStoredRange(retire))
		if err != nil {
			if errors.Is(err, errCorruptRow) && timesOK {
				t.Fatalf("good times refused as corrupt: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "server: ") {
				t.Fatalf("error without its origin: %v", err)
			}
			if _, err := parseAll([]keyRow{r}); err == nil {
				t.Fatal("parseAll took a row parse refused")
			}
			return
		}
		if !timesOK {
			t.Fatalf("times out of years 1 to 9999 read: %+v", sk)
		}
		if activateValid {
			wantStoredTime(t, "activate_ms", sk.ActivateAt, activate)
		}
		if retireValid {
			wantStoredTime(t, "retire_ms", sk.RetireAt, retire)
		}
		if sk.Key.ID() != kid || string(sk.Alg) != alg || !slices.Equal(sk.Key.Algorithms(), []jwt.Algorithm{sk.Alg}) {
			t.Fatalf("row (%q, %q) read as key %q for %v", kid, alg, sk.Key.ID(), sk.Key.Algorithms())
		}
		if err := checkSigningAlg(sk.Alg); err != nil {
			t.Fatalf("a key read for %s: %v", sk.Alg, err)
		}
		signer, err := jwt.NewSigner(sk.Key, sk.Alg, jwt.SignerOptions{})
		if err != nil {
			t.Fatalf("the key read cannot sign: %v", err)
		}
		tok, err := signer.Sign(map[string]any{"sub": "ann"})
		if err != nil {
			t.Fatalf("the key read cannot sign: %v", err)
		}
		if _, err := jwt.Verify(ctx, tok, sk.Key.Public()); err != nil {
			t.Fatalf("its token does not verify: %v", err)
		}
	})
}

// FuzzAuditRow: an audit row is read when its time is of years 1 to
// 9999, its type has the form of one, its outcome is success, failure
// or error and its details are a JSON object; then as stored (the
// details written again are the same object) and the admin API can
// write it as JSON. Otherwise it is refused with errCorruptRow.
func FuzzAuditRow(f *testing.F) {
	for _, ms := range storedMillisSeeds {
		f.Add(int64(1), ms, evLoginSuccess, "ann", "ann", "127.0.0.1", "agent", outcomeSuccess, `{"session":"s"}`)
	}
	for _, s := range []struct{ typ, outcome, details string }{
		{"admin.", outcomeError, "{}"},
		{"", outcomeFailure, "{}"},
		{"Login", outcomeSuccess, "{}"},
		{evLogout, "maybe", "{}"},
		{evLogout, outcomeSuccess, ""},
		{evLogout, outcomeSuccess, "null"},
		{evLogout, outcomeSuccess, "[]"},
		{evLogout, outcomeSuccess, `{"a":1e400}`},
		{evLogout, outcomeSuccess, `{"a":{"b":[1,"\ud800",null,true]},"a":2}`},
		{evLogout, outcomeSuccess, "{\"\xff\":\"\x00\"}"},
	} {
		f.Add(int64(2), int64(0), s.typ, "", "", "", "", s.outcome, s.details)
	}
	f.Fuzz(func(t *testing.T, id, ms int64, typ, actor, subject, addr, ua, outcome, details string) {
		r := auditRow{id: id, time: ms, typ: typ, actor: actor, subject: subject, address: addr, userAgent: ua, outcome: outcome, details: details}
		e, err := r.event()
		var obj map[string]any
		ok := inStoredRange(ms) && validEventType(typ) && slices.Contains([]string{outcomeSuccess, outcomeFailure, outcomeError}, outcome) &&
			json.Unmarshal([]byte(details), &obj) == nil && obj != nil
		wantCorrupt(t, err, ok)
		if err != nil {
			return
		}
		wantStoredTime(t, "time_ms", e.Time, ms)
		if e.ID != id || e.Type != typ || e.Actor != actor || e.Subject != subject || e.Address != addr || e.UserAgent != ua || e.Outcome != outcome {
			t.Fatalf("row read as %+v", e)
		}
		again, err := json.Marshal(e.Details)
		if err != nil {
			t.Fatalf("details %q read as %v, which JSON cannot write: %v", details, e.Details, err)
		}
		var back map[string]any
		if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(back, e.Details) {
			t.Fatalf("details %q read as %v, written as %s", details, e.Details, again)
		}
		if _, err := json.Marshal(auditJSON{ID: e.ID, Time: e.Time.UTC(), Type: e.Type, Details: e.Details}); err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
	})
}
