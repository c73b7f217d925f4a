package main

import (
	"testing"

	"github.com/jwtgate/jwtgate/examples/internal/flows"
	"github.com/jwtgate/jwtgate/internal/proctest"
)

const secret = "fiber-example-secret-0123456789abcdefgh"

// TestFiber builds the program, starts it, and drives every route.
func TestFiber(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t), []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")
	flows.Run(t, p)
}
