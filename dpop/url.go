package dpop

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// matchURL checks a proof's htu against the request's URI, ignoring the
// request's query and fragment, after RFC 3986 syntax- and scheme-based
// normalisation (RFC 9449 section 4.3, check 9). With origins, the
// request's own origin must be one of them.
func matchURL(htu string, req *url.URL, origins map[string]bool) error {
	if req == nil {
		return fmt.Errorf("%w: the request's URI is unknown", ErrInvalidProof)
	}
	if strings.ContainsAny(htu, "?#") {
		return fmt.Errorf("%w: htu has a query or a fragment", ErrInvalidProof)
	}
	want, n, err := normalURL(req)
	if err != nil {
		return fmt.Errorf("%w: request URI: %w", ErrInvalidProof, err)
	}
	if origins != nil && !origins[want[:n]] {
		return fmt.Errorf("%w: the request's URI %q is not at one of the service's origins", ErrInvalidProof, want)
	}
	if htu == want {
		// Already in normal form, as clients write it: nothing to parse.
		return nil
	}
	u, err := url.Parse(htu)
	if err != nil {
		return fmt.Errorf("%w: htu: %w", ErrInvalidProof, err)
	}
	if u.User != nil {
		return fmt.Errorf("%w: htu has user information", ErrInvalidProof)
	}
	got, _, err := normalURL(u)
	if err != nil {
		return fmt.Errorf("%w: htu: %w", ErrInvalidProof, err)
	}
	if got != want {
		return fmt.Errorf("%w: htu %q is not the request's URI %q", ErrInvalidProof, got, want)
	}
	return nil
}

// normalURL returns scheme://host[:port]/path of u, normalised: scheme and
// host in lower case, the scheme's default port left out, an empty path
// as "/", percent-encodings in upper case and those of unreserved
// characters decoded, dot segments removed; and the length of its
// origin, scheme://host[:port]. A path without percent-encodings or
// dot segments, as clients send them, is already normal: the URI is
// then built in one allocation.
func normalURL(u *url.URL) (string, int, error) {
	ep := u.EscapedPath()
	if ep != "" && ep[0] != '/' {
		// After a host, a path is empty or starts with a slash (RFC
		// 3986 section 3.3); joined as it is, "api.example" and
		// ".com/x" would name https://api.example.com/x.
		return "", 0, fmt.Errorf("path %q does not start with a slash", ep)
	}
	p := ep
	switch {
	case strings.IndexByte(ep, '%') >= 0 || strings.Contains(ep, "/."):
		var err error
		if p, err = normalPath(ep); err != nil {
			return "", 0, err
		}
	case p == "":
		p = "/"
	}
	var b strings.Builder
	b.Grow(len(u.Scheme) + len("://[]") + len(u.Host) + len(p))
	if err := writeOrigin(&b, u); err != nil {
		return "", 0, err
	}
	n := b.Len()
	b.WriteString(p)
	return b.String(), n, nil
}

// originOf returns the normalised scheme://host[:port] of u.
func originOf(u *url.URL) (string, error) {
	var b strings.Builder
	if err := writeOrigin(&b, u); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeOrigin writes the normalised scheme://host[:port] of u to b.
func writeOrigin(b *strings.Builder, u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("not an absolute http URI")
	}
	for i := 0; i < len(u.Host); i++ {
		// A request's host comes from its client (Host, an RPC's
		// :authority): one with user information, a path or the like
		// is no host, and would let an htu name another URI.
		if c := u.Host[i]; c < 0x80 && !hostByte[c] {
			return fmt.Errorf("host %q has a byte %q that no host has", u.Host, c)
		}
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.IndexByte(host, '%') >= 0 {
		// u.Host is unescaped (url.Parse, RequestURL): a percent sign,
		// as that of an IPv6 zone (RFC 6874), is written "%25", as a
		// URI spells it.
		host = strings.ReplaceAll(host, "%", "%25")
	}
	b.WriteString(scheme)
	b.WriteString("://")
	if strings.Contains(host, ":") {
		b.WriteByte('[')
		b.WriteString(host)
		b.WriteByte(']')
	} else {
		b.WriteString(host)
	}
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	return nil
}

// normalOrigin returns the normalised origin of s, an origin of
// Options.Origins: an absolute http(s) URL without user information,
// path (but "/"), query or fragment.
func normalOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", err
	case u.User != nil, u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return "", fmt.Errorf("%q: want scheme and host only, as \"https://api.example.com\"", s)
	}
	o, err := originOf(u)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	return o, nil
}

// normalPath normalises the percent-encodings of an escaped path and
// removes its dot segments.
func normalPath(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", fmt.Errorf("bad percent-encoding in path")
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(d) {
			b.WriteByte(d)
		} else {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(p[i+1 : i+3]))
		}
		i += 2
	}
	out := removeDots(b.String())
	if out == "" {
		out = "/"
	}
	return out, nil
}

// removeDots is RFC 3986 section 5.2.4's remove_dot_segments.
func removeDots(in string) string {
	var out []string
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := strings.IndexByte(in[start:], '/')
			if end < 0 {
				end = len(in)
			} else {
				end += start
			}
			out = append(out, in[:end])
			in = in[end:]
		}
	}
	return strings.Join(out, "")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// hostByte marks the ASCII bytes of an RFC 3986 host and port: letters,
// digits, unreserved and sub-delimiter characters, '%' (escapes, IPv6
// zones), ':' and the brackets of an IP literal.
var hostByte = func() (t [0x80]bool) {
	for c := byte(0); c < 0x80; c++ {
		t[c] = isUnreserved(c) || strings.IndexByte("%!$&'()*+,;=:[]", c) >= 0
	}
	return t
}()

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// RequestURL returns the target URI of r as its client addressed it, for
// Request.URL: https when r came over TLS, r.Host, and r's path. Only when
// r comes straight from a trusted proxy (its RemoteAddr in proxies) are
// the proxy's X-Forwarded-Proto and X-Forwarded-Host headers used instead,
// each read from its last value (the one the nearest proxy set); without
// proxies they are ignored, so a client cannot pick the URI its proofs
// are checked against.
func RequestURL(r *http.Request, proxies []netip.Prefix) *url.URL {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if len(proxies) > 0 && fromProxy(r.RemoteAddr, proxies) {
		if v := lastValue(r.Header, "X-Forwarded-Proto"); v == "http" || v == "https" {
			scheme = v
		}
		if v := lastValue(r.Header, "X-Forwarded-Host"); v != "" {
			host = v
		}
	}
	return &url.URL{Scheme: scheme, Host: unescapeHost(host), Path: r.URL.Path, RawPath: r.URL.RawPath}
}

// unescapeHost returns host (a Host header's value) unescaped as url.Parse
// unescapes the host of a URI, "[fe80::1%25eth0]" as "[fe80::1%eth0]",
// so that a request's URI compares with the htu and the origins, which
// are parsed. A host that does not parse is returned as it is.
func unescapeHost(host string) string {
	if strings.IndexByte(host, '%') < 0 {
		return host
	}
	u, err := url.Parse("http://" + host)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return host
	}
	return u.Host
}

func fromProxy(remote string, proxies []netip.Prefix) bool {
	h, _, err := net.SplitHostPort(remote)
	if err != nil {
		h = remote
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func lastValue(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
