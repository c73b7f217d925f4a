package main

import (
	"testing"

	"github.com/jwtgate/jwtgate/examples/internal/flows"
	"github.com/jwtgate/jwtgate/internal/proctest"
)

const secret = "echo-example-secret-0123456789abcdefgh"

// TestEcho builds the program, starts it, and drives every route.
func TestEcho(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t), []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")
	flows.Run(t, p)
}
