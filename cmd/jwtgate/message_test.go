package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestUserMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"server: invalid password: it must be at least 8 characters long", "invalid password: it must be at least 8 characters long"},
		{"users add: server: user already exists: \"alice\"", "users add: user already exists: \"alice\""},
		{"server: Redis: redisstore: dial tcp: refused", "Redis: dial tcp: refused"},
		{"jwtgate: jwt: token expired", "token expired"},
		{"server: PostgreSQL: failed to connect to `user=x`: jwk: odd", "PostgreSQL: failed to connect to `user=x`: odd"},
		{"observer: kept", "observer: kept"},                 // only whole prefixes
		{"a server: not a prefix", "a server: not a prefix"}, // only where a message begins
	} {
		if got := userMessage(tc.in); got != tc.want {
			t.Errorf("userMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestErrorfAndLogsWithoutPackages(t *testing.T) {
	var out bytes.Buffer
	e := &env{stderr: &out}
	e.errorf("users add: %v", fmt.Errorf("server: invalid password: %w", errors.New("jwt: x")))
	if out.String() != "jwtgate: users add: invalid password: x\n" {
		t.Fatalf("errorf wrote %q", out.String())
	}
	out.Reset()
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: userErrors}))
	log.Error("cannot open the stores", "err", errors.New("server: Redis: refused"), "n", 3)
	if s := out.String(); strings.Contains(s, "server:") || !strings.Contains(s, `err="Redis: refused" n=3`) {
		t.Fatalf("log line %q", s)
	}
}
