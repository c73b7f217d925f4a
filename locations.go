package jwtgate

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// found is a token found in a request.
type found struct {
	token string
	loc   Location
	csrf  string // the CSRF value the request sent (cookie tokens)
	check bool   // whether the CSRF value must match the token's claim
}

// findToken looks in the locations in order. A location without a token
// adds its message; any other error stops the search, as in
// flask-jwt-extended.
func (g *Gate) findToken(r *http.Request, locs []Location, refresh, websocket bool) (found, error) {
	for _, finder := range g.cfg.Finders {
		tok, err := finder(r)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return found{}, err
			}
			return found{}, newError(ErrBadHeader, err.Error(), err)
		}
		if tok != "" {
			return found{token: tok}, nil
		}
	}
	var missing []string
	for _, loc := range locs {
		var f found
		var err error
		switch loc {
		case InHeader:
			f, err = g.fromHeader(r)
		case InCookie:
			f, err = g.fromCookie(r, refresh, websocket)
		case InQuery:
			f, err = g.fromQuery(r, websocket)
		case InJSON:
			f, err = g.fromJSON(r, refresh)
		}
		if err == nil {
			f.loc = loc
			return f, nil
		}
		if e, ok := err.(*Error); ok && e.Kind == ErrNoToken {
			missing = append(missing, e.Message)
			continue
		}
		return found{}, err
	}
	if len(missing) == 1 {
		return found{}, newError(ErrNoToken, missing[0], nil)
	}
	names := make([]string, len(locs))
	for i, l := range locs {
		names[i] = string(l)
	}
	where := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return found{}, newError(ErrNoToken, "Missing JWT in "+where+" ("+strings.Join(missing, "; ")+")", nil)
}

func (g *Gate) fromHeader(r *http.Request) (found, error) {
	c := &g.cfg
	var raw string
	if vs := r.Header[g.headerKey]; len(vs) > 0 {
		raw = vs[0]
	}
	// Fast path: "<scheme> <token>" with nothing else.
	if n := len(c.HeaderScheme); n > 0 && len(raw) > n+1 && raw[n] == ' ' && strings.EqualFold(raw[:n], c.HeaderScheme) {
		// IndexByte is vectorised; IndexAny over a whole token is not.
		if rest := raw[n+1:]; strings.IndexByte(rest, ' ') < 0 && strings.IndexByte(rest, ',') < 0 && strings.IndexByte(rest, '\t') < 0 {
			return found{token: rest}, nil
		}
	}
	v := strings.Trim(strings.TrimSpace(raw), ",")
	if v == "" {
		return found{}, newError(ErrNoToken, "Missing "+c.HeaderName+" Header", nil)
	}
	if c.Profile == ProfileFlaskJWT && !c.EmptyHeaderScheme {
		return flaskJWTHeader(v, c.HeaderScheme)
	}
	if c.EmptyHeaderScheme {
		if strings.ContainsAny(v, " \t,") {
			return found{}, newError(ErrBadHeader, fmt.Sprintf("Bad %s header. Expected '%s: <JWT>'", c.HeaderName, c.HeaderName), nil)
		}
		return found{token: v}, nil
	}
	// "Basic xxx, Bearer <jwt>" is allowed: exactly one comma-separated
	// entry must start with the scheme.
	var entry string
	n := 0
	for e := range strings.SplitSeq(v, ",") {
		e = strings.TrimSpace(e)
		first := e
		if i := strings.IndexAny(e, " \t"); i >= 0 {
			first = e[:i]
		}
		if strings.EqualFold(first, c.HeaderScheme) {
			entry = e[len(first):]
			n++
		}
	}
	if n != 1 {
		return found{}, newError(ErrNoToken, fmt.Sprintf("Missing '%s' type in '%s' header. Expected '%s: %s <JWT>'", c.HeaderScheme, c.HeaderName, c.HeaderName, c.HeaderScheme), nil)
	}
	// The scheme must be followed by exactly one word: the token.
	token := strings.TrimLeft(entry, " \t")
	if token == "" || strings.ContainsAny(token, " \t") {
		return found{}, newError(ErrBadHeader, fmt.Sprintf("Bad %s header. Expected '%s: %s <JWT>'", c.HeaderName, c.HeaderName, c.HeaderScheme), nil)
	}
	return found{token: token}, nil
}

// flaskJWTHeader parses the header as Flask-JWT does: whitespace-separated
// words, the first of which must be the scheme (without regard to case),
// with its error texts.
func flaskJWTHeader(v, scheme string) (found, error) {
	parts := strings.Fields(v)
	switch {
	case len(parts) == 0:
		return found{}, newError(ErrNoToken, "Request does not contain an access token", nil)
	case !strings.EqualFold(parts[0], scheme):
		return found{}, newError(ErrBadHeader, "Unsupported authorization type", nil)
	case len(parts) == 1:
		return found{}, newError(ErrBadHeader, "Token missing", nil)
	case len(parts) > 2:
		return found{}, newError(ErrBadHeader, "Token contains spaces", nil)
	}
	return found{token: parts[1]}, nil
}

func (g *Gate) fromCookie(r *http.Request, refresh, websocket bool) (found, error) {
	cc := g.cfg.Cookies
	name, header, field := cc.AccessName, cc.CSRFAccessHeader, cc.CSRFAccessField
	if refresh {
		name, header, field = cc.RefreshName, cc.CSRFRefreshHeader, cc.CSRFRefreshField
	}
	ck, err := r.Cookie(name)
	if err != nil || ck.Value == "" {
		return found{}, newError(ErrNoToken, fmt.Sprintf("Missing cookie %q", name), nil)
	}
	f := found{token: ck.Value}
	if !cc.csrf() {
		return f, nil
	}
	switch {
	case websocket:
		// Browsers cannot set headers on a WebSocket handshake, which is
		// always a GET: the CSRF value comes in the query string, and it is
		// always required, since a cross-site page can open a WebSocket
		// with the user's cookies.
		f.csrf = queryValue(r, cc.WebSocketCSRFParm)
		f.check = true
	case g.csrfMethod[r.Method]:
		f.csrf = r.Header.Get(header)
		if f.csrf == "" && cc.CSRFCheckForm {
			f.csrf = formValue(r, field)
		}
		f.check = true
	}
	if f.check && f.csrf == "" {
		return found{}, newError(ErrCSRF, "Missing CSRF token", nil)
	}
	return f, nil
}

func (g *Gate) fromQuery(r *http.Request, websocket bool) (found, error) {
	c := &g.cfg
	param := c.QueryParam
	v := queryValue(r, param)
	if v == "" && websocket && param != "token" {
		// FastAPI JWT Auth's WebSocket convention: ?token=<jwt>.
		if v = queryValue(r, "token"); v != "" {
			param = "token"
		}
	}
	if v == "" {
		word := "parameter"
		if c.Profile == ProfileFlask {
			word = "paramater" // flask-jwt-extended's spelling, part of its contract
		}
		return found{}, newError(ErrNoToken, fmt.Sprintf("Missing '%s' query %s", c.QueryParam, word), nil)
	}
	if c.QueryPrefix != "" {
		if !strings.HasPrefix(v, c.QueryPrefix) {
			return found{}, newError(ErrBadHeader, fmt.Sprintf("Invalid value for query parameter '%s'. Expected the value to start with '%s'", param, c.QueryPrefix), nil)
		}
		v = v[len(c.QueryPrefix):]
	}
	return found{token: v}, nil
}

// queryValue returns the first value of a query parameter without building
// the whole url.Values map.
func queryValue(r *http.Request, name string) string {
	q := r.URL.RawQuery
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			if uk, err := url.QueryUnescape(k); err != nil || uk != name {
				continue
			}
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			return ""
		}
		return uv
	}
	return ""
}

// formValue reads a urlencoded form field without consuming the body for
// the handler.
func formValue(r *http.Request, name string) string {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" || r.Body == nil {
		return ""
	}
	body, err := peekBody(r, 64<<10)
	if err != nil {
		return ""
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return vals.Get(name)
}

// peekBody reads up to limit bytes of the body and puts them back, so the
// handler reads the whole body as sent. It fails if the body is longer.
func peekBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return buf, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (g *Gate) fromJSON(r *http.Request, refresh bool) (found, error) {
	c := &g.cfg
	key := c.JSONAccessKey
	if refresh {
		key = c.JSONRefreshKey
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return found{}, newError(ErrNoToken, "Invalid content-type. Must be application/json.", nil)
	}
	missing := newError(ErrNoToken, fmt.Sprintf("Missing %q key in json data.", key), nil)
	body, err := peekBody(r, c.MaxJSONBody)
	if err != nil {
		return found{}, missing
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return found{}, missing
	}
	raw, ok := m[key]
	if !ok {
		return found{}, missing
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return found{}, missing
	}
	return found{token: s}, nil
}

// isJSON reports whether a Content-Type is application/json or a +json type.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// csrfEqual compares CSRF values in constant time.
func csrfEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
