package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// uriHost returns the host and port of u as a URI (and so a Host header)
// spells them: url.Parse unescapes them, url.URL escapes them again.
func uriHost(u *url.URL) string {
	return strings.TrimPrefix((&url.URL{Host: u.Host}).String(), "//")
}

// hostBytesOnly reports whether s, a host as a URL spells it, has only
// the ASCII bytes of an RFC 3986 host and port, and any non-ASCII one
// (escaped or not) outside an IPv6 zone: Go's URL parser takes a raw
// non-ASCII byte in a zone but not the same byte escaped, which is how a
// URL spells it, so such a zone has no origin that reads back, and the
// verifier refuses it.
func hostBytesOnly(s string) bool {
	zone := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !zone && strings.HasPrefix(s, "[") && strings.HasPrefix(s[i:], "%25") {
			zone, i = true, i+2
			continue
		}
		if zone && (c >= 0x80 || c == '%' && i+1 < len(s) && strings.IndexByte("89abcdefABCDEF", s[i+1]) >= 0) {
			return false
		}
		if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~%!$&'()*+,;=:[]", c) >= 0) {
			return false
		}
	}
	return true
}

// FuzzDPoPOrigins: serve takes DPoP proofs at the origins of
// --dpop-origins ("*": any), or else at the issuer's origin (and, for an
// issuer made from a loopback or unspecified address bound, at the
// loopback names of its port). Every origin derived from the issuer is
// the one the dpop package gives a request to it: a request with its
// proof, sent to the issuer (or to a loopback name), is taken, and one to
// another origin is refused. An issuer that gives no origin is refused
// with an error that points to --dpop-origins; one whose host is made of
// host characters gives origins the verifier takes.
func FuzzDPoPOrigins(f *testing.F) {
	for _, s := range []struct {
		issuer, flag string
		defaulted    bool
		ip           []byte
		port         uint16
	}{
		{"https://auth.example/tenant", "", false, net.IPv4(127, 0, 0, 1).To4(), 8080},
		{"http://auth.example:8443", "", false, nil, 0},
		{"http://127.0.0.1:8080", "", true, net.IPv4(127, 0, 0, 1).To4(), 8080},
		{"http://[::]:9", "", true, net.IPv6unspecified, 9},
		{"http://[fe80::1%25eth0]:8080", "", false, nil, 0},
		{"http://[fe80::1%25eth0]:8080", "", true, net.ParseIP("fe80::1"), 8080},
		{"https://[FE80::1%251]", "", false, nil, 0},
		{"HTTPS://Auth.Example:443/", "", false, nil, 0},
		{"http://a%25b", "", false, nil, 0},
		{"http://user@auth.example", "", false, nil, 0},
		{"urn:example:issuer", "", false, nil, 0},
		{"https://auth.example", "https://a.example, https://b.example", false, nil, 0},
		{"https://auth.example", " * ", false, nil, 0},
		{"http://[fe80::1%eth0]:8080", "", false, nil, 0},
		{"http://ü.example", "", false, nil, 0},
		{"https://", "", false, nil, 0},
	} {
		f.Add(s.issuer, s.flag, s.defaulted, s.ip, s.port)
	}
	prover, err := dpop.NewProver(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), jwt.EdDSA, nil)
	if err != nil {
		f.Fatal(err)
	}
	replay := revoke.NewMemory(revoke.MemoryOptions{})
	f.Fuzz(func(t *testing.T, issuer, flag string, defaulted bool, ip []byte, port uint16) {
		on := true
		d := &dpopFlags{on: &on, origins: &flag}
		var ln net.Addr
		if len(ip) == net.IPv4len || len(ip) == net.IPv6len {
			ln = &net.TCPAddr{IP: net.IP(ip), Port: int(port)}
		}
		got, err := d.originList(issuer, defaulted, ln)
		if list := splitList(flag); len(list) > 0 {
			want := list
			if list[0] == "*" {
				want = nil
			}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("--dpop-origins %q: %q, %v; want %q", flag, got, err, want)
			}
			return
		}
		u, perr := url.Parse(issuer)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			if err == nil || !strings.Contains(err.Error(), "--dpop-origins") {
				t.Fatalf("issuer %q: %q, %v; want an error pointing to --dpop-origins", issuer, got, err)
			}
			return
		}
		if err != nil || len(got) == 0 {
			t.Fatalf("issuer %q: %q, %v", issuer, got, err)
		}
		tcp, _ := ln.(*net.TCPAddr)
		if extra := defaulted && tcp != nil && (tcp.IP.IsLoopback() || tcp.IP.IsUnspecified()); !extra && len(got) != 1 {
			t.Fatalf("issuer %q: %q, want its origin alone", issuer, got)
		}
		v, err := dpop.NewVerifier(dpop.Options{Replay: replay, Origins: got})
		if err != nil {
			if !errors.Is(err, dpop.ErrConfig) {
				t.Fatalf("issuer %q, origins %q: %v, want dpop.ErrConfig", issuer, got, err)
			}
			if hostBytesOnly(uriHost(u)) {
				t.Fatalf("issuer %q: its origins %q are refused: %v", issuer, got, err)
			}
			return
		}
		// send sends a request with its proof to scheme://host/oauth/token,
		// host as a Host header spells it.
		send := func(scheme, host string) error {
			target := &url.URL{Scheme: scheme, Host: host, Path: "/oauth/token"}
			if ut, err := url.Parse(target.Scheme + "://" + host); err == nil {
				target.Host = ut.Host
			}
			proof, err := prover.Proof("POST", target, "", "")
			if err != nil {
				return err
			}
			r := httptest.NewRequest("POST", "/oauth/token", nil)
			r.Host = host
			r.TLS = nil
			if scheme == "https" {
				r.TLS = &tls.ConnectionState{}
			}
			r.Header.Set("DPoP", proof)
			_, err = v.VerifyRequest(context.Background(), r, "", "")
			return err
		}
		if err := send(u.Scheme, uriHost(u)); err != nil {
			t.Fatalf("issuer %q, origins %q: a request to the issuer is refused: %v", issuer, got, err)
		}
		for _, o := range got[1:] {
			ou, err := url.Parse(o)
			if err != nil {
				t.Fatalf("issuer %q: origin %q: %v", issuer, o, err)
			}
			if want := u.Scheme + "://"; !strings.HasPrefix(o, want) || ou.Port() != strconv.Itoa(int(port)) {
				t.Fatalf("issuer %q: origin %q is not on %s and port %d", issuer, o, want, port)
			}
			if err := send(ou.Scheme, uriHost(ou)); err != nil {
				t.Fatalf("issuer %q, origins %q: a request to %q is refused: %v", issuer, got, o, err)
			}
		}
		other := "http"
		if u.Scheme == "http" {
			other = "https"
		}
		for _, o := range [][2]string{{u.Scheme, "other.invalid"}, {other, uriHost(u)}} {
			if err := send(o[0], o[1]); !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("issuer %q, origins %q: a request to %s://%s: %v, want dpop.ErrInvalidProof", issuer, got, o[0], o[1], err)
			}
		}
	})
}
