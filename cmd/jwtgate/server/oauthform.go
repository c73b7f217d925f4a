package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits of the OAuth endpoints' form bodies.
const (
	// maxFormBody bounds a form body: room for a client assertion
	// (assertionMaxSize) and the other parameters.
	maxFormBody = 16 << 10
	// maxFormParams bounds the parameters of a form.
	maxFormParams = 32
)

// oauthForm is a parsed application/x-www-form-urlencoded body.
type oauthForm struct {
	// vals has the parameters with a value: RFC 6749 section 3.1 says a
	// parameter sent without a value is as if omitted.
	vals map[string]string
	// resources are the resource parameters (RFC 8707), the one
	// parameter that may be repeated.
	resources []string
}

func (f *oauthForm) get(name string) string { return f.vals[name] }

func (f *oauthForm) has(name string) bool { _, ok := f.vals[name]; return ok }

// errForm marks a body that is not a form the endpoints take.
var errForm = errors.New("malformed form")

// parseForm reads a form body strictly: UTF-8, at most maxFormParams
// parameters, each "name=value" with percent-encoding and + for space,
// no parameter twice (RFC 6749 section 3.1) except resource (RFC 8707
// section 2), no empty name, no control characters.
func parseForm(body string) (*oauthForm, error) {
	f := &oauthForm{vals: map[string]string{}}
	if body == "" {
		return f, nil
	}
	seen := map[string]bool{}
	n := 0
	for part := range strings.SplitSeq(body, "&") {
		if n++; n > maxFormParams {
			return nil, fmt.Errorf("%w: more than %d parameters", errForm, maxFormParams)
		}
		rawName, rawValue, hasEq := strings.Cut(part, "=")
		if !hasEq {
			return nil, fmt.Errorf("%w: a parameter without '='", errForm)
		}
		name, err1 := url.QueryUnescape(rawName)
		value, err2 := url.QueryUnescape(rawValue)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: bad percent-encoding", errForm)
		}
		if name == "" {
			return nil, fmt.Errorf("%w: a parameter without a name", errForm)
		}
		if !utf8.ValidString(name) || !utf8.ValidString(value) || hasControl(name) || hasControl(value) {
			return nil, fmt.Errorf("%w: parameter %q is not UTF-8 text", errForm, truncate(name, 32))
		}
		if name == "resource" {
			if value != "" {
				f.resources = append(f.resources, value)
			}
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: parameter %q more than once", errForm, truncate(name, 32))
		}
		seen[name] = true
		if value != "" {
			f.vals[name] = value
		}
	}
	return f, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// errBasic marks an Authorization header that is not Basic credentials
// as RFC 6749 section 2.3.1 makes them.
var errBasic = errors.New("malformed Basic credentials")

// parseBasic reads the client id and secret of an Authorization header
// value with the Basic scheme (RFC 7617): base64 of the form-urlencoded
// id, a colon, and the form-urlencoded secret (RFC 6749 section 2.3.1).
// ok is false when the scheme is not Basic.
func parseBasic(header string) (id, secret string, ok bool, err error) {
	scheme, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	rest = strings.TrimLeft(rest, " ")
	if len(rest) > 4096 {
		return "", "", true, fmt.Errorf("%w: too long", errBasic)
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", "", true, fmt.Errorf("%w: not base64", errBasic)
	}
	rawID, rawSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", true, fmt.Errorf("%w: no colon", errBasic)
	}
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err1 != nil || err2 != nil || !utf8.ValidString(id) || !utf8.ValidString(secret) || hasControl(id) || hasControl(secret) {
		return "", "", true, fmt.Errorf("%w: bad form-urlencoding", errBasic)
	}
	if id == "" || secret == "" {
		return "", "", true, fmt.Errorf("%w: empty client id or secret", errBasic)
	}
	return id, secret, true, nil
}
