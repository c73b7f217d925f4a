package rpcauth

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jwtgate/jwtgate"
)

func TestClassifyAndMessage(t *testing.T) {
	tests := []struct {
		err   error
		class Class
		msg   string
	}{
		{jwtgate.NewError(jwtgate.ErrNoToken, "no token", nil), Unauthenticated, "no token"},
		{jwtgate.NewError(jwtgate.ErrNotFresh, "Fresh token required", nil), PermissionDenied, "Fresh token required"},
		{jwtgate.NewError(jwtgate.ErrInsufficientScope, "scope", nil), PermissionDenied, "scope"},
		{jwtgate.NewError(jwtgate.ErrCSRF, "csrf", nil), PermissionDenied, "csrf"},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "store down", nil), Unavailable, "store down"},
		{fmt.Errorf("%w: bad", jwtgate.ErrConfig), Internal, "authentication is misconfigured"},
		{fmt.Errorf("lookup: %w", context.Canceled), Canceled, "call ended during authentication"},
		{context.DeadlineExceeded, DeadlineExceeded, "call ended during authentication"},
		{jwtgate.NewError(jwtgate.ErrUserLoad, "user alice not found", nil), Unauthenticated, "User could not be loaded"},
		{jwtgate.NewError(jwtgate.ErrWrongType, "Only refresh tokens, not \"x\"", nil), Unauthenticated, "Wrong token type for this method"},
		{errors.New("plain"), Unauthenticated, "authentication failed"},
	}
	for _, tt := range tests {
		c := Classify(tt.err)
		if c != tt.class {
			t.Errorf("Classify(%v) = %d, want %d", tt.err, c, tt.class)
		}
		if m := Message(tt.err, c, "method"); m != tt.msg {
			t.Errorf("Message(%v) = %q, want %q", tt.err, m, tt.msg)
		}
	}
}

func TestOneAndParseBearer(t *testing.T) {
	if v, err := One(nil, "h"); v != "" || err != nil {
		t.Errorf("One(nil) = %q, %v", v, err)
	}
	if v, err := One([]string{"a"}, "h"); v != "a" || err != nil {
		t.Errorf("One(a) = %q, %v", v, err)
	}
	if _, err := One([]string{"a", "b"}, "h"); !errors.Is(err, jwtgate.ErrBadHeader) {
		t.Errorf("One(a, b): %v", err)
	}
	if tok, err := ParseBearer("Bearer x", "h"); tok != "x" || err != nil {
		t.Errorf("ParseBearer(Bearer x) = %q, %v", tok, err)
	}
	if tok, err := ParseBearer("DPoP x", "h"); tok != "" || !errors.Is(err, jwtgate.ErrBadHeader) {
		t.Errorf("ParseBearer(DPoP x) = %q, %v", tok, err)
	}
}
