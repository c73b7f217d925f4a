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
	"net/textproto"
	"net/url"
	"strings"
)

// Location is a place a token may be found in a request, with that
// place's settings: an InHeader, InCookie, InQuery or InJSON value, whose
// zero value takes the defaults. Config.Locations and
// RouteOptions.Locations list them in the order they are tried, and
// Token.Location is the one a token came from, as listed (compare it with
// ==, as in t.Location == InCookie{}). String names the kind of place as
// flask-jwt-extended does ("headers", "cookies", "query_string", "json"),
// for logs and diagnostics.
type Location interface {
	fmt.Stringer
	// where names the place in "no token" messages, as flask-jwt-extended
	// names it.
	where() string
}

// InHeader finds the token in a request header: "Authorization: Bearer
// <token>" by default. The scheme matches without regard to case;
// "Basic xxx, Bearer <token>" is accepted.
type InHeader struct {
	Name     string // the header: "Authorization"
	Scheme   string // "Bearer"
	NoScheme bool   // the header holds only the token; Scheme must be ""
}

// InCookie finds the token in the access or refresh token cookie, with
// double-submit CSRF protection; the cookie names and CSRF rules are
// Config.Cookies, which the Set*Cookies methods share. It needs
// Config.Cookies.
type InCookie struct{}

// InQuery finds the token in a query parameter: "jwt" by default. With a
// Prefix, the value must start with it (e.g. "Bearer ").
type InQuery struct {
	Param  string // "jwt"
	Prefix string
}

// InJSON finds the token in a member of a JSON request body, which stays
// readable by the handler.
type InJSON struct {
	AccessKey  string // the access token's member: "access_token"
	RefreshKey string // the refresh token's member: "refresh_token"
	MaxBody    int64  // the most of the body read: 64 KiB
}

func (InHeader) where() string { return "headers" }
func (InCookie) where() string { return "cookies" }
func (InQuery) where() string  { return "query_string" }
func (InJSON) where() string   { return "json" }

// String implements fmt.Stringer: "headers".
func (l InHeader) String() string { return l.where() }

// String implements fmt.Stringer: "cookies".
func (l InCookie) String() string { return l.where() }

// String implements fmt.Stringer: "query_string".
func (l InQuery) String() string { return l.where() }

// String implements fmt.Stringer: "json".
func (l InJSON) String() string { return l.where() }

// locator is a Location as listed and its settings with the defaults
// filled in.
type locator struct {
	loc       Location
	header    InHeader // Name in canonical form
	headerKey string   // the header's name as a key of http.Header
	query     InQuery
	json      InJSON
}

// locators checks locs and fills in their defaults.
func locators(locs []Location) ([]locator, error) {
	out := make([]locator, 0, len(locs))
	seen := map[string]bool{}
	for i, l := range locs {
		if l == nil {
			return nil, fmt.Errorf("entry %d is nil: use InHeader{}, InCookie{}, InQuery{} or InJSON{}", i)
		}
		if seen[l.where()] {
			return nil, fmt.Errorf("%T listed twice", l)
		}
		seen[l.where()] = true
		lc := locator{loc: l}
		switch l := l.(type) {
		case InHeader:
			h := l
			if h.Name == "" {
				h.Name = "Authorization"
			}
			if h.NoScheme && h.Scheme != "" {
				return nil, fmt.Errorf("InHeader with NoScheme and Scheme %q: drop one of them", h.Scheme)
			}
			if !h.NoScheme && h.Scheme == "" {
				h.Scheme = "Bearer"
			}
			if strings.ContainsAny(h.Scheme, " \t,") {
				return nil, fmt.Errorf("InHeader Scheme %q has a space or comma", h.Scheme)
			}
			lc.header, lc.headerKey = h, textproto.CanonicalMIMEHeaderKey(h.Name)
		case InCookie:
		case InQuery:
			lc.query = l
			if lc.query.Param == "" {
				lc.query.Param = "jwt"
			}
		case InJSON:
			j := l
			if j.AccessKey == "" {
				j.AccessKey = "access_token"
			}
			if j.RefreshKey == "" {
				j.RefreshKey = "refresh_token"
			}
			if j.MaxBody == 0 {
				j.MaxBody = 64 << 10
			}
			if j.MaxBody < 0 {
				return nil, fmt.Errorf("InJSON with a negative MaxBody")
			}
			lc.json = j
		default:
			return nil, fmt.Errorf("unknown location %T", l)
		}
		out = append(out, lc)
	}
	return out, nil
}

// hasLocation reports whether locs lists a location of type L.
func hasLocation[L Location](locs []Location) bool {
	for _, l := range locs {
		if _, ok := l.(L); ok {
			return true
		}
	}
	return false
}

// found is a token found in a request.
type found struct {
	token string
	loc   Location
	csrf  string // the CSRF value the request sent (cookie tokens)
	check bool   // whether the CSRF value must match the token's claim
	dpop  bool   // the token came under the DPoP scheme (RFC 9449)
	// Where the DPoP proof is: the request's header, or a call's proofs
	// with the method and URL they are for (VerifyCall; not a *Call,
	// which would then escape to the heap on the bearer path too).
	req    *http.Request
	proofs []string
	method string
	url    *url.URL
}

// findToken looks in the locations in order. A location without a token
// adds its message; any other error stops the search, as in
// flask-jwt-extended.
func (g *Gate) findToken(r *http.Request, locs []locator, refresh, websocket bool) (found, error) {
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
	for i := range locs {
		lc := &locs[i]
		var f found
		var err error
		switch lc.loc.(type) {
		case InHeader:
			f, err = g.fromHeader(r, &lc.header, lc.headerKey)
		case InCookie:
			f, err = g.fromCookie(r, refresh, websocket)
		case InQuery:
			f, err = g.fromQuery(r, &lc.query, websocket)
		case InJSON:
			f, err = g.fromJSON(r, &lc.json, refresh)
		}
		if err == nil {
			f.loc = lc.loc
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
		names[i] = l.loc.where()
	}
	where := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return found{}, newError(ErrNoToken, "Missing JWT in "+where+" ("+strings.Join(missing, "; ")+")", nil)
}

func (g *Gate) fromHeader(r *http.Request, h *InHeader, key string) (found, error) {
	var raw string
	if vs := r.Header[key]; len(vs) > 0 {
		raw = vs[0]
	}
	if g.cfg.DPoP != nil && key == "Authorization" && !h.NoScheme && len(raw) > 5 && raw[4] == ' ' && strings.EqualFold(raw[:4], "DPoP") {
		// RFC 9449 section 7.1: "Authorization: DPoP <token>", alone.
		token := strings.TrimLeft(raw[5:], " ")
		if token == "" || strings.ContainsAny(token, " \t,") {
			return found{}, &dpopSchemeError{newError(ErrBadHeader, fmt.Sprintf("Bad %s header. Expected '%s: DPoP <JWT>'", h.Name, h.Name), nil)}
		}
		return found{token: token, dpop: true}, nil
	}
	// Fast path: "<scheme> <token>" with nothing else.
	if n := len(h.Scheme); n > 0 && len(raw) > n+1 && raw[n] == ' ' && strings.EqualFold(raw[:n], h.Scheme) {
		// IndexByte is vectorised; IndexAny over a whole token is not.
		if rest := raw[n+1:]; strings.IndexByte(rest, ' ') < 0 && strings.IndexByte(rest, ',') < 0 && strings.IndexByte(rest, '\t') < 0 {
			return found{token: rest}, nil
		}
	}
	v := strings.Trim(strings.TrimSpace(raw), ",")
	if v == "" {
		return found{}, newError(ErrNoToken, "Missing "+h.Name+" Header", nil)
	}
	if g.cfg.Profile == ProfileFlaskJWT && !h.NoScheme {
		return flaskJWTHeader(v, h.Scheme)
	}
	if h.NoScheme {
		if strings.ContainsAny(v, " \t,") {
			return found{}, newError(ErrBadHeader, fmt.Sprintf("Bad %s header. Expected '%s: <JWT>'", h.Name, h.Name), nil)
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
		if strings.EqualFold(first, h.Scheme) {
			entry = e[len(first):]
			n++
		}
	}
	if n != 1 {
		return found{}, newError(ErrNoToken, fmt.Sprintf("Missing '%s' type in '%s' header. Expected '%s: %s <JWT>'", h.Scheme, h.Name, h.Name, h.Scheme), nil)
	}
	// The scheme must be followed by exactly one word: the token.
	token := strings.TrimLeft(entry, " \t")
	if token == "" || strings.ContainsAny(token, " \t") {
		return found{}, newError(ErrBadHeader, fmt.Sprintf("Bad %s header. Expected '%s: %s <JWT>'", h.Name, h.Name, h.Scheme), nil)
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

func (g *Gate) fromQuery(r *http.Request, q *InQuery, websocket bool) (found, error) {
	param := q.Param
	v := queryValue(r, param)
	if v == "" && websocket && param != "token" {
		// FastAPI JWT Auth's WebSocket convention: ?token=<jwt>.
		if v = queryValue(r, "token"); v != "" {
			param = "token"
		}
	}
	if v == "" {
		word := "parameter"
		if g.cfg.Profile == ProfileFlask {
			word = "paramater" // flask-jwt-extended's spelling, part of its contract
		}
		return found{}, newError(ErrNoToken, fmt.Sprintf("Missing '%s' query %s", q.Param, word), nil)
	}
	if q.Prefix != "" {
		if !strings.HasPrefix(v, q.Prefix) {
			return found{}, newError(ErrBadHeader, fmt.Sprintf("Invalid value for query parameter '%s'. Expected the value to start with '%s'", param, q.Prefix), nil)
		}
		v = v[len(q.Prefix):]
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

func (g *Gate) fromJSON(r *http.Request, j *InJSON, refresh bool) (found, error) {
	key := j.AccessKey
	if refresh {
		key = j.RefreshKey
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return found{}, newError(ErrNoToken, "Invalid content-type. Must be application/json.", nil)
	}
	missing := newError(ErrNoToken, fmt.Sprintf("Missing %q key in json data.", key), nil)
	body, err := peekBody(r, j.MaxBody)
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
