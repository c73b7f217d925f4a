package services

import "testing"

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want bool
	}{{"1", true}, {"", false}, {"0", false}, {"true", false}} {
		t.Setenv("JWTGATE_REQUIRE_SERVICES", tc.env)
		if got := Required(); got != tc.want {
			t.Errorf("JWTGATE_REQUIRE_SERVICES=%q: Required() = %v, want %v", tc.env, got, tc.want)
		}
	}
}
