package fibergate

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"unsafe"

	"github.com/gofiber/fiber/v3"
)

// conv is the reusable part of one request's conversion from fasthttp to
// net/http: the request, its URL, header map and body reader, and the
// text they point into. A conv serves one request at a time; release
// returns it to convs.
//
// What may outlive the request (the verified token, cookie values, a
// header a hook keeps) is a string, and every string the request holds
// is a substring of one copy of the request's text, written once into
// memory that is never written again (see fill), so none aliases
// fasthttp's reused buffers.
type conv struct {
	req  http.Request
	url  url.URL
	hdr  http.Header
	vals []string // backing array of the header's value slices
	body body

	// chunk holds the text of the latest requests. It is only ever
	// appended to: the bytes before its length are never written again,
	// so the strings over them never change; a new chunk replaces it
	// when its room runs short. A string over a chunk keeps the whole
	// chunk alive: keeping a token keeps up to chunkSize bytes.
	chunk []byte
	last  int    // the length of the previous request's text
	spans []span // where each header's key and value lie in the text
}

// chunkSize is the size of a conv's chunk of request text: some ten
// requests of an API client, so that they allocate once between them. A
// request's text longer than a quarter of it gets an array of its own.
const chunkSize = 4 << 10

// maxAddr is the length of the longest address appendAddr writes for a
// TCP address, a zone aside.
const maxAddr = len("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")

// span is a header's key and value in a request's text: key at [k, v),
// value at [v, end).
type span struct{ k, v, end int }

// body is the request body over fasthttp's buffer, which the Gate only
// reads while the request is being verified (the handler reads fiber's).
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

// maxKept bounds the number of headers a conv keeps room for in the
// pool, so that one request with a great many headers does not keep its
// memory alive.
const maxKept = 256

var convs = sync.Pool{New: func() any { return &conv{hdr: http.Header{}} }}

// request converts c's request for the Gate, with c.Context() as its
// context. It keeps every value of a repeated header, in order, so the
// Gate sees what net/http would give it (fiber's adaptor.ConvertRequest
// keeps only the last). The request and everything it points to belong
// to the returned conv: call its release once the Gate is done with them.
func request(c fiber.Ctx) (*conv, *http.Request, error) {
	cv := convs.Get().(*conv)
	r, err := cv.fill(c)
	if err != nil {
		cv.release()
		return nil, nil, fiber.NewError(fiber.StatusBadRequest, "malformed request")
	}
	return cv, r, nil
}

// fill builds cv.req from c. It allocates only for a new chunk of text
// and off the common path: a URL that needs url.ParseRequestURI, a
// repeated header, an address that is not TCP, a method that is not
// one of net/http's constants, a request over 1 KB, the TLS state of a
// request over TLS.
func (cv *conv) fill(c fiber.Ctx) (*http.Request, error) {
	fr := c.Request()
	rc := c.RequestCtx()

	// Copy the text into the chunk's room, past its length, where no
	// string points yet: the request URI as the client sent it (as
	// net/http gives it: fasthttp's Request.RequestURI would rebuild it
	// from the normalised path), the remote address, then each header's
	// key (canonicalised in place) and value. The text's length is
	// guessed from the raw header, or, for a request made in process
	// (which has none), from the conv's previous request; a long text
	// gets an array of its own, and one that outgrows its room moves to
	// one as append grows it.
	uri := fr.Header.RequestURI()
	need := max(len(uri)+len(fr.Header.RawHeaders())+maxAddr, cv.last)
	var room []byte
	inChunk := need <= chunkSize/4
	if inChunk {
		if cap(cv.chunk)-len(cv.chunk) < need {
			cv.chunk = make([]byte, 0, chunkSize)
		}
		room = cv.chunk[len(cv.chunk):]
	} else {
		room = make([]byte, 0, need)
	}
	b := append(room, uri...)
	uriEnd := len(b)
	b = appendAddr(b, rc.RemoteAddr())
	addrEnd := len(b)
	spans := cv.spans[:0]
	for k, v := range fr.Header.All() {
		start := len(b)
		b = append(b, k...)
		canonicalKey(b[start:])
		mid := len(b)
		b = append(b, v...)
		spans = append(spans, span{start, mid, len(b)})
	}
	cv.spans, cv.last = spans, len(b)
	text := unsafe.String(unsafe.SliceData(b), len(b)) // b is not empty: a request URI is at least "/"
	if inChunk && len(b) <= cap(room) {
		cv.chunk = cv.chunk[:len(cv.chunk)+len(b)] // b stayed in the chunk: never to be written again
	}

	// cv.req is zero (release), and the zero Request's context is
	// context.Background(), fiber's default.
	r := &cv.req
	if ctx := c.Context(); ctx != context.Background() {
		var bare http.Request
		*r = *bare.WithContext(ctx) // inlined: the copy stays on the stack
	}
	if rc.IsTLS() {
		// net/http sets TLS on requests that came over TLS, and the Gate
		// reads it (a DPoP proof's htu is then https).
		if r.TLS = rc.TLSConnectionState(); r.TLS == nil {
			r.TLS = &tls.ConnectionState{} // a wrapped connection fasthttp reads no state from
		}
	}
	r.Method = method(fr.Header.Method())
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	if string(fr.Header.Protocol()) == "HTTP/1.0" {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	r.RequestURI = text[:uriEnd]
	r.RemoteAddr = text[uriEnd:addrEnd]
	if err := cv.parseURL(r.RequestURI); err != nil {
		return nil, err
	}
	r.URL = &cv.url
	r.Host = cv.url.Host // set by an absolute URI; else from the Host header

	if n := len(spans); cap(cv.vals) < n {
		cv.vals = make([]string, 0, n)
	}
	vals := cv.vals[:0]
	h := cv.hdr
	for _, s := range spans {
		k, v := text[s.k:s.v], text[s.v:s.end]
		if k == "Host" { // net/http moves it to Request.Host
			if r.Host == "" {
				r.Host = v
			}
			continue
		}
		if vs, ok := h[k]; ok {
			h[k] = append(vs, v) // a repeated header: its own array
			continue
		}
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	cv.vals = vals
	r.Header = h

	if bs := fr.Body(); len(bs) > 0 {
		cv.body.Reset(bs)
		r.Body, r.ContentLength = &cv.body, int64(len(bs))
	} else {
		r.Body = http.NoBody
	}
	return r, nil
}

// release clears what cv refers to (the context, the request's text, the
// body) and returns cv to the pool. Nothing may use cv's request after.
func (cv *conv) release() {
	cv.req = http.Request{}
	cv.url = url.URL{}
	clear(cv.hdr) // with any key a hook added
	clear(cv.vals)
	cv.body.Reset(nil)
	if cap(cv.spans) > maxKept {
		cv.spans, cv.vals = nil, nil
	}
	convs.Put(cv)
}

// method returns m as a string: a constant for the usual methods, else a
// copy.
func method(m []byte) string {
	switch string(m) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodHead:
		return http.MethodHead
	case http.MethodOptions:
		return http.MethodOptions
	}
	return string(m)
}

// parseURL sets cv.url from a request URI as url.ParseRequestURI does,
// by hand for an absolute path made only of bytes that the path's escaped
// form keeps as they are (so Path is the text and RawPath is empty), with
// an optional query without control bytes; through url.ParseRequestURI
// otherwise (escapes, an absolute URI, "*", anything unusual).
func (cv *conv) parseURL(uri string) error {
	if path, query, ok := plainURI(uri); ok {
		cv.url.Path, cv.url.RawQuery = path, query
		cv.url.ForceQuery = query == "" && len(path) < len(uri)
		return nil
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return err
	}
	cv.url = *u
	return nil
}

// plainURI splits uri into its path and query if it is on parseURL's fast
// path.
func plainURI(uri string) (path, query string, ok bool) {
	if uri == "" || uri[0] != '/' {
		return "", "", false
	}
	i := 0
	for ; i < len(uri) && uri[i] != '?'; i++ {
		if !plainPathByte[uri[i]] {
			return "", "", false
		}
	}
	if i == len(uri) {
		return uri, "", true
	}
	for j := i + 1; j < len(uri); j++ {
		if c := uri[j]; c < ' ' || c == 0x7f {
			return "", "", false
		}
	}
	return uri[:i], uri[i+1:], true
}

// plainPathByte marks the bytes that url.URL.EscapedPath keeps as they are
// in a path: unreserved characters and the sub-delimiters ":@/" that a
// path may carry unescaped, except those Go's escaping changes.
var plainPathByte = alnumAnd("-._~$&+,/:;=@")

// canonicalKey canonicalises a header key in place as
// textproto.CanonicalMIMEHeaderKey does (http.Header.Add's rule): the
// first letter and each letter after a hyphen in upper case, the others
// in lower case; a key with a byte that is not a token character is left
// as it is. fasthttp already sends canonical keys unless fiber's
// DisableHeaderNormalizing is set.
func canonicalKey(k []byte) {
	upper, canonical := true, true
	for _, c := range k {
		if !tokenByte[c] {
			return
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return
	}
	upper = true
	for i, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			k[i] = c - ('a' - 'A')
		} else if !upper && 'A' <= c && c <= 'Z' {
			k[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
}

// tokenByte marks the characters of an RFC 9110 token.
var tokenByte = alnumAnd("!#$%&'*+-.^_`|~")

// alnumAnd returns a table marking the ASCII letters and digits and the
// bytes of extra.
func alnumAnd(extra string) (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for i := 0; i < len(extra); i++ {
		t[extra[i]] = true
	}
	return t
}

// appendAddr appends a.String() to b, without the allocations of String
// for a TCP address.
func appendAddr(b []byte, a net.Addr) []byte {
	t, ok := a.(*net.TCPAddr)
	if !ok || t == nil || t.Port < 0 || t.Port > 0xffff {
		if a == nil {
			return b
		}
		return append(b, a.String()...)
	}
	if ip4 := t.IP.To4(); ip4 != nil {
		if t.Zone != "" {
			return append(b, a.String()...)
		}
		// net.IP prints an IPv4-mapped address as IPv4, too.
		var s [len("255.255.255.255:65535")]byte
		n := 0
		for i, x := range ip4 {
			if i > 0 {
				s[n] = '.'
				n++
			}
			if x >= 100 {
				s[n] = '0' + x/100
				n++
			}
			if x >= 10 {
				s[n] = '0' + x/10%10
				n++
			}
			s[n] = '0' + x%10
			n++
		}
		s[n] = ':'
		n++
		return strconv.AppendUint(append(b, s[:n]...), uint64(t.Port), 10)
	}
	ip, ok := netip.AddrFromSlice(t.IP)
	if !ok || !ip.Is6() {
		return append(b, a.String()...)
	}
	return netip.AddrPortFrom(ip.WithZone(t.Zone), uint16(t.Port)).AppendTo(b)
}
