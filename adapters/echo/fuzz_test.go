package echogate_test

import (
	"testing"

	"github.com/jwtgate/jwtgate/adapters/adaptertest"
)

// FuzzMiddleware sends malformed credentials through the echo adapter and
// the Gate's own middleware (adaptertest.FuzzHTTP): the same answers,
// never a panic or a 500.
func FuzzMiddleware(f *testing.F) { adaptertest.FuzzHTTP(f, adapter, false) }
