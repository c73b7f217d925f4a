package server_test

import (
	"fmt"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
)

// A light accent colour is refused: white text on it would be hard to
// read.
func ExampleUIConfig_Validate() {
	fmt.Println(server.UIConfig{ServiceName: "Example", Accent: "#1f5fbf", LogoURL: "https://cdn.example/logo.svg"}.Validate())
	fmt.Println(server.UIConfig{Accent: "#ffcc00"}.Validate())
	// Output:
	// <nil>
	// server: accent colour "#ffcc00" has a contrast of 1.51:1 with white, below WCAG AA's 4.5:1: its buttons' white text and its links would be hard to read; choose a darker colour
}
