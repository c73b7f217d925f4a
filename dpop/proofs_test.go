package dpop

import (
	"errors"
	"testing"
)

func TestOneProof(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []string
		want   string
		ok     bool
	}{
		{"none", nil, "", false},
		{"empty list", []string{}, "", false},
		{"one", []string{"a.b.c"}, "a.b.c", true},
		{"one empty value", []string{""}, "", true},
		{"two", []string{"a.b.c", "a.b.c"}, "", false},
		{"three", []string{"a", "b", "c"}, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OneProof(tt.values)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Errorf("OneProof(%q) = %q, %v; want %q", tt.values, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidProof) || got != "" {
				t.Errorf("OneProof(%q) = %q, %v; want an error wrapping ErrInvalidProof", tt.values, got, err)
			}
		})
	}
}
