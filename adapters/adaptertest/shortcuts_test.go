package adaptertest

import (
	"testing"

	"github.com/jwtgate/jwtgate"
)

func TestPick(t *testing.T) {
	s := Shortcuts[string]{
		Required: func() string { return "Required" },
		Optional: func() string { return "Optional" },
		Fresh:    func() string { return "Fresh" },
		Refresh:  func() string { return "Refresh" },
		Protect:  func(jwtgate.RouteOptions) string { return "Protect" },
	}
	tests := []struct {
		opts jwtgate.RouteOptions
		want string
	}{
		{jwtgate.RouteOptions{}, "Required"},
		{jwtgate.RouteOptions{Optional: true}, "Optional"},
		{jwtgate.RouteOptions{Fresh: true}, "Fresh"},
		{jwtgate.RouteOptions{Refresh: true}, "Refresh"},
		{jwtgate.RouteOptions{Optional: true, Fresh: true}, "Protect"},
		{jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}, "Protect"},
		{jwtgate.RouteOptions{Scopes: []string{"a"}}, "Protect"},
		{jwtgate.RouteOptions{Optional: true, IgnoreInvalid: true}, "Protect"},
		{jwtgate.RouteOptions{Realm: "r"}, "Protect"},
		{jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InCookie{}}}, "Protect"},
	}
	for _, tt := range tests {
		if got := Pick(tt.opts, s); got != tt.want {
			t.Errorf("Pick(%+v) = %s, want %s", tt.opts, got, tt.want)
		}
	}
}
