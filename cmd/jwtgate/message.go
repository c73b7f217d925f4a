package main

import (
	"log/slog"
	"strings"
)

// packagePrefixes are the "package: " prefixes of the project's error
// texts: Go's convention for errors read by programmers, noise in a
// message read by the user of the command.
var packagePrefixes = []string{"server: ", "jwtgate: ", "jwt: ", "jwk: ", "revoke: ", "sqlstore: ", "redisstore: "}

// userMessage removes the package prefixes from an error text: at its
// start and after each ": " (where a wrapped error begins).
func userMessage(msg string) string {
	var b strings.Builder
	for {
		for trimmed := true; trimmed; {
			trimmed = false
			for _, p := range packagePrefixes {
				if rest, ok := strings.CutPrefix(msg, p); ok {
					msg, trimmed = rest, true
				}
			}
		}
		before, after, found := strings.Cut(msg, ": ")
		b.WriteString(before)
		if !found {
			return b.String()
		}
		b.WriteString(": ")
		msg = after
	}
}

// userErrors is a slog ReplaceAttr that logs errors with userMessage.
func userErrors(_ []string, a slog.Attr) slog.Attr {
	if err, ok := a.Value.Any().(error); ok && a.Value.Kind() == slog.KindAny {
		return slog.String(a.Key, userMessage(err.Error()))
	}
	return a
}
