package server

import (
	"context"
	"net/http"
	"time"
)

// actor returns the actor of a request made by user name ("" when not
// signed in).
func (s *Server) actor(r *http.Request, name string) Actor {
	a := Actor{Name: name, UserAgent: r.UserAgent()}
	if addr, ok := s.clientAddr(r); ok {
		a.Address = addr.String()
	}
	return a
}

// recordTimeout bounds an audit or registry write made for a sign-in,
// refresh or logout. On the embedded SQLite store every write is a commit
// of its own, one after the other: twenty sign-ins at once make some sixty
// of them, which a busy disk took more than a second to flush (a login
// refused 503 for want of its session record), so the bound leaves room
// for a queue of commits while staying well inside a request's budget
// (requestTimeout).
const recordTimeout = 3 * time.Second

// record writes an event of sign-in, refresh or logout, whose outcome
// the request has already decided: a write that fails does not change
// the answer, but is logged at error level (the audit log's own line,
// with the event) and counted in jwtgate_records_lost_total{kind="audit"}.
// Without an audit log it does nothing (the request's own log lines
// remain).
func (s *Server) record(ctx context.Context, r *http.Request, typ, actor, subject, outcome string, details map[string]any) {
	if s.cfg.Audit == nil {
		return
	}
	a := s.actor(r, actor)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := s.cfg.Audit.Record(ctx, Event{Time: s.cfg.Clock(), Type: typ, Actor: a.Name, Subject: subject,
		Address: a.Address, UserAgent: a.UserAgent, Outcome: outcome, Details: details})
	if err != nil {
		s.stats.recordLost("audit")
	}
}

// startSession records a new session in the registry, before its tokens
// are issued: a session that cannot be recorded is not started (the
// caller answers 503), so that every session can be seen and ended.
func (s *Server) startSession(ctx context.Context, r *http.Request, user, sid string) error {
	if s.cfg.Sessions == nil {
		return nil
	}
	now := s.cfg.Clock()
	a := s.actor(r, user)
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	return s.cfg.Sessions.Start(ctx, sid, user, now, now.Add(s.cfg.RefreshTTL), a.UserAgent, a.Address)
}

// touchSession records a refresh of session sid (at most once per
// TouchEvery). A failure is logged and counted
// (jwtgate_records_lost_total{kind="session"}): the refresh goes on, and
// the session keeps its earlier last use.
func (s *Server) touchSession(ctx context.Context, r *http.Request, user, sid string) {
	if s.cfg.Sessions == nil {
		return
	}
	now := s.cfg.Clock()
	a := s.actor(r, user)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, err := s.cfg.Sessions.Touch(ctx, sid, user, now, now.Add(s.cfg.RefreshTTL), a.UserAgent, a.Address); err != nil {
		s.stats.recordLost("session")
		s.log.Error("session registry", "session", sid, "err", err)
	}
}

// sessionEnded marks session sid ended in the registry once the
// revocation store has ended it; a failure is logged and counted (the
// session is refused all the same, and listings ask the revocation
// store).
func (s *Server) sessionEnded(ctx context.Context, sid, reason string) {
	if s.cfg.Sessions == nil || sid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := s.cfg.Sessions.End(ctx, sid, s.cfg.Clock(), reason); err != nil {
		s.stats.recordLost("session")
		s.log.Error("session registry", "session", sid, "err", err)
	}
}

// userSessionsEnded marks ended the sessions of user created at or
// before cutoff, as sessionEnded does for one.
func (s *Server) userSessionsEnded(ctx context.Context, user string, cutoff time.Time, reason string) {
	if s.cfg.Sessions == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, err := s.cfg.Sessions.EndUser(ctx, user, cutoff, reason); err != nil {
		s.stats.recordLost("session")
		s.log.Error("session registry", "username", user, "err", err)
	}
}
