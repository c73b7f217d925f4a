package server

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultMinPasswordLength is the least number of characters of a new
// password unless a PasswordPolicy says otherwise.
const DefaultMinPasswordLength = 8

// PasswordPolicy is the rule for new passwords: it applies when a
// password is set (SQLUsers.Add and SetPassword, the users commands),
// never at login, so that a user whose password predates the rule can
// still sign in. The zero value is the default policy.
type PasswordPolicy struct {
	// MinLength is the least number of characters (Unicode code points):
	// DefaultMinPasswordLength when 0. At most MaxPasswordLen.
	MinLength int
}

// minLength is p.MinLength with its default.
func (p PasswordPolicy) minLength() int {
	if p.MinLength == 0 {
		return DefaultMinPasswordLength
	}
	return p.MinLength
}

// Validate checks the policy itself.
func (p PasswordPolicy) Validate() error {
	if p.MinLength < 0 || p.MinLength > MaxPasswordLen {
		return fmt.Errorf("minimum password length %d: want 1 to %d", p.MinLength, MaxPasswordLen)
	}
	return nil
}

// Check reports whether password may become the password of username:
// a valid password (ValidPassword: at most MaxPasswordLen bytes of UTF-8)
// of at least MinLength characters that is not the username, in any letter
// case. Its errors
// wrap ErrBadPassword and state the rule that was broken.
func (p PasswordPolicy) Check(username, password string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := ValidPassword(password); err != nil {
		return err
	}
	if n := p.minLength(); utf8.RuneCountInString(password) < n {
		return fmt.Errorf("%w: it must be at least %d characters long", ErrBadPassword, n)
	}
	if strings.EqualFold(password, username) {
		return fmt.Errorf("%w: it must not be the username (in any letter case)", ErrBadPassword)
	}
	return nil
}
